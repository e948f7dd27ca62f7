package translator

import (
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// confRequest is one request a conformance test makes and what it
// expects, in the shape of the suite's http.ExpectedResponse (and its
// gRPC counterpart): the request, then the answer.
type confRequest struct {
	// gateway is the Gateway ("namespace/name") the request is sent to;
	// the case's first Gateway when empty. port is the listener's port:
	// 80, or 443 with https, when 0.
	gateway string
	port    int
	https   bool
	sni     string // the TLS server name; host when empty
	host    string // the Host header; the Gateway's address when empty
	path    string // with the query, if any
	method  string
	headers map[string]string
	// grpc makes the request a gRPC call to service/method: an HTTP/2
	// POST to /service/method with gRPC's content type.
	grpc *grpcCall
	// backendResponse are headers the backend is asked to answer with
	// (the suite's BackendSetResponseHeaders).
	backendResponse map[string]string

	// status is the answer's status: 200 (forwarded) when 0. A gRPC call
	// answered UNIMPLEMENTED is Envoy's 404 for no route.
	status int
	// backend is the Service ("namespace/name") that gets the request, or
	// a prefix of it ("namespace/" when the test names no backend, as the
	// suite matches the backend's pod name by prefix);
	// weights instead are the share each Service is configured to get,
	// for a case that counts a distribution (one request cannot).
	backend string
	weights map[string]int
	// perBackend: the request may reach any of these Services, and each
	// must see its headers (a test that checks, per request, that the
	// backend it reached got that backend's header edits).
	perBackend map[string]map[string]string
	// seenPath and seenHost are what the backend sees; the request's
	// path (query included) and host when empty.
	seenPath, seenHost string
	// seenHeaders must reach the backend with these values (several
	// joined by ","); notSeen must not reach it.
	seenHeaders map[string]string
	notSeen     []string
	// responseHeaders must be on the response, noResponse must not.
	responseHeaders map[string]string
	noResponse      []string
	redirect        *confRedirect
	// h2c: the client speaks HTTP/2 without TLS, with prior knowledge;
	// the listener's connection manager must accept it (codec AUTO or
	// HTTP2).
	h2c bool
	// delay is how long the backend takes to answer (the suite's
	// ?delay= query on its echo server): Envoy answers 504 itself when
	// the route's timeout or per-try timeout runs out first.
	delay time.Duration
	// mirroredTo are the Services ("namespace/name") that get a copy,
	// with the percent of requests each copies (100 when 0).
	mirroredTo map[string]float64
}

type grpcCall struct{ service, method string }

// confRedirect is the Location of a redirect; an empty field is the
// request's own (the suite's defaults), and an empty port admits the
// scheme's default or none.
type confRedirect struct{ scheme, host, port, path string }

// confStream is one connection of a TLS, TCP or UDP test: where it goes
// and where it lands.
type confStream struct {
	gateway string
	port    int
	udp     bool
	sni     string // for a TLS listener
	// backend is the Service ("namespace/name") that gets the
	// connection; weights the configured shares; refused: none does.
	backend string
	weights map[string]int
	refused bool
	// terminated: the listener terminates TLS before it forwards.
	terminated bool
}

// gatewayAddress is the address a Gateway's status gives, or the
// invalid Addr when it has none.
func gatewayAddress(res Result, gateway string) netip.Addr {
	ns, name, _ := strings.Cut(gateway, "/")
	for _, g := range res.Gateway.Gateways {
		if g.Namespace == ns && g.Name == name {
			for _, a := range g.Status.Addresses {
				if ip, err := netip.ParseAddr(a.Value); err == nil {
					return ip
				}
			}
		}
	}
	return netip.Addr{}
}

// gatewayListener is the Envoy listener a client reaches when it
// connects to a Gateway's port: the one bound to the Gateway's own
// address, or, when the Gateway has none, the fleet's shared listener
// on the port (the http and https listeners for 80 and 443). The client
// dials the address, so nil means the connection is refused.
func gatewayListener(t *testing.T, res Result, gateway string, port int, udp bool) (*listenerv3.Listener, netip.Addr) {
	t.Helper()
	addr := gatewayAddress(res, gateway)
	var shared *listenerv3.Listener
	for _, l := range res.Listeners {
		sa := l.GetAddress().GetSocketAddress()
		if sa == nil || int(sa.GetPortValue()) != port || (sa.GetProtocol().String() == "UDP") != udp {
			continue
		}
		a, err := netip.ParseAddr(sa.GetAddress())
		if err != nil {
			t.Fatalf("listener %s: address %q", l.GetName(), sa.GetAddress())
		}
		switch {
		case addr.IsValid() && a == addr:
			return l, addr
		case a.IsUnspecified() && shared == nil:
			shared = l
		}
	}
	if !addr.IsValid() {
		addr = netip.MustParseAddr("192.0.2.200") // a fleet address for the Host header
	}
	return shared, addr
}

// gatewayChain is the filter chain a connection with sni (over TLS when
// tls) takes, as Envoy's filter chain match orders the criteria fairway
// uses: destination port, then server name (exact, then the longest
// wildcard, then chains naming none), then transport protocol, then
// source; the default chain when none matches, nil when there is none.
func gatewayChain(t *testing.T, l *listenerv3.Listener, port int, sni string, tls bool) *listenerv3.FilterChain {
	t.Helper()
	chains := l.GetFilterChains()
	for _, fc := range chains {
		onlyFields(t, "filter chain match of "+fc.GetName(), fc.GetFilterChainMatch(), "destination_port", "server_names", "transport_protocol", "source_prefix_ranges")
	}
	narrow := func(keep func(*listenerv3.FilterChainMatch) bool, fallback func(*listenerv3.FilterChainMatch) bool) {
		var out, rest []*listenerv3.FilterChain
		for _, fc := range chains {
			if keep(fc.GetFilterChainMatch()) {
				out = append(out, fc)
			} else if fallback(fc.GetFilterChainMatch()) {
				rest = append(rest, fc)
			}
		}
		if len(out) == 0 {
			out = rest
		}
		chains = out
	}
	narrow(func(m *listenerv3.FilterChainMatch) bool {
		return m.GetDestinationPort() != nil && int(m.GetDestinationPort().GetValue()) == port
	},
		func(m *listenerv3.FilterChainMatch) bool { return m.GetDestinationPort() == nil })
	if tls {
		chains = byName(chains, strings.ToLower(sni))
	} else {
		narrow(func(m *listenerv3.FilterChainMatch) bool { return len(m.GetServerNames()) == 0 }, func(*listenerv3.FilterChainMatch) bool { return false })
	}
	protocol := map[bool]string{true: "tls", false: "raw_buffer"}[tls]
	narrow(func(m *listenerv3.FilterChainMatch) bool { return m.GetTransportProtocol() == protocol },
		func(m *listenerv3.FilterChainMatch) bool { return m.GetTransportProtocol() == "" })
	if fc := bySource(t, chains, netip.MustParseAddr("192.0.2.1")); fc != nil {
		return fc
	}
	return l.GetDefaultFilterChain()
}

// byName are the chains of the most specific server name that matches
// sni: exact, then the longest "*." suffix, then the chains naming none.
func byName(chains []*listenerv3.FilterChain, sni string) []*listenerv3.FilterChain {
	best := ""
	for _, fc := range chains {
		for _, n := range fc.GetFilterChainMatch().GetServerNames() {
			switch {
			case n == sni:
				best = n
			case strings.HasPrefix(n, "*.") && strings.HasSuffix(sni, n[1:]) && best != sni && len(n) > len(best):
				best = n
			}
		}
	}
	var out []*listenerv3.FilterChain
	for _, fc := range chains {
		names := fc.GetFilterChainMatch().GetServerNames()
		if (best == "" && len(names) == 0) || (best != "" && slices.Contains(names, best)) {
			out = append(out, fc)
		}
	}
	return out
}

// gatewayRouteTable is the route configuration a request to a Gateway's
// listener is routed by, and the address the client dialled; nil when
// the connection is refused or the TLS handshake finds no chain.
func gatewayRouteTable(t *testing.T, res Result, gateway string, port int, sni string, https bool) (*routev3.RouteConfiguration, *hcmv3.HttpConnectionManager, netip.Addr) {
	t.Helper()
	l, addr := gatewayListener(t, res, gateway, port, false)
	if l == nil {
		return nil, nil, addr
	}
	fc := gatewayChain(t, l, port, sni, https)
	if fc == nil {
		return nil, nil, addr
	}
	if https != (fc.GetTransportSocket() != nil) {
		t.Fatalf("listener %s port %d: a request (TLS %v) takes chain %s, whose TLS is %v", l.GetName(), port, https, fc.GetName(), fc.GetTransportSocket() != nil)
	}
	for _, f := range fc.GetFilters() {
		if !f.GetTypedConfig().MessageIs(&hcmv3.HttpConnectionManager{}) { // by type: fairway names its filters its own way
			continue
		}
		hcm := unpack(t, f.GetTypedConfig(), &hcmv3.HttpConnectionManager{})
		if rc := hcm.GetRouteConfig(); rc != nil {
			return rc, hcm, addr
		}
		rc := routeConfig(res, hcm.GetRds().GetRouteConfigName())
		if rc == nil {
			t.Fatalf("listener %s: RDS names %q, which the Result does not hold", l.GetName(), hcm.GetRds().GetRouteConfigName())
		}
		return rc, hcm, addr
	}
	t.Fatalf("listener %s port %d: chain %s has no HTTP connection manager", l.GetName(), port, fc.GetName())
	return nil, nil, addr
}

// serviceOf is the Service ("namespace/name") a cluster sends to: fairway
// names clusters <namespace>/<service>/<port>[/variant].
func serviceOf(cluster string) string {
	parts := strings.SplitN(cluster, "/", 3)
	if len(parts) < 2 {
		return cluster
	}
	return parts[0] + "/" + parts[1]
}

func hasCluster(res Result, name string) bool {
	for _, c := range res.Clusters {
		if c.GetName() == name {
			return true
		}
	}
	return false
}

// checkRequest makes one request to the Translate result and checks its
// answer the way the suite's CompareRoundTrip does.
func checkConfRequest(t *testing.T, res Result, c *conformanceCase, r confRequest) {
	t.Helper()
	gateway, port := r.gateway, r.port
	if gateway == "" {
		gateway = c.gateways[0]
	}
	scheme := "http"
	if r.https {
		scheme = "https"
	}
	if port == 0 {
		port = map[bool]int{false: 80, true: 443}[r.https]
	}
	host, sni := r.host, r.sni
	rc, hcm, addr := gatewayRouteTable(t, res, gateway, port, orZero(sni, stripPort(host)), r.https)
	if host == "" {
		host = addr.String()
		if port != 80 && port != 443 {
			host = net.JoinHostPort(host, strconv.Itoa(port))
		}
	}
	what := scheme + "://" + host + r.path
	if rc == nil {
		t.Errorf("%s: the connection to %s port %d is refused: no listener or chain takes it", what, gateway, port)
		return
	}
	if codec := hcm.GetCodecType(); r.h2c && codec != hcmv3.HttpConnectionManager_AUTO && codec != hcmv3.HttpConnectionManager_HTTP2 {
		t.Errorf("%s: the listener's codec %v refuses HTTP/2 with prior knowledge", what, codec)
	}
	req := request{scheme: scheme, authority: host, path: r.path, method: r.method, headers: r.headers, backendResponse: r.backendResponse}
	if r.grpc != nil {
		req.method, req.path = "POST", "/"+r.grpc.service+"/"+r.grpc.method
		req.headers = mergeHeaders(r.headers, map[string]string{"content-type": "application/grpc", "te": "trailers"})
		what = "grpc " + host + req.path
	}
	out := evaluate(t, rc, req)
	checkAnswer(t, res, what, r, req, out)
}

func mergeHeaders(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// reporter is what the checks report differences to: the case's
// *testing.T, or a recorder in the checks' own tests.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// checkAnswer compares an outcome with what the request expects.
func checkAnswer(t reporter, res Result, what string, r confRequest, req request, out outcome) {
	t.Helper()
	want := orZero(r.status, 200)
	if out.status != 0 {
		if out.status != want {
			t.Errorf("%s: Envoy answers %d itself (route %s), want %d", what, out.status, out.route.GetName(), want)
		} else if r.redirect != nil {
			checkRedirect(t, what, r, req, out.location)
		}
		return
	}
	clusters := []string{out.cluster}
	if out.split != nil {
		clusters = nil
		for c, w := range out.split {
			if w > 0 {
				clusters = append(clusters, c)
			}
		}
		slices.Sort(clusters)
	}
	if missingCluster(t, res, what, want, clusters, out) {
		return
	}
	if wait := backendWait(out.route.GetRoute()); r.delay > 0 && wait > 0 && r.delay >= wait {
		if want != 504 {
			t.Errorf("%s: the route waits %v for a backend that takes %v: Envoy answers 504, want %d", what, wait, r.delay, want)
		}
		return
	}
	if want != 200 {
		t.Errorf("%s: forwarded to %v, want Envoy's %d", what, clusters, want)
		return
	}
	if r.perBackend != nil {
		for _, c := range clusters {
			want, ok := r.perBackend[serviceOf(c)]
			if !ok {
				t.Errorf("%s: may reach %s, want only %v", what, c, r.perBackend)
				continue
			}
			for k, v := range want {
				if got, ok := out.seen[c].get(k); got != v {
					t.Errorf("%s: %s sees header %s %q (present %v), want %q", what, c, k, got, ok, v)
				}
			}
		}
	} else if r.weights != nil {
		checkWeights(t, what, r.weights, out.split, out.cluster)
	} else if len(clusters) != 1 || !strings.HasPrefix(serviceOf(clusters[0]), r.backend) {
		t.Errorf("%s: forwarded to %v, want Service %s", what, clusters, r.backend)
		return
	}
	checkSeen(t, what, r, req, out, clusters)
}

// missingCluster: the request is forwarded to a cluster the Result does
// not hold, so Envoy answers it with cluster_not_found_response_code,
// which must be the status the test wants (a share of a split cannot be).
func missingCluster(t reporter, res Result, what string, want int, clusters []string, out outcome) bool {
	t.Helper()
	for _, c := range clusters {
		if hasCluster(res, c) {
			continue
		}
		switch {
		case want == 200:
			t.Errorf("%s: forwarded to missing cluster %s (answered %d), want a backend", what, c, out.clusterNotFound)
		case out.clusterNotFound != want || len(clusters) > 1:
			t.Errorf("%s: forwarded to %v, of which the Result does not hold %s: Envoy answers %d for it, want %d for every request", what, clusters, c, out.clusterNotFound, want)
		}
		return true
	}
	return false
}

// backendWait is how long Envoy waits for a backend's answer: the
// route's timeout (15 s when unset, none when 0), or the retry policy's
// per-try timeout when that is shorter; 0 is no limit.
func backendWait(a *routev3.RouteAction) time.Duration {
	wait := 15 * time.Second
	if a.GetTimeout() != nil {
		wait = a.GetTimeout().AsDuration()
	}
	if try := a.GetRetryPolicy().GetPerTryTimeout().AsDuration(); try > 0 && (wait == 0 || try < wait) {
		wait = try
	}
	return wait
}

// checkWeights compares the configured split, by Service, with the
// shares the test expects (as fractions: 70/30 is 7/3).
func checkWeights(t reporter, what string, want map[string]int, split map[string]uint32, single string) {
	t.Helper()
	got := map[string]uint64{}
	if split == nil {
		got[serviceOf(single)] = 1
	}
	for c, w := range split {
		got[serviceOf(c)] += uint64(w)
	}
	var gotSum, wantSum uint64
	for _, w := range got {
		gotSum += w
	}
	for _, w := range want {
		wantSum += uint64(w)
	}
	for svc := range mergeKeys(got, want) {
		if got[svc]*wantSum != uint64(want[svc])*gotSum {
			t.Errorf("%s: weights %v by Service, want shares %v", what, got, want)
			return
		}
	}
}

func mergeKeys(a map[string]uint64, b map[string]int) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// checkSeen compares what each backend the request may reach sees, and
// the response headers, with the expectation.
func checkSeen(t reporter, what string, r confRequest, req request, out outcome, clusters []string) {
	t.Helper()
	if p := orZero(r.seenPath, req.path); out.path != p {
		t.Errorf("%s: the backend sees path %q, want %q", what, out.path, p)
	}
	if r.seenHost != "" && out.host != r.seenHost {
		t.Errorf("%s: the backend sees host %q, want %q", what, out.host, r.seenHost)
	}
	for _, c := range clusters {
		seen, answered := out.seen[c], out.answered[c]
		for k, v := range r.seenHeaders {
			if got, ok := seen.get(k); !ok || got != v {
				t.Errorf("%s: %s sees header %s %q (present %v), want %q", what, c, k, got, ok, v)
			}
		}
		for _, k := range r.notSeen {
			if got, ok := seen.get(k); ok {
				t.Errorf("%s: %s sees header %s %q, want none", what, c, k, got)
			}
		}
		for k, v := range out.responseHeaders {
			answered[strings.ToLower(k)] = []string{v}
		}
		for k, v := range r.responseHeaders {
			if got, ok := answered.get(k); !ok || got != v {
				t.Errorf("%s: response header %s %q (present %v), want %q", what, k, got, ok, v)
			}
		}
		for _, k := range r.noResponse {
			if got, ok := answered.get(k); ok {
				t.Errorf("%s: response header %s %q, want none", what, k, got)
			}
		}
	}
	checkMirrors(t, what, r.mirroredTo, out.mirrors)
}

func checkMirrors(t reporter, what string, want map[string]float64, got []mirror) {
	t.Helper()
	have := map[string]float64{}
	for _, m := range got {
		have[serviceOf(m.cluster)] = m.percent
	}
	if len(have) != len(want) {
		t.Errorf("%s: mirrored to %v, want %v", what, have, want)
		return
	}
	for svc, p := range want {
		if g, ok := have[svc]; !ok || g != orZero(p, 100) {
			t.Errorf("%s: mirrored to %v, want %v", what, have, want)
		}
	}
}

// checkRedirect compares a Location with the expected redirect, with the
// suite's defaults for what the test leaves out.
func checkRedirect(t reporter, what string, r confRequest, req request, location string) {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Errorf("%s: Location %q: %v", what, location, err)
		return
	}
	reqPath, _, _ := strings.Cut(req.path, "?")
	want := *r.redirect
	want.scheme, want.path = orZero(want.scheme, req.scheme), orZero(want.path, reqPath)
	if want.host == "" {
		want.host = u.Hostname()
	}
	port := u.Port()
	portOK := port == want.port || want.port == "" && (port == "" || port == map[string]string{"http": "80", "https": "443"}[u.Scheme])
	if u.Scheme != want.scheme || u.Hostname() != want.host || u.Path != want.path || !portOK {
		t.Errorf("%s: redirected to %s, want scheme %q host %q port %q path %q", what, location, want.scheme, want.host, want.port, want.path)
	}
}

// orZero is the first of its arguments that is not the zero value.
func orZero[T comparable](vals ...T) T {
	var zero T
	for _, v := range vals {
		if v != zero {
			return v
		}
	}
	return zero
}

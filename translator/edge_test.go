package translator

import (
	"net/netip"
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// translateGolden translates a golden case's input.
func translateGolden(t *testing.T, name string) Result {
	t.Helper()
	in := readGoldenInput(t, "testdata/"+name+"/input.yaml")
	res := Translate(in.Input, in.Options)
	if err := res.err; err != nil {
		t.Fatal(err)
	}
	return res
}

// goldenResults translates each golden case once for a table of cases
// that asks several questions of it.
type goldenResults map[string]Result

func (g goldenResults) get(t *testing.T, name string) Result {
	t.Helper()
	res, ok := g[name]
	if !ok {
		res = translateGolden(t, name)
		g[name] = res
	}
	return res
}

// routeConfig is the named route configuration of res, or nil.
func routeConfig(res Result, name string) *routev3.RouteConfiguration {
	for _, rc := range res.Routes {
		if rc.GetName() == name {
			return rc
		}
	}
	return nil
}

// TestOtherClassAnswers404 is the conformance scenario: with fairway's
// IngressClass present and only another class's Ingress, a request for
// that Ingress's host reaches the http listener and gets a 404.
func TestOtherClassAnswers404(t *testing.T) {
	res := translateGolden(t, "ingressclass-other-class-404")
	if len(res.Listeners) != 1 || res.Listeners[0].GetName() != envoy.HTTPListenerName {
		t.Fatalf("listeners %v, want only the http listener", res.Listeners)
	}
	rc := routeConfig(res, envoy.HTTPRouteConfig)
	if rc == nil {
		t.Fatal("no http route configuration")
	}
	for _, path := range []string{"/", "/x"} {
		if got := pick(t, rc, "other.example.com", path); got != "404" {
			t.Errorf("other.example.com%s: %s, want 404", path, got)
		}
	}
}

// TestHTTPListenerFollowsClasses: the http listener comes with fairway's
// first IngressClass and goes with its last, whatever the Ingresses, and
// its claim is dated by the oldest class.
func TestHTTPListenerFollowsClasses(t *testing.T) {
	in := readGoldenInput(t, "testdata/ingressclass-other-class-404/input.yaml").Input
	e := NewEngine(Options{})
	e.Sync(Input{Services: in.Services, Ingresses: in.Ingresses})
	if out := e.Output(); out.Envoy.Get(KindListener, envoy.HTTPListenerName) != nil {
		t.Fatal("an http listener without an IngressClass of fairway's")
	}
	e.Sync(in)
	out := e.Output()
	if out.Envoy.Get(KindListener, envoy.HTTPListenerName) == nil {
		t.Fatal("no http listener with fairway's IngressClasses")
	}
	if got := e.claims.httpClaim.ref.Name; got != "fairway-internal" {
		t.Errorf("the http claim is dated by %s, want the oldest class fairway-internal", got)
	}
	e.Sync(Input{Services: in.Services, Ingresses: in.Ingresses})
	if out := e.Output(); out.Envoy.Get(KindListener, envoy.HTTPListenerName) != nil || out.Envoy.Get(KindRoute, envoy.HTTPRouteConfig) != nil {
		t.Fatal("the http listener outlived fairway's IngressClasses")
	}
}

// TestSSLRedirectOutcomes follows plain-HTTP and https requests through the
// route tables of the redirect goldens: status and Location as Envoy's
// https_redirect writes them, and what is still forwarded.
func TestSSLRedirectOutcomes(t *testing.T) {
	const web, legacy = "default/web/80", "default/legacy/80"
	const solver = "default/cm-acme-http-solver-p4x9k/8089"
	const token = "/.well-known/acme-challenge/9kF3x_uQ2mVbT7rLcN0pZsYwHdEgJaKo1iRt5eUy8Ws"
	cases := []struct {
		golden, table, authority, path string
		status                         int
		location, cluster              string
	}{
		{"ssl-redirect-global", envoy.HTTPListenerName, "shop.example.com", "/a/b?x=1&y=2", 308, "https://shop.example.com/a/b?x=1&y=2", ""},
		{"ssl-redirect-global", envoy.HTTPListenerName, "SHOP.example.com", "/", 308, "https://SHOP.example.com/", ""},
		{"ssl-redirect-global", envoy.HTTPListenerName, "shop.example.com:80", "/", 308, "https://shop.example.com/", ""},
		{"ssl-redirect-global", envoy.HTTPListenerName, "shop.example.com:8080", "/", 308, "https://shop.example.com:8080/", ""},
		{"ssl-redirect-global", envoy.HTTPSListenerName, "shop.example.com", "/a", 0, "", web},
		{"ssl-redirect-global", envoy.HTTPListenerName, "plain.example.com", "/a", 0, "", web},
		{"ssl-redirect-global", envoy.HTTPListenerName, "api.example.com", "/a", 0, "", web},
		{"ssl-redirect-global", envoy.HTTPListenerName, "unknown.example.com", "/a", 404, "", ""},
		{"ssl-redirect-https-port", envoy.HTTPListenerName, "shop.example.com:8080", "/a?q", 308, "https://shop.example.com:8443/a?q", ""},
		{"ssl-redirect-https-port", envoy.HTTPListenerName, "shop.example.com", "/", 308, "https://shop.example.com:8443/", ""},
		{"annotation-ssl-redirect", envoy.HTTPListenerName, "shop.example.com", "/x", 308, "https://shop.example.com/x", ""},
		{"annotation-ssl-redirect", envoy.HTTPListenerName, "shop.example.com", "/legacy/x", 0, "", legacy},
		{"annotation-ssl-redirect", envoy.HTTPListenerName, "nocert.example.com", "/x", 0, "", web},
		{"annotation-ssl-redirect-invalid", envoy.HTTPListenerName, "shop.example.com", "/x", 0, "", web},
		{"annotation-force-ssl-redirect", envoy.HTTPListenerName, "forced.example.com", "/x?a", 308, "https://forced.example.com/x?a", ""},
		{"annotation-force-ssl-redirect", envoy.HTTPListenerName, "both.example.com", "/", 308, "https://both.example.com/", ""},
		{"annotation-force-ssl-redirect-invalid", envoy.HTTPListenerName, "forced.example.com", "/x", 0, "", web},
		{"ssl-redirect-acme", envoy.HTTPListenerName, "shop.example.com", token, 0, "", solver},
		{"ssl-redirect-acme", envoy.HTTPListenerName, "shop.example.com", "/.well-known/acme-challenge/other", 0, "", web},
		{"ssl-redirect-acme", envoy.HTTPListenerName, "shop.example.com", "/.well-known/other", 308, "https://shop.example.com/.well-known/other", ""},
		{"ssl-redirect-acme", envoy.HTTPListenerName, "shop.example.com", "/shop", 308, "https://shop.example.com/shop", ""},
		{"ssl-redirect-acme", envoy.HTTPSListenerName, "shop.example.com", token, 0, "", solver},
	}
	goldens := goldenResults{}
	for _, c := range cases {
		res := goldens.get(t, c.golden)
		rc := tableFor(t, res, c.table, c.authority)
		if rc == nil {
			t.Fatalf("%s: no route configuration %s", c.golden, c.table)
		}
		// cert-manager's solver Ingress carries a whitelist-source-range
		// that admits every address: a client from anywhere.
		out := evaluate(t, rc, request{authority: c.authority, path: c.path, client: netip.MustParseAddr("203.0.113.9")})
		if out.status != c.status || out.location != c.location || out.cluster != c.cluster {
			t.Errorf("%s %s %s%s: got %d %q %q, want %d %q %q", c.golden, c.table, c.authority, c.path,
				out.status, out.location, out.cluster, c.status, c.location, c.cluster)
		}
	}
}

// TestSSLRedirectFollowsCertificates: a certificate that appears turns the
// redirect of an ssl-redirect Ingress on, and its going turns it off; the
// incremental engine re-encodes the plain-HTTP side and agrees with a cold
// translation at each step.
func TestSSLRedirectFollowsCertificates(t *testing.T) {
	in := readGoldenInput(t, "testdata/annotation-ssl-redirect/input.yaml").Input
	secrets := in.Secrets
	e := NewEngine(Options{})
	step := func(name string, withSecret bool, want int) {
		t.Helper()
		in.Secrets = nil
		if withSecret {
			in.Secrets = secrets
		}
		e.Sync(in)
		warm := e.Output()
		cold := NewEngine(Options{})
		cold.Sync(in)
		if diff := compareOutputs(warm, cold.Output()); diff != "" {
			t.Fatalf("%s: incremental differs from scratch:\n%s", name, diff)
		}
		rc := routeConfig(warm.Result(), envoy.HTTPRouteConfig)
		if got := evaluate(t, rc, request{authority: "shop.example.com", path: "/x"}).status; got != want {
			t.Fatalf("%s: http://shop.example.com/x answered %d, want %d", name, got, want)
		}
	}
	step("no certificate yet", false, 0)
	step("the certificate appears", true, 308)
	step("the certificate goes", false, 0)
	step("and comes back", true, 308)
}

// tlsEntry is a spec.tls entry for one host.
func tlsEntry(host, secret string) networkingv1.IngressTLS {
	return networkingv1.IngressTLS{Hosts: []string{host}, SecretName: secret}
}

func init() { configEffects = append(configEffects, realIPEffect) }

// realIPEffect follows the route configuration's request headers, the ones
// fairway sets: X-Real-IP from the trusted client address, replacing what
// the client sent. Any other header, value or append rule fails the test.
func realIPEffect(t *testing.T, rc *routev3.RouteConfiguration, req request, out *outcome) {
	t.Helper()
	unknown := func(h string) bool { return !isClientCertHeader(h) }
	if slices.ContainsFunc(rc.GetRequestHeadersToRemove(), unknown) || len(rc.GetResponseHeadersToAdd()) > 0 || len(rc.GetResponseHeadersToRemove()) > 0 {
		t.Fatalf("route configuration %s: header settings this evaluator does not know", rc.GetName())
	}
	for _, h := range rc.GetRequestHeadersToAdd() {
		if isClientCertHeader(h.GetHeader().GetKey()) {
			continue // clientCertEffect's (evaluator_clientcert_test.go)
		}
		if h.GetHeader().GetKey() != envoy.RealIPHeader || h.GetHeader().GetValue() != envoy.TrustedClientAddress ||
			h.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD || h.GetKeepEmptyValue() {
			t.Fatalf("route configuration %s: a request header this evaluator does not know: %v", rc.GetName(), h)
		}
		if out.upstreamHeaders == nil {
			out.upstreamHeaders = map[string]string{}
		}
		out.upstreamHeaders[envoy.RealIPHeader] = trustedClient(req).String()
	}
}

// trustedClient is the address Envoy trusts for req; the evaluator's
// requests come from 192.0.2.1 unless they say otherwise.
func trustedClient(req request) netip.Addr {
	if req.client.IsValid() {
		return req.client
	}
	return netip.MustParseAddr("192.0.2.1")
}

// TestRealIP: every forwarded request of both tables carries X-Real-IP, the
// trusted client address, over a value the client sent; Envoy's own
// answers (redirects, 503, 404) forward nothing.
func TestRealIP(t *testing.T) {
	res := translateGolden(t, "ssl-redirect-global")
	client := netip.MustParseAddr("203.0.113.7")
	for _, table := range []string{envoy.HTTPListenerName, envoy.HTTPSListenerName} {
		rc := tableFor(t, res, table, "api.example.com")
		out := evaluate(t, rc, request{authority: "api.example.com", path: "/", client: client, headers: map[string]string{"x-real-ip": "10.6.6.6"}})
		if out.cluster == "" || out.upstreamHeaders[envoy.RealIPHeader] != "203.0.113.7" {
			t.Errorf("%s: forwarded to %q with X-Real-IP %q, want 203.0.113.7", table, out.cluster, out.upstreamHeaders[envoy.RealIPHeader])
		}
	}
	out := evaluate(t, routeConfig(res, envoy.HTTPRouteConfig), request{authority: "shop.example.com", path: "/", client: client})
	if out.status != 308 || out.upstreamHeaders != nil {
		t.Errorf("a redirect: %d with upstream headers %v", out.status, out.upstreamHeaders)
	}
}

// TestProxylessNeverRedirects: a host whose plain-HTTP routes redirect
// keeps forwarding in its proxyless API listener: gRPC clients dial it
// directly, and a redirect would fail their RPCs.
func TestProxylessNeverRedirects(t *testing.T) {
	in := readGoldenInput(t, "testdata/annotation-force-ssl-redirect/input.yaml").Input
	res := Translate(in, Options{Proxyless: true, SSLRedirect: true})
	found := false
	for _, l := range res.Proxyless.Listeners {
		if l.GetName() != "forced.example.com" {
			continue
		}
		found = true
		hcm := &hcmv3.HttpConnectionManager{}
		if err := l.GetApiListener().GetApiListener().UnmarshalTo(hcm); err != nil {
			t.Fatal(err)
		}
		rc := hcm.GetRouteConfig()
		if out := evaluate(t, rc, request{authority: "forced.example.com", path: "/x"}); out.status != 0 || out.cluster != "default/web/80" {
			t.Errorf("proxyless forced.example.com/x: %d %q, want forwarded to default/web/80", out.status, out.cluster)
		}
	}
	if !found {
		t.Fatal("no proxyless API listener for forced.example.com")
	}
	rc := routeConfig(res, envoy.HTTPRouteConfig)
	if out := evaluate(t, rc, request{authority: "forced.example.com", path: "/x"}); out.status != 308 {
		t.Errorf("the fleet's plain HTTP answered %d, want 308", out.status)
	}
}

// TestSSLRedirectNeedsOwnCertificate: a host served only by the default
// certificate (a spec.tls entry without hosts) is not redirected, since a
// client's name check would fail on it; the host with its own is.
func TestSSLRedirectNeedsOwnCertificate(t *testing.T) {
	in := readGoldenInput(t, "testdata/tls-default-and-host/input.yaml").Input
	other := in.Ingresses[0].DeepCopy()
	other.Name, other.Spec.TLS = "other", nil
	other.Spec.Rules[0].Host = "other.example.com"
	in.Ingresses = append(in.Ingresses, other)
	rc := routeConfig(Translate(in, Options{SSLRedirect: true}), envoy.HTTPRouteConfig)
	if out := evaluate(t, rc, request{authority: "shop.example.com", path: "/"}); out.status != 308 {
		t.Errorf("shop.example.com, with its own certificate: %d, want 308", out.status)
	}
	if out := evaluate(t, rc, request{authority: "other.example.com", path: "/"}); out.status != 0 || out.cluster != "default/web/80" {
		t.Errorf("other.example.com, default certificate only: %d %q, want forwarded", out.status, out.cluster)
	}
}

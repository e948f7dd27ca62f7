package translator

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"

	"github.com/fairwayhq/fairway/envoy"
)

// misdirectedScenario is the tls-sni-misdirected golden, and with
// withDefault a default certificate too (the wildcard's Secret).
func misdirectedScenario(t *testing.T, withDefault bool) Result {
	t.Helper()
	in := readGoldenInput(t, "testdata/tls-sni-misdirected/input.yaml").Input
	if withDefault {
		ing := in.Ingresses[0].DeepCopy()
		ing.Spec.TLS = append(ing.Spec.TLS, ing.Spec.TLS[1])
		ing.Spec.TLS[len(ing.Spec.TLS)-1].Hosts = nil
		in.Ingresses[0] = ing
	}
	res := Translate(in, Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res
}

// TestSNIAndHostAgree: on a connection whose SNI picked one TLS host's
// chain, a request for a Host that another chain serves gets 421
// Misdirected Request (a browser that coalesced it onto a connection of
// a shared or wildcard certificate retries on its own), never the other
// host's routes; a Host the chain serves is routed as before, port and
// case aside. Without SNI the default chain serves the hosts that have no
// chain of their own and answers 421 for those that do.
func TestSNIAndHostAgree(t *testing.T) {
	cases := []struct {
		sni, authority, path string
		want                 string
	}{
		{"shop.example.com", "shop.example.com", "/", "default/shop/80"},
		{"shop.example.com", "SHOP.example.com:443", "/x", "default/shop/80"},
		{"shop.example.com", "api.example.com", "/", "421"}, // one certificate: coalesced
		{"api.example.com", "api.example.com", "/", "default/api/80"},
		{"shop.example.com", "blog.example.com", "/", "421"},
		{"shop.example.com", "plain.example.org", "/", "421"},
		{"blog.example.com", "blog.example.com", "/", "default/blog/80"},
		{"x.example.com", "blog.example.com", "/", "default/blog/80"}, // the same chain: as before
		{"x.example.com", "x.example.com", "/app/1", "default/wild/80"},
		{"x.example.com", "x.example.com", "/other", "default/default/80"},
		{"x.example.com", "shop.example.com", "/", "421"},
		{"x.example.com", "bare.example.com", "/app", "421"},
		{"x.example.com", "example.org", "/shared", "421"},
		{"a.b.example.com", "a.b.example.com", "/shared", "default/hostless/80"}, // deeper than the wildcard's one label
		{"a.b.example.com", "a.b.example.com", "/app", "default/default/80"},
		{"bare.example.com", "bare.example.com", "/app", "default/wild/80"}, // no rules of its own: the wildcard's
		{"bare.example.com", "bare.example.com", "/", "default/default/80"},
		{"bare.example.com", "x.example.com", "/app", "421"},
	}
	res := misdirectedScenario(t, false)
	for _, c := range cases {
		rc := sniTable(t, res, c.sni)
		if rc == nil {
			t.Fatalf("SNI %s: no chain", c.sni)
		}
		if got := pick(t, rc, c.authority, c.path); got != c.want {
			t.Errorf("SNI %s, Host %s, %s: got %s, want %s", c.sni, c.authority, c.path, got, c.want)
		}
	}
	if sniChain(res, "example.org") != nil {
		t.Errorf("without a default certificate, an SNI no host has gets a chain")
	}
	withDefault := misdirectedScenario(t, true)
	for _, c := range []struct{ sni, authority, path, want string }{
		{"", "plain.example.org", "/", "default/plain/80"},
		{"", "unknown.example.org", "/shared", "default/hostless/80"},
		{"", "unknown.example.org", "/", "default/default/80"},
		{"", "shop.example.com", "/", "421"},
		{"", "x.example.com", "/app", "421"},
		{"plain.example.org", "plain.example.org", "/", "default/plain/80"},
		{"shop.example.com", "plain.example.org", "/", "421"},
	} {
		if got := pick(t, sniTable(t, withDefault, c.sni), c.authority, c.path); got != c.want {
			t.Errorf("default certificate: SNI %q, Host %s, %s: got %s, want %s", c.sni, c.authority, c.path, got, c.want)
		}
	}
}

// singleHTTPSTable is the https route configuration as it was before the
// listener was split by SNI: every virtual host with a certificate
// (directly, through a wildcard TLS host, or the default certificate) and
// the catch-all, in host order, in one table. It flattens the engine's
// state, so the split tables can be held to the answers it gives.
func singleHTTPSTable(t *testing.T, e *Engine) *routev3.RouteConfiguration {
	t.Helper()
	states := e.hostTable()
	var parts []*Resource
	for i, st := range states {
		if st != nil && st.vhost != nil && e.tls.config.covers(e.hostOrder[i]) {
			parts = append(parts, st.vhost)
		}
	}
	table := routeTable{name: envoy.HTTPSRouteConfig}
	var rc routev3.RouteConfiguration
	if err := proto.Unmarshal(table.compose(parts).Bytes, &rc); err != nil {
		t.Fatal(err)
	}
	return &rc
}

// requestNames are the names to send as SNI and Host for a case: its
// hosts, a name of one label and one of two under each wildcard, and one
// that no rule names.
func requestNames(in Input) []string {
	names := []string{"unknown.example.org"}
	add := func(host string) {
		if host == "" {
			return
		}
		if isWildcard(host) {
			names = append(names, "x"+host[1:], "a.b"+host[1:])
		} else {
			names = append(names, host)
		}
	}
	for _, ing := range in.Ingresses {
		for _, tls := range ing.Spec.TLS {
			for _, h := range tls.Hosts {
				add(h)
			}
		}
		for _, r := range ing.Spec.Rules {
			add(r.Host)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// requestPaths are the rules' paths, a path under each, and two no rule
// names.
func requestPaths(in Input) []string {
	paths := []string{"/", "/zz-none"}
	for _, ing := range in.Ingresses {
		for _, r := range ing.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				paths = append(paths, p.Path, strings.TrimSuffix(p.Path, "/")+"/sub")
			}
		}
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// TestHTTPSSplitKeepsRouting: across every golden with an https listener,
// each name sent as SNI and every name as Host, for every rule's path and
// more: where the Host's SNI would pick the same chain, the chain's table
// answers what the single https table answered; where it would pick
// another chain (or none), 421.
func TestHTTPSSplitKeepsRouting(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/input.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checked, goldens := 0, 0
	for _, path := range dirs {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(path), "output.yaml"))
		if err != nil || !strings.Contains(string(data), "route_config_name: https") {
			continue
		}
		goldens++
		in := readGoldenInput(t, path)
		checked += checkSplit(t, filepath.Dir(path), in.Input, in.Options)
	}
	if goldens < 10 || checked < 300 {
		t.Errorf("only %d goldens and %d requests checked: the goldens with TLS were not found", goldens, checked)
	}
}

// checkSplit holds the chains' tables of in to the single https table's
// answers (or 421), returning how many requests it compared.
func checkSplit(t *testing.T, label string, in Input, opts Options) int {
	t.Helper()
	e := NewEngine(opts)
	e.Sync(in)
	out := e.Output()
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	if e.tls.config == nil || out.Envoy.Get(KindListener, envoy.HTTPSListenerName) == nil {
		return 0
	}
	res := out.Result()
	single := singleHTTPSTable(t, e)
	names, paths := requestNames(in), requestPaths(in)
	checked := 0
	for _, sni := range names {
		chain := sniChain(res, sni)
		if chain == nil || !ingressTableChain(chain) { // no Ingress table: evaluator_passthrough_test.go, evaluator_sharedtls_test.go
			continue
		}
		split := sniTable(t, res, sni)
		for _, host := range names {
			for _, p := range paths {
				req := request{scheme: "https", authority: host, path: p, client: netip.MustParseAddr("203.0.113.9")}
				got := describe(evaluate(t, split, req))
				want := describe(evaluate(t, single, req))
				if other := sniChain(res, host); other == nil || other.GetName() != chain.GetName() {
					want = describe(outcome{status: envoy.MisdirectedStatus})
				}
				if got != want {
					t.Errorf("%s: SNI %s, Host %s, %s: got %s, want %s", label, sni, host, p, got, want)
				}
				checked++
			}
		}
	}
	return checked
}

// ingressTableChain: the chain ends TLS and routes by an Ingress table,
// its host's or the default chain's. A passthrough chain has no table,
// and a Gateway listener's chain on the port has its own route
// configuration or proxies the bytes: the single https table never
// answered for them.
func ingressTableChain(fc *listenerv3.FilterChain) bool {
	if isPassthroughChain(fc) {
		return false
	}
	var hcm hcmv3.HttpConnectionManager
	if err := fc.GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		return false
	}
	name := hcm.GetRds().GetRouteConfigName()
	if names := fc.GetFilterChainMatch().GetServerNames(); len(names) > 0 {
		return name == envoy.HTTPSHostRouteConfig(names[0])
	}
	return name == envoy.HTTPSRouteConfig
}

// describe is an outcome as the comparison needs it: where it goes or
// what Envoy answers. The ssl-client-* headers are left out: they are a
// chain's own, from its client certificate check, which the single table
// never had (evaluator_clientcert_test.go checks them).
func describe(o outcome) string {
	if o.status != 0 {
		return fmt.Sprintf("%d %s", o.status, o.location)
	}
	h := maps.Clone(o.upstreamHeaders)
	maps.DeleteFunc(h, func(k, _ string) bool { return isClientCertHeader(k) })
	return fmt.Sprintf("%s %s %s %v", o.cluster, o.path, o.host, h)
}

// checkSplitSameHost is checkSplit with each host as both SNI and Host,
// for inputs too large to cross every name with every other: each chain's
// table answers what the single https table answered, for every path. It
// returns how many requests it compared.
func checkSplitSameHost(t *testing.T, in Input, opts Options) int {
	t.Helper()
	e := NewEngine(opts)
	e.Sync(in)
	out := e.Output()
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	if e.tls.config == nil {
		t.Fatal("no https listener")
	}
	res := out.Result()
	single := singleHTTPSTable(t, e)
	checked := 0
	paths := requestPaths(in)
	for _, host := range requestNames(in) {
		if c := sniChain(res, host); c == nil || isPassthroughChain(c) {
			continue
		}
		split := sniTable(t, res, host)
		for _, p := range paths {
			req := request{scheme: "https", authority: host, path: p, client: netip.MustParseAddr("203.0.113.9")}
			if got, want := describe(evaluate(t, split, req)), describe(evaluate(t, single, req)); got != want {
				t.Errorf("SNI and Host %s, %s: got %s, want %s", host, p, got, want)
			}
			checked++
		}
	}
	return checked
}

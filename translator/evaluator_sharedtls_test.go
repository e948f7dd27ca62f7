package translator

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// TestSharedTLSNameOutcomes follows client hellos through the https
// listener of the goldens where Gateways' HTTPS and TLS listeners share
// the fleet's https port with Ingresses: each name reaches the chain of
// its oldest asker, whichever front end that is.
func TestSharedTLSNameOutcomes(t *testing.T) {
	client := netip.MustParseAddr("198.51.100.1")
	cases := []struct {
		golden, sni string
		want        helloOutcome
	}{
		// An HTTPS listener against Ingress TLS hosts, both ways round.
		{"gateway-shared-https", "shop.example.com", terminatedBy("default/wildcard/gateway", "gateway/default/edge/443/shop")},
		{"gateway-shared-https-ingress-older", "shop.example.com", terminatedBy("default/wildcard", "https/shop.example.com")},
		{"gateway-shared-https-ingress-older", "www.example.com", terminatedBy("default/wildcard/gateway", "gateway/default/edge/443/www")},
		// An HTTPS listener against ssl-passthrough hosts.
		{"gateway-shared-https-passthrough", "p.example.com", terminatedBy("default/wildcard/gateway", "gateway/default/edge/443/p")},
		{"gateway-shared-https-passthrough", "q.example.com", passedTo("default/pass-old/80")},
		// A TLS Passthrough listener against both kinds of Ingress host.
		{"gateway-shared-tls-passthrough", "a.example.com", terminatedBy("default/wildcard", "https/a.example.com")},
		{"gateway-shared-tls-passthrough", "b.example.com", passedTo("default/db/80")},
		{"gateway-shared-tls-passthrough", "c.example.com", passedTo("default/db/80")},
		{"gateway-shared-tls-passthrough", "d.example.com", passedTo("default/pass-old/80")},
		{"gateway-shared-tls-passthrough", "e.example.com", closedHello},
		// A TLS Terminate listener: its certificate, then the bytes on.
		{"gateway-shared-tls-terminate", "a.example.com", terminatedBy("default/wildcard", "https/a.example.com")},
		{"gateway-shared-tls-terminate", "b.example.com", helloOutcome{terminated: "default/wildcard/gateway", passthrough: "default/mqtt/80"}},
		// Only a chain that can be built asks for a name.
		// A TLSRoute without a valid backend holds its name and refuses
		// the connection: tcp_proxy to a cluster the fleet does not have.
		{"gateway-shared-tls-invalid", "a.example.com", passedTo(envoy.UnresolvedBackendCluster)},
		{"gateway-shared-tls-invalid", "b.example.com", passedTo("default/db/80")},
		// A client-certificate host under a Gateway's name: closed to the Ingress.
		{"gateway-shared-https-client-cert", "secure.example.com", terminatedBy("default/shop-tls/gateway", "gateway/default/edge/443/secure")},
		{"gateway-shared-https-client-cert", "x.example.com", terminatedBy("default/shop-tls", "https/*.example.com")},
		// Two listeners of one Gateway: the most specific takes the name.
		{"gateway-shared-tls-same-gateway", "a.example.com", terminatedBy("default/wildcard/gateway", "gateway/default/edge/443/web")},
		{"gateway-shared-tls-same-gateway", "b.example.com", passedTo("default/db/80")},
		// The default chain.
		{"gateway-shared-https-default", "other.example.org", terminatedBy("default/wildcard/gateway", "gateway/default/edge/443/any")},
		{"gateway-shared-https-default", "www.example.com", terminatedBy("default/wildcard", "https/www.example.com")},
		{"gateway-shared-tls-default-ingress-older", "other.example.org", terminatedBy("default/wildcard", "https")},
	}
	goldens := goldenResults{}
	for _, c := range cases {
		res := goldens.get(t, c.golden)
		got := hello(t, res, c.sni, client)
		got.chain = ""
		if got != c.want {
			t.Errorf("%s: SNI %s: got %+v, want %+v", c.golden, c.sni, got, c.want)
		}
	}
}

// TestSharedTLSNameHandover: when the older holder of a name goes, the
// newer asker takes it in the same round, with what its chain names
// published beside the listener (make-before-break), and gives it back
// when an older holder comes.
func TestSharedTLSNameHandover(t *testing.T) {
	in := readGoldenInput(t, "testdata/gateway-shared-tls-passthrough/input.yaml")
	e := NewEngine(in.Options)
	e.Sync(in.Input)
	step := func(what string) Result {
		t.Helper()
		out := e.Output()
		if out.Err != nil {
			t.Fatalf("%s: %v", what, out.Err)
		}
		if err := out.Envoy.Check(); err != nil {
			t.Fatalf("%s: a resource names one not there: %v", what, err)
		}
		return out.Result()
	}
	step("cold")
	client := netip.MustParseAddr("198.51.100.1")
	expect := func(what string, res Result, sni string, want helloOutcome) {
		t.Helper()
		got := hello(t, res, sni, client)
		got.chain = ""
		if got != want {
			t.Errorf("%s: SNI %s: got %+v, want %+v", what, sni, got, want)
		}
	}
	tlsOld := ingressNamed(in.Input, "tls-old")
	if err := e.Delete(tlsOld); err != nil {
		t.Fatal(err)
	}
	res := step("the older Ingress gone")
	expect("the older Ingress gone", res, "a.example.com", passedTo("default/db/80"))
	if lost := gatewayProblems(res); len(lost) != 1 || strings.Contains(lost[0], "a.example.com") || !strings.Contains(lost[0], "d.example.com") {
		t.Errorf("the older Ingress gone: the Gateway's TLSConflict should name d.example.com alone: %q", lost)
	}
	if err := e.Upsert(tlsOld); err != nil {
		t.Fatal(err)
	}
	res = step("the older Ingress back")
	expect("the older Ingress back", res, "a.example.com", terminatedBy("default/wildcard", "https/a.example.com"))
	gw := in.Input.Gateways[0]
	if err := e.Delete(gw); err != nil {
		t.Fatal(err)
	}
	res = step("the Gateway gone")
	expect("the Gateway gone", res, "b.example.com", terminatedBy("default/wildcard", "https/b.example.com"))
	expect("the Gateway gone", res, "c.example.com", passedTo("default/pass-new/80"))
	if lost := gatewayProblems(res); len(lost) != 0 {
		t.Errorf("the Gateway gone: TLSConflicts left: %q", lost)
	}
}

// TestSharedHTTPSRouteConfigHandover: an HTTPS listener that loses its
// name publishes no route configuration; when the older Ingress goes, its
// route configuration comes in the round its chain does.
func TestSharedHTTPSRouteConfigHandover(t *testing.T) {
	in := readGoldenInput(t, "testdata/gateway-shared-https-ingress-older/input.yaml")
	e := NewEngine(in.Options)
	e.Sync(in.Input)
	out := e.Output()
	const rc = "gateway/default/edge/443/shop"
	if out.Envoy.Get(KindRoute, rc) != nil {
		t.Errorf("the losing listener's route configuration %s is published", rc)
	}
	if err := e.Delete(ingressNamed(in.Input, "shop")); err != nil {
		t.Fatal(err)
	}
	out = e.Output()
	if err := out.Envoy.Check(); err != nil {
		t.Fatal(err)
	}
	res := out.Result()
	got := hello(t, res, "shop.example.com", netip.MustParseAddr("198.51.100.1"))
	if got.routeConfig != rc || out.Envoy.Get(KindRoute, rc) == nil {
		t.Errorf("the Ingress gone: shop.example.com reaches %+v; route configuration %s published: %t", got, rc, out.Envoy.Get(KindRoute, rc) != nil)
	}
	if out.Envoy.Get(KindRoute, envoy.HTTPSHostRouteConfig("shop.example.com")) != nil {
		t.Errorf("the Ingress gone: its table for shop.example.com is still published")
	}
}

func ingressNamed(in Input, name string) any {
	i := slices.IndexFunc(in.Ingresses, func(x *networkingv1.Ingress) bool { return x.Name == name })
	return in.Ingresses[i]
}

// gatewayProblems are the TLSConflict messages on Gateways.
func gatewayProblems(res Result) []string {
	var out []string
	for _, p := range res.Problems {
		if p.Kind == "Gateway" && p.Reason == TLSConflict {
			out = append(out, p.Message)
		}
	}
	return out
}

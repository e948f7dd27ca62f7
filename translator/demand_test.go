package translator

import (
	"testing"
)

// TestProxylessDemandAndRelease follows one Service and one host through
// being asked for and let go: nothing of theirs is built before, Demand
// reports the work, asking again or by another of the Service's names
// changes nothing, and the resources go only when the last name does.
func TestProxylessDemandAndRelease(t *testing.T) {
	g := readGoldenInput(t, "testdata/proxyless-on-demand/input.yaml")
	e := NewEngine(g.Options)
	e.Sync(g.Input)
	has := func(k Kind, name string) bool { return e.Output().Proxyless.Get(k, name) != nil }
	if has(KindListener, "web.apps:8080") || has(KindCluster, "apps/web/8080") || has(KindListener, "greeter.example.com") {
		t.Fatal("built before anyone asked")
	}
	if !has(KindListener, "grpc/server?xds.resource.listening_address=10.0.3.1:50051") {
		t.Fatal("the gRPC server listener waits for a demand")
	}
	if !e.Demand([]string{"web.apps:8080"}) {
		t.Fatal("a first demand reports nothing to build")
	}
	if !has(KindListener, "web.apps.svc.cluster.local:8080") || !has(KindEndpoint, "apps/web/8080") {
		t.Fatal("the demanded Service was not built")
	}
	if e.Demand([]string{"web.apps:8080"}) || e.Demand([]string{"apps/web/8080"}) {
		t.Fatal("asking again for a built Service reports work")
	}
	if e.Release([]string{"web.apps:8080"}) || !has(KindCluster, "apps/web/8080") {
		t.Fatal("released while its cluster name is still asked for")
	}
	if !e.Release([]string{"apps/web/8080"}) || has(KindListener, "web.apps:8080") || has(KindCluster, "apps/web/8080") {
		t.Fatal("not removed after its last name was released")
	}
	if !e.Demand([]string{"greeter.example.com"}) || !has(KindListener, "greeter.example.com") || !has(KindCluster, "apps/fallback/50051") {
		t.Fatal("a demanded host lacks its API listener or the clusters it routes to")
	}
	if !e.Release([]string{"greeter.example.com"}) || has(KindListener, "greeter.example.com") || has(KindCluster, "apps/greeter/50051") {
		t.Fatal("a released host keeps its API listener or its clusters")
	}
	all := NewEngine(Options{Proxyless: true})
	all.Sync(g.Input)
	if all.Demand([]string{"web.apps:8080"}) || all.Output().Proxyless.Get(KindListener, "other.example.com") == nil {
		t.Fatal("without on demand, everything is built and a demand is no work")
	}
}

// TestParseDemand pins which names are demands of what.
func TestParseDemand(t *testing.T) {
	for name, want := range map[string]string{
		"web.apps.svc.cluster.local:80": "svc apps/web",
		"web.apps.svc:80":               "svc apps/web",
		"web.apps:80":                   "svc apps/web",
		"apps/web/80":                   "svc apps/web",
		"foo.example.com":               "host foo.example.com",
		"web.apps.svc.example:80":       "host web.apps.svc.example:80", // a Gateway's hostname on its port
		"grpc.example.com:443":          "host grpc.example.com:443",
		"web:80":                        "host web:80",
		"web.apps:080":                  "none",
		"Web.example.com:80":            "none",
		"*.example.com:80":              "none",
		"apps/web/80/udp":               "none",
		"apps/web/x":                    "none",
		"*.example.com":                 "none",
		"*":                             "none",
		"grpc/server?xds.resource.listening_address=10.0.0.1:80": "none",
	} {
		svc, host, ok := parseDemand(name)
		got := "none"
		switch {
		case ok && host != "":
			got = "host " + host
		case ok:
			got = "svc " + svc.namespace + "/" + svc.name
		}
		if got != want {
			t.Errorf("parseDemand(%q) = %s, want %s", name, got, want)
		}
	}
}

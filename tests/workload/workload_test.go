package workload

import (
	"testing"

	"github.com/fairwayhq/fairway/translator"
)

// TestGenerateShape checks that the generated cluster is what the benchmarks
// claim to measure: every route resolves, every endpoint is used, and every
// LoadBalancer gets its listener.
func TestGenerateShape(t *testing.T) {
	s := Scale{Name: "tiny", Services: 100, Ingresses: 120, EndpointsPerService: 3, LoadBalancers: 7, Namespaces: 10}
	res := translator.Translate(Generate(s), translator.Options{})
	if len(res.Problems) != 0 {
		t.Fatalf("generated workload has problems: %v", res.Problems)
	}
	if err := res.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := len(res.Listeners), s.LoadBalancers+1; got != want {
		t.Errorf("listeners = %d, want %d (http plus one per LoadBalancer)", got, want)
	}
	if got := len(res.Routes[0].VirtualHosts); got != s.Ingresses {
		t.Errorf("virtual hosts = %d, want %d", got, s.Ingresses)
	}
	endpoints := 0
	for _, cla := range res.Endpoints {
		for _, l := range cla.Endpoints {
			endpoints += len(l.LbEndpoints)
		}
	}
	if want := (s.Services + s.LoadBalancers) * s.EndpointsPerService; endpoints != want {
		t.Errorf("endpoints = %d, want %d", endpoints, want)
	}
}

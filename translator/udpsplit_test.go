package translator

import (
	"maps"
	"math"
	"slices"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/fairwayhq/fairway/translator/policy"
)

// TestUDPSplitEndpointChange: an EndpointSlice change of any backend of
// a UDP split re-encodes the split's assignment and nothing else, not its
// cluster, listener or any other resource (DESIGN: an endpoint change
// touches only EDS); a backend that gains a ready endpoint takes its
// share, and one that loses its last gives it up.
func TestUDPSplitEndpointChange(t *testing.T) {
	in := readGoldenInput(t, "testdata/gateway-udp-weighted/input.yaml")
	e := NewEngine(in.Options)
	for _, o := range inputObjects(in.Input) {
		if err := e.Upsert(o); err != nil {
			t.Fatal(err)
		}
	}
	out := e.Output()
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	clusters := out.Envoy.Sorted(KindCluster)
	if len(clusters) != 1 {
		t.Fatalf("clusters %v, want the split alone", clusters)
	}
	split := clusters[0].Name
	out.Envoy.TakeChanges()
	slice := func(name string) *discoveryv1.EndpointSlice {
		for _, es := range in.EndpointSlices {
			if es.Name == name {
				return es.DeepCopy()
			}
		}
		t.Fatalf("no EndpointSlice %s", name)
		return nil
	}
	for _, step := range []struct {
		what   string
		slice  *discoveryv1.EndpointSlice
		remove bool
		want   map[string]uint32 // locality weight by sub_zone
		eds    bool              // whether the split's EDS changes
	}{
		{"dns-c's endpoint turns ready", readyAll(slice("dns-c-1")), false,
			map[string]uint32{"default/dns-a/53/udp": 7, "default/dns-b/53/udp": 3, "default/dns-c/53/udp": 5}, true},
		{"dns-a's slice is deleted", slice("dns-a-1"), true,
			map[string]uint32{"default/dns-b/53/udp": 3, "default/dns-c/53/udp": 5}, true},
		{"dns-d, outside the split, changes", readyAll(slice("dns-d-1")), false,
			map[string]uint32{"default/dns-b/53/udp": 3, "default/dns-c/53/udp": 5}, false},
	} {
		var err error
		if step.remove {
			err = e.Delete(step.slice)
		} else {
			step.slice.Endpoints = append(step.slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.0.9.9"}})
			err = e.Upsert(step.slice)
		}
		if err != nil {
			t.Fatal(err)
		}
		out := e.Output()
		if out.Err != nil {
			t.Fatal(out.Err)
		}
		changes := out.Envoy.TakeChanges()
		for k, names := range changes {
			want := []string(nil)
			if Kind(k) == KindEndpoint && step.eds {
				want = []string{split}
			}
			if !slices.Equal(names, want) {
				t.Errorf("%s: %v changed %v, want %v", step.what, Kind(k), names, want)
			}
		}
		got := map[string]uint32{}
		for _, cla := range out.Result().Endpoints {
			if cla.GetClusterName() == split {
				got = localityWeights(cla)
			}
		}
		if !maps.Equal(got, step.want) {
			t.Errorf("%s: locality weights %v, want %v", step.what, got, step.want)
		}
	}
}

func readyAll(es *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	for i := range es.Endpoints {
		ready := true
		es.Endpoints[i].Conditions.Ready = &ready
	}
	return es
}

func localityWeights(cla *endpointv3.ClusterLoadAssignment) map[string]uint32 {
	out := map[string]uint32{}
	for _, l := range cla.GetEndpoints() {
		out[l.GetLocality().GetSubZone()] = l.GetLoadBalancingWeight().GetValue()
	}
	return out
}

// TestNewUDPSplit: shares are sorted by Service port, a port named twice
// adds its weights, weight 0 takes none, fewer than two ports is no split,
// and weights past Envoy's sum limit (only a file source can give them)
// keep their proportions within it.
func TestNewUDPSplit(t *testing.T) {
	be := func(name string, port, weight int32) policy.Backend {
		return policy.Backend{Namespace: "ns", Name: name, Port: port, Weight: weight}
	}
	route := nsName{"ns", "r"}
	s := newUDPSplit(route, []policy.Backend{be("b", 53, 3), be("a", 53, 2), be("c", 53, 0), be("a", 53, 5), be("a", 54, 1)})
	want := []splitShare{{nsName{"ns", "a"}, 53, 7}, {nsName{"ns", "a"}, 54, 1}, {nsName{"ns", "b"}, 53, 3}}
	if s == nil || !slices.Equal(s.shares, want) {
		t.Fatalf("shares %+v, want %+v", s, want)
	}
	if got := s.services(); !slices.Equal(got, []nsName{{"ns", "a"}, {"ns", "b"}}) {
		t.Errorf("services %v, want ns/a and ns/b once each", got)
	}
	if s := newUDPSplit(route, []policy.Backend{be("a", 53, 2), be("a", 53, 5), be("b", 53, 0)}); s != nil {
		t.Errorf("one Service port is a split: %+v", s)
	}
	var many []policy.Backend
	for i := range 16 {
		many = append(many, be(string(rune('a'+i)), 53, math.MaxInt32-int32(i%2)*(math.MaxInt32/2)))
	}
	s = newUDPSplit(route, many)
	var sum uint64
	for _, sh := range s.shares {
		sum += uint64(sh.weight)
	}
	if sum > math.MaxUint32 {
		t.Errorf("weights sum to %d, past Envoy's limit", sum)
	}
	if a, b := s.shares[0].weight, s.shares[1].weight; a < 2*b-2 || a > 2*b+2 {
		t.Errorf("weights %d and %d, want about 2:1 as given", a, b)
	}
}

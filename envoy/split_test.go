package envoy

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestSplitClusterName: the name is readable, stable, and changes with
// any backend or weight, so a new split never reuses an old one's name;
// it never looks like a Service port's or an auth service's cluster.
func TestSplitClusterName(t *testing.T) {
	a := []Share{{"infra/v1/8080/udp", 7}, {"infra/v2/8080/udp", 3}}
	name := SplitClusterName("infra", "weighted", a)
	if name != SplitClusterName("infra", "weighted", []Share{{"infra/v1/8080/udp", 7}, {"infra/v2/8080/udp", 3}}) {
		t.Fatalf("%s: not stable", name)
	}
	if !strings.HasPrefix(name, "udp-split:infra/weighted/") || len(name) != len("udp-split:infra/weighted/")+16 {
		t.Fatalf("%s: want udp-split:infra/weighted/<16 hex digits>", name)
	}
	for _, other := range [][]Share{
		{{"infra/v1/8080/udp", 3}, {"infra/v2/8080/udp", 7}},
		{{"infra/v1/8080/udp", 7}, {"infra/v3/8080/udp", 3}},
		{{"infra/v1/8080/udp", 7}},
		// The same bytes cut elsewhere must not hash the same.
		{{"infra/v1/8080/ud", 7}, {"pinfra/v2/8080/udp", 3}},
	} {
		if n := SplitClusterName("infra", "weighted", other); n == name {
			t.Errorf("%v: shares the name %s of %v", other, n, a)
		}
	}
	if n := SplitClusterName("infra", "other", a); n == name {
		t.Errorf("another route shares the name %s", n)
	}
	if strings.HasPrefix(name, AuthDNSClusterPrefix) || !strings.Contains(name[:strings.Index(name, "/")], ":") {
		t.Errorf("%s: its first segment must hold a ':', which no namespace has", name)
	}
}

// TestSplitCluster: an EDS cluster like every other, with locality-weighted
// balancing on, so that the localities' weights are the split.
func TestSplitCluster(t *testing.T) {
	c := SplitCluster("udp-split:ns/r/0123456789abcdef")
	if c.GetCommonLbConfig().GetLocalityWeightedLbConfig() == nil {
		t.Fatalf("locality-weighted balancing is off: %v", c.GetCommonLbConfig())
	}
	c.CommonLbConfig = nil
	if want := EDSCluster(c.GetName()); !proto.Equal(c, want) {
		t.Errorf("apart from its balancing, differs from EDSCluster:\n got %v\nwant %v", c, want)
	}
}

// TestSplitLoadAssignment: each backend is a locality named by its
// cluster, weighted by its share whatever its endpoint count; a backend
// without endpoints is left out, so it takes no share.
func TestSplitLoadAssignment(t *testing.T) {
	cla := ClusterLoadAssignment("s", []Locality{
		{SubZone: "ns/a/53/udp", Weight: 7, Endpoints: []Endpoint{{Address: "10.0.0.1", Port: 53}, {Address: "10.0.0.2", Port: 53}}},
		{SubZone: "ns/b/53/udp", Weight: 3, Endpoints: []Endpoint{{Address: "10.0.0.3", Port: 53}}},
		{SubZone: "ns/c/53/udp", Weight: 90},
	})
	got := map[string]uint32{}
	for _, l := range cla.GetEndpoints() {
		got[l.GetLocality().GetSubZone()] = l.GetLoadBalancingWeight().GetValue()
	}
	if len(got) != 2 || got["ns/a/53/udp"] != 7 || got["ns/b/53/udp"] != 3 {
		t.Errorf("locality weights %v, want ns/a 7 and ns/b 3 only", got)
	}
}

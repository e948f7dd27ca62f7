package envoy

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
)

var marshal = proto.MarshalOptions{Deterministic: true}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := marshal.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomString(r *rand.Rand, n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789-./*"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

// TestAppendClusterLoadAssignment: the direct encoding equals the
// marshalled message, for random localities (long names too, for
// multi-byte lengths; endpoints with and without a health check port;
// a split's sub-zones and weights, 0 among them), in
// one allocation of the buffer.
func TestAppendClusterLoadAssignment(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		var locs []Locality
		for range r.IntN(4) {
			loc := Locality{Zone: randomString(r, r.IntN(3)*5)}
			if r.IntN(3) == 0 { // a backend's share of a split cluster
				loc.SubZone, loc.Weight = randomString(r, 1+r.IntN(150)), uint32(r.IntN(1_000_001))
			}
			for range r.IntN(20) {
				ep := Endpoint{Address: fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), r.IntN(256)), Port: uint32(1 + r.IntN(65535))}
				if r.IntN(3) == 0 { // a node behind externalTrafficPolicy: Local
					ep.HealthCheckPort = uint32(1 + r.IntN(65535))
				}
				loc.Endpoints = append(loc.Endpoints, ep)
			}
			locs = append(locs, loc)
		}
		name := randomString(r, 1+r.IntN(200))
		want := mustMarshal(t, ClusterLoadAssignment(name, locs))
		if got := AppendClusterLoadAssignment(nil, name, locs); !bytes.Equal(got, want) {
			t.Fatalf("case %d: encodings differ\n got %x\nwant %x", i, got, want)
		}
		if raceEnabled {
			continue
		}
		if n := testing.AllocsPerRun(3, func() { AppendClusterLoadAssignment(nil, name, locs) }); n != 1 {
			t.Fatalf("case %d: %v allocations, want the buffer's one", i, n)
		}
	}
}

func randomRoute(r *rand.Rand) RouteSpec {
	spec := RouteSpec{Name: randomString(r, 1+r.IntN(40)), Exact: r.IntN(2) == 0, Path: "/" + randomString(r, r.IntN(150))}
	if r.IntN(4) == 0 {
		spec.Path = "/"
	}
	if !spec.Exact && len(spec.Path) > 1 && spec.Path[len(spec.Path)-1] == '/' {
		spec.Path += "x"
	}
	if r.IntN(2) == 0 {
		spec.AuthorityRegex, spec.InvertAuthority = randomString(r, 1+r.IntN(60)), r.IntN(2) == 0
	}
	if r.IntN(3) == 0 {
		spec.Status = 503
	} else {
		spec.Cluster = randomString(r, 1+r.IntN(60))
	}
	return spec
}

// TestAppendVirtualHost: every route form, and whole virtual hosts.
func TestAppendVirtualHost(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 1000 {
		var specs []RouteSpec
		var routes []*routev3.Route
		for range r.IntN(8) {
			s := randomRoute(r)
			specs = append(specs, s)
			routes = append(routes, s.Routes()...)
		}
		name := randomString(r, 1+r.IntN(100))
		domains := []string{name}
		want := mustMarshal(t, EdgeVirtualHost(name, domains, routes))
		if got := AppendVirtualHost(nil, name, domains, specs); !bytes.Equal(got, want) {
			t.Fatalf("case %d: encodings differ\n got %x\nwant %x\n%v", i, got, want, specs)
		}
	}
}

func TestAppendAPIListener(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		name, cluster := randomString(r, 1+r.IntN(200)), randomString(r, 1+r.IntN(100))
		routes := ServiceRoute(name, cluster)
		for range r.IntN(4) {
			routes = append(routes, randomRoute(r))
		}
		want := mustMarshal(t, APIListener(name, routes))
		if got := AppendAPIListener(nil, name, routes); !bytes.Equal(got, want) {
			t.Fatalf("%s: encodings differ\n got %x\nwant %x", name, got, want)
		}
	}
}

package envoy

import (
	"bytes"
	"math/rand/v2"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
)

// TestRenameVirtualHost: the renamed encoding is that of the decoded
// virtual host with its name and domains replaced, for virtual hosts with
// any number of domains and routes (none included).
func TestRenameVirtualHost(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 500 {
		var specs []RouteSpec
		for range r.IntN(5) {
			specs = append(specs, randomRoute(r))
		}
		var domains []string
		for range r.IntN(4) {
			domains = append(domains, randomString(r, 1+r.IntN(40)))
		}
		vh := AppendVirtualHost(nil, randomString(r, 1+r.IntN(40)), domains, specs)
		name := randomString(r, 1+r.IntN(200))
		var m routev3.VirtualHost
		if err := proto.Unmarshal(vh, &m); err != nil {
			t.Fatal(err)
		}
		m.Name, m.Domains = name, []string{name}
		want := mustMarshal(t, &m)
		if got := RenameVirtualHost(vh, name, name); !bytes.Equal(got, want) {
			t.Fatalf("case %d: encodings differ\n got %x\nwant %x", i, got, want)
		}
	}
}

// TestMisdirectedVirtualHost: every path on the listed domains gets 421,
// and the virtual host passes Envoy's validation.
func TestMisdirectedVirtualHost(t *testing.T) {
	var vh routev3.VirtualHost
	if err := proto.Unmarshal(AppendMisdirectedVirtualHost(nil, []string{"a.example.com", "*"}), &vh); err != nil {
		t.Fatal(err)
	}
	if err := vh.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	if vh.GetName() != MisdirectedVirtualHost || len(vh.GetDomains()) != 2 || vh.GetDomains()[1] != "*" {
		t.Errorf("virtual host %q domains %v", vh.GetName(), vh.GetDomains())
	}
	routes := vh.GetRoutes()
	if len(routes) != 1 || routes[0].GetMatch().GetPrefix() != "/" || routes[0].GetDirectResponse().GetStatus() != MisdirectedStatus {
		t.Errorf("routes = %v, want one prefix \"/\" answering 421", routes)
	}
}

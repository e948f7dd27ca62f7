package translator

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fairwayhq/fairway/translator/goldentest"
)

// TestGatewayGoldensIncremental builds each Gateway API golden's input one
// object at a time, in random orders, with an Output after every object,
// as serve's informers deliver it: the end state must be the cold
// translation's, byte for byte. The Gateway part resolves on every
// change through a Resolver that keeps each route's work, and its claims,
// addresses and shared http rules carry over between Outputs; this holds
// them to a translation from scratch.
func TestGatewayGoldensIncremental(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/gateway-*/input.yaml")
	if len(inputs) == 0 {
		t.Fatal("no gateway goldens")
	}
	for _, path := range inputs {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			in := readGoldenInput(t, path)
			want := encodeGolden(t, in.translate(in.Input))
			objs := inputObjects(in.Input)
			for seed := uint64(1); seed <= 5; seed++ {
				r := rand.New(rand.NewPCG(seed, 7))
				e := NewEngine(in.Options)
				e.Demand(in.Demand)
				for _, o := range goldentest.Shuffle(r, objs) {
					if err := e.Upsert(o); err != nil {
						t.Fatal(err)
					}
					e.Output()
				}
				if got := encodeGolden(t, e.Output().Result()); !bytes.Equal(got, want) {
					t.Fatalf("seed %d: one by one differs from cold (-cold +incremental):\n%s", seed, cmp.Diff(string(want), string(got)))
				}
			}
		})
	}
}

// inputObjects lists every object of an Input.
func inputObjects(in Input) []any {
	var out []any
	add := func(n int, at func(int) any) {
		for i := range n {
			out = append(out, at(i))
		}
	}
	add(len(in.Services), func(i int) any { return in.Services[i] })
	add(len(in.EndpointSlices), func(i int) any { return in.EndpointSlices[i] })
	add(len(in.Ingresses), func(i int) any { return in.Ingresses[i] })
	add(len(in.IngressClasses), func(i int) any { return in.IngressClasses[i] })
	add(len(in.Secrets), func(i int) any { return in.Secrets[i] })
	add(len(in.Nodes), func(i int) any { return in.Nodes[i] })
	add(len(in.GatewayClasses), func(i int) any { return in.GatewayClasses[i] })
	add(len(in.Gateways), func(i int) any { return in.Gateways[i] })
	add(len(in.HTTPRoutes), func(i int) any { return in.HTTPRoutes[i] })
	add(len(in.GRPCRoutes), func(i int) any { return in.GRPCRoutes[i] })
	add(len(in.TLSRoutes), func(i int) any { return in.TLSRoutes[i] })
	add(len(in.TCPRoutes), func(i int) any { return in.TCPRoutes[i] })
	add(len(in.UDPRoutes), func(i int) any { return in.UDPRoutes[i] })
	add(len(in.ReferenceGrants), func(i int) any { return in.ReferenceGrants[i] })
	add(len(in.Namespaces), func(i int) any { return in.Namespaces[i] })
	return out
}

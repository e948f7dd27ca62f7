package translator

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestAllocationEvents walks the engine through what a cluster does to
// pooled Services: the status writer writing an allocation back, a
// newcomer asking for a held address, another taking a free one, a
// Service going away. Each event changes exactly the listeners it must,
// and the engine agrees with a from-scratch translation throughout.
func TestAllocationEvents(t *testing.T) {
	opts := Options{LBAddressPools: []string{"192.0.2.0/29"}}
	e := NewEngine(opts)
	live := map[nsName]*corev1.Service{}
	step := func(what string, wantListeners []string, objs ...*corev1.Service) {
		t.Helper()
		for _, o := range objs {
			if o.Spec.Type == "" {
				delete(live, keyOf(&o.ObjectMeta))
				if err := e.Delete(o); err != nil {
					t.Fatal(err)
				}
				continue
			}
			live[keyOf(&o.ObjectMeta)] = o
			if err := e.Upsert(o); err != nil {
				t.Fatal(err)
			}
		}
		out := e.Output()
		if got := out.Envoy.TakeChanges()[KindListener]; !slices.Equal(got, wantListeners) {
			t.Errorf("%s: listeners changed %v, want %v", what, got, wantListeners)
		}
		var in Input
		for _, s := range live {
			in.Services = append(in.Services, s)
		}
		cold := NewEngine(opts)
		cold.Sync(in)
		if diff := compareOutputs(out, cold.Output()); diff != "" {
			t.Errorf("%s: differs from scratch:\n%s", what, diff)
		}
	}
	gone := func(name string) *corev1.Service {
		return lbService(name, 0, nil, func(s *corev1.Service) { s.Spec.Type = "" })
	}
	a, b := lbService("a", 1, []int32{443}), lbService("b", 2, []int32{443})
	step("two Services", []string{"tcp-192.0.2.1-443", "tcp-192.0.2.2-443"}, a, b)
	step("the status writer writes their addresses back", nil,
		lbService("a", 1, []int32{443}, withStatus("192.0.2.1")), lbService("b", 2, []int32{443}, withStatus("192.0.2.2")))
	step("a newcomer asks for a's address", nil, lbService("c", 3, []int32{443}, withIP("192.0.2.1")))
	step("another takes the lowest free one", []string{"tcp-192.0.2.3-443"}, lbService("d", 4, []int32{443}))
	step("a goes: its address goes to c, who asked for it; nobody else moves", []string{"tcp-192.0.2.1-443"}, gone("a"))
	if got := e.Output().Admitted().Services; len(got) != 3 || got[0].Name != "b" || got[0].Addresses[0] != "192.0.2.2" {
		t.Errorf("admitted %+v", got)
	}
}

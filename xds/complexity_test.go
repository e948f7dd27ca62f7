package xds

import (
	"runtime"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/tests/workload"
)

// mallocs counts the heap allocations fn makes.
func mallocs(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs
}

// TestChangesCostWhatTheyTouch guards the complexity of the incremental
// path, not its speed: at the large scale, one Ingress change allocates
// under 1% of what the cold build does, and one endpoint change under
// 0.1%. (The bytes of an Ingress change are the one route table's, which
// is rebuilt by copying; the allocation count is what grows with the work
// per object.) A change that rebuilt everything would fail this at once.
func TestChangesCostWhatTheyTouch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the large workload")
	}
	in := workload.Generate(workload.Large)
	var cold uint64
	e, p := coldPublish(t, workload.Large, in) // warm the runtime's caches first
	cold = mallocs(func() { e, p = coldPublish(t, workload.Large, in) })

	ing := in.Ingresses[len(in.Ingresses)/2].DeepCopy()
	ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{
		Path: "/guard", PathType: ing.Spec.Rules[0].HTTP.Paths[0].PathType, Backend: ing.Spec.Rules[0].HTTP.Paths[0].Backend,
	})
	ingress := mallocs(func() { publishChange(t, e, p, ing) })

	es := in.EndpointSlices[len(in.EndpointSlices)/2].DeepCopy()
	es.Endpoints[0].Addresses[0] = "172.16.0.1"
	endpoint := mallocs(func() { publishChange(t, e, p, es) })

	t.Logf("allocations: cold %d, one Ingress %d (%.3f%%), one endpoint %d (%.4f%%)",
		cold, ingress, 100*float64(ingress)/float64(cold), endpoint, 100*float64(endpoint)/float64(cold))
	if float64(ingress) >= 0.01*float64(cold) {
		t.Errorf("one Ingress change allocated %d times, not under 1%% of the cold build's %d", ingress, cold)
	}
	if float64(endpoint) >= 0.001*float64(cold) {
		t.Errorf("one endpoint change allocated %d times, not under 0.1%% of the cold build's %d", endpoint, cold)
	}
}

package translator

import (
	"maps"
	"slices"
	"testing"
)

// resourceHashes are an engine's Envoy resources by kind and name.
func resourceHashes(t *testing.T, e *Engine) [NumKinds]map[string]uint64 {
	t.Helper()
	out := e.Output()
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	var h [NumKinds]map[string]uint64
	for k := range NumKinds {
		h[k] = map[string]uint64{}
		for _, r := range out.Envoy.Sorted(k) {
			h[k][r.Name] = r.Hash
		}
	}
	return h
}

// changedNames are the names of kind k put, changed or removed between
// two snapshots, sorted.
func changedNames(a, b map[string]uint64) []string {
	var names []string
	for n, h := range b {
		if a[n] != h {
			names = append(names, n)
		}
	}
	for n := range a {
		if _, ok := b[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// TestCanaryRolloutChangesOnlyRoutes follows an Argo Rollouts canary
// (the canary-argo-rollouts golden's objects) step by step through the
// incremental engine: at weights 0, 20, 50 and 100 only the route table
// moves, no listener, cluster or endpoint does, since both clusters exist
// while both Ingresses do. Then promotion as Argo Rollouts does it
// (rollout/trafficrouting.go, service.go): the stable Service is pointed
// at the new pods, which moves only its endpoints; the weight goes back
// to 0, which moves only the route table; and the canary Ingress is
// deleted (the Rollout's traffic routing removed), which removes the
// canary's cluster and endpoints and moves the route table back to the
// main route alone, with no listener moving.
func TestCanaryRolloutChangesOnlyRoutes(t *testing.T) {
	in := readGoldenInput(t, "testdata/canary-argo-rollouts/input.yaml")
	canaryAt := func(weight string) {
		c := in.Input.Ingresses[1].DeepCopy()
		if c.Name != "shop-shop-canary" {
			t.Fatalf("second Ingress %s, want the canary", c.Name)
		}
		c.Annotations["nginx.ingress.kubernetes.io/canary-weight"] = weight
		in.Input.Ingresses[1] = c
	}
	const stable, canary = "shop/shop-stable/80", "shop/shop-canary/80"
	e := NewEngine(in.Options)
	canaryAt("0")
	e.Sync(in.Input)
	prev := resourceHashes(t, e)
	if _, ok := prev[KindCluster][canary]; !ok {
		t.Fatalf("at weight 0 the canary's cluster is missing: %v", slices.Sorted(maps.Keys(prev[KindCluster])))
	}
	step := func(name string, want [NumKinds][]string) {
		t.Helper()
		e.Sync(in.Input)
		next := resourceHashes(t, e)
		for k := range NumKinds {
			got := changedNames(prev[k], next[k])
			if k == KindRoute && want[k] == nil {
				if len(got) == 0 {
					t.Errorf("%s: no route table changed", name)
				}
				continue
			}
			if !slices.Equal(got, want[k]) {
				t.Errorf("%s: %s resources %v changed, want %v", name, kindNames[k], got, want[k])
			}
		}
		sameAsCold(t, e, in.Input)
		prev = next
	}
	for _, w := range []string{"20", "50", "100"} {
		canaryAt(w)
		step("weight "+w, [NumKinds][]string{})
	}

	slice := in.Input.EndpointSlices[0].DeepCopy() // the stable Service now selects the new pods
	if slice.Labels["kubernetes.io/service-name"] != "shop-stable" {
		t.Fatalf("first slice %s, want the stable Service's", slice.Name)
	}
	slice.Endpoints = in.Input.EndpointSlices[1].Endpoints
	in.Input.EndpointSlices[0] = slice
	step("stable Service switched", [NumKinds][]string{KindEndpoint: {stable}, KindRoute: {}})
	canaryAt("0")
	step("weight back to 0", [NumKinds][]string{})
	in.Input.Ingresses = in.Input.Ingresses[:1]
	step("canary Ingress deleted", [NumKinds][]string{KindCluster: {canary}, KindEndpoint: {canary}})
}

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
// while both Ingresses do. At promotion the canary Ingress is deleted:
// the route table goes back to the main route alone and the canary's
// cluster (and its endpoints) go away, with no listener moving.
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
	e := NewEngine(in.Options)
	canaryAt("0")
	e.Sync(in.Input)
	prev := resourceHashes(t, e)
	if _, ok := prev[KindCluster]["shop/shop-canary/80"]; !ok {
		t.Fatalf("at weight 0 the canary's cluster is missing: %v", slices.Sorted(maps.Keys(prev[KindCluster])))
	}
	for _, w := range []string{"20", "50", "100"} {
		canaryAt(w)
		e.Sync(in.Input)
		next := resourceHashes(t, e)
		for k := range NumKinds {
			got := changedNames(prev[k], next[k])
			if k == KindRoute {
				if len(got) == 0 {
					t.Errorf("weight %s: no route table changed", w)
				}
				continue
			}
			if len(got) != 0 {
				t.Errorf("weight %s: %s resources %v changed; only routes may", w, kindNames[k], got)
			}
		}
		sameAsCold(t, e, in.Input)
		prev = next
	}

	in.Input.Ingresses = in.Input.Ingresses[:1] // promotion: the canary Ingress is deleted
	e.Sync(in.Input)
	next := resourceHashes(t, e)
	if got := changedNames(prev[KindListener], next[KindListener]); len(got) != 0 {
		t.Errorf("promotion: listeners %v changed", got)
	}
	if got := changedNames(prev[KindCluster], next[KindCluster]); !slices.Equal(got, []string{"shop/shop-canary/80"}) {
		t.Errorf("promotion: clusters %v changed, want only the canary's removed", got)
	}
	if len(changedNames(prev[KindRoute], next[KindRoute])) == 0 {
		t.Errorf("promotion: the route table did not go back to the main route")
	}
	sameAsCold(t, e, in.Input)
}

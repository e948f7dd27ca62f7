package translator

import (
	"fmt"

	"github.com/google/go-cmp/cmp"
)

func compareOutputs(warm, cold Output) string {
	for _, set := range []struct {
		name string
		w, c *ResourceSet
	}{{"envoy", warm.Envoy, cold.Envoy}, {"proxyless", warm.Proxyless, cold.Proxyless}} {
		for k := range NumKinds {
			w, c := set.w.Sorted(k), set.c.Sorted(k)
			if len(w) != len(c) {
				return fmt.Sprintf("%s %s: %v vs %v", set.name, k, names(w), names(c))
			}
			for i := range w {
				if w[i].Name != c[i].Name || string(w[i].Bytes) != string(c[i].Bytes) {
					return fmt.Sprintf("%s %s %q: bytes differ", set.name, k, w[i].Name)
				}
			}
		}
	}
	if d := cmp.Diff(cold.Problems, warm.Problems); d != "" {
		return "problems (-scratch +incremental):\n" + d
	}
	if d := cmp.Diff(cold.Admitted(), warm.Admitted()); d != "" {
		return "admitted (-scratch +incremental):\n" + d
	}
	return ""
}

func names(rs []*Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

package translator

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

func TestComparePrecedenceOrder(t *testing.T) {
	want := []pathMatch{
		{exact: true, path: "/foo/bar/baz"},
		{path: "/foo/bar"},
		{exact: true, path: "/foo"},
		{path: "/bar"},
		{path: "/foo"},
		{exact: true, path: "/"},
		{path: "/"},
	}
	for seed := uint64(0); seed < 20; seed++ {
		got := slices.Clone(want)
		r := rand.New(rand.NewPCG(seed, 0))
		r.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		slices.SortFunc(got, comparePrecedence)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: got %v, want %v", seed, got, want)
		}
	}
}

// matches is the Ingress spec's matching of one request path, written
// independently of Envoy: Exact is string equality; Prefix compares path
// elements split by "/".
func (m pathMatch) matches(req string) bool {
	if m.exact {
		return req == m.path
	}
	if m.path == "/" {
		return true
	}
	return req == m.path || strings.HasPrefix(req, m.path+"/")
}

// TestPrecedenceFirstMatchIsBest checks the property Envoy relies on: in
// precedence order, the first route that matches a request is the one the
// spec picks, the longest matching path, and Exact at equal length.
func TestPrecedenceFirstMatchIsBest(t *testing.T) {
	segments := []string{"a", "b", "ab", "api", "v1"}
	randomPath := func(r *rand.Rand) string {
		n := r.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = segments[r.IntN(len(segments))]
		}
		p := "/" + strings.Join(parts, "/")
		if n > 0 && r.IntN(5) == 0 {
			p += "/"
		}
		return p
	}
	prefix, exact := networkingv1.PathTypePrefix, networkingv1.PathTypeExact
	for seed := uint64(0); seed < 500; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		var rules []pathMatch
		for range 1 + r.IntN(6) {
			pt := &prefix
			if r.IntN(2) == 0 {
				pt = &exact
			}
			m, err := parsePath(networkingv1.HTTPIngressPath{Path: randomPath(r), PathType: pt}, false)
			if err != nil {
				t.Fatal(err)
			}
			rules = append(rules, m)
		}
		slices.SortFunc(rules, comparePrecedence)
		for range 20 {
			req := randomPath(r)
			var first, best *pathMatch
			for i := range rules {
				m := &rules[i]
				if !m.matches(req) {
					continue
				}
				if first == nil {
					first = m
				}
				if best == nil || len(m.path) > len(best.path) || (len(m.path) == len(best.path) && m.exact && !best.exact) {
					best = m
				}
			}
			if first != best && *first != *best {
				t.Fatalf("seed %d: request %q: first match %v, but the spec picks %v (rules %v)", seed, req, *first, *best, rules)
			}
		}
	}
}

func TestParsePathNormalises(t *testing.T) {
	prefix, exact, impl := networkingv1.PathTypePrefix, networkingv1.PathTypeExact, networkingv1.PathTypeImplementationSpecific
	cases := []struct {
		path string
		pt   *networkingv1.PathType
		want pathMatch
	}{
		{"/foo/", &prefix, pathMatch{path: "/foo"}},
		{"/", &prefix, pathMatch{path: "/"}},
		{"/foo/", &exact, pathMatch{exact: true, path: "/foo/"}},
		{"/Foo", &exact, pathMatch{exact: true, path: "/Foo"}},
		{"", &impl, pathMatch{path: "/"}},
		{"/x/", &impl, pathMatch{path: "/x"}},
	}
	for _, c := range cases {
		got, err := parsePath(networkingv1.HTTPIngressPath{Path: c.path, PathType: c.pt}, false)
		if err != nil || got != c.want {
			t.Errorf("parsePath(%q, %s) = %v, %v; want %v", c.path, *c.pt, got, err, c.want)
		}
	}
}

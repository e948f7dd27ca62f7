package translator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/translator/policy"
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

// gwRoute is a Gateway API route for precedence tests, named by its
// position in the expected order.
func gwRoute(name string, m pathMatch, req policy.RequestMatch) *httpRoute {
	return &httpRoute{match: m, origin: ObjectRef{Name: name}, gw: &gatewayParts{request: req, requestKey: requestKey(req)}}
}

// TestGatewayPrecedence: at one path, a method match first, then more
// headers, then more query parameters; the path still comes first;
// routes that tie keep the order they were added in (the front end's:
// oldest route first); Ingress routes interleave by path alone.
func TestGatewayPrecedence(t *testing.T) {
	h := func(n int) []policy.ValueMatch {
		out := make([]policy.ValueMatch, n)
		for i := range out {
			out[i] = policy.ValueMatch{Name: fmt.Sprintf("h%d", i), Value: "v"}
		}
		return out
	}
	root, api := pathMatch{path: "/"}, pathMatch{path: "/api"}
	want := []*httpRoute{
		gwRoute("exact", pathMatch{exact: true, path: "/api/v1"}, policy.RequestMatch{}),
		gwRoute("api-method", api, policy.RequestMatch{Method: "GET"}),
		gwRoute("api-2h", api, policy.RequestMatch{Headers: h(2)}),
		gwRoute("api-1h-2q", api, policy.RequestMatch{Headers: h(1), Query: h(2)}),
		gwRoute("api-1h-older", api, policy.RequestMatch{Headers: []policy.ValueMatch{{Name: "a", Value: "1"}}}),
		gwRoute("api-1h-newer", api, policy.RequestMatch{Headers: []policy.ValueMatch{{Name: "b", Value: "1"}}}),
		{match: api, origin: ObjectRef{Kind: "Ingress", Name: "ingress-api"}},
		gwRoute("root-method-3h", root, policy.RequestMatch{Method: "POST", Headers: h(3)}),
		gwRoute("root-method", root, policy.RequestMatch{Method: "GET"}),
		gwRoute("root-1q", root, policy.RequestMatch{Query: h(1)}),
		gwRoute("root", root, policy.RequestMatch{}),
	}
	for seed := uint64(0); seed < 20; seed++ {
		got := slices.Clone(want)
		r := rand.New(rand.NewPCG(seed, 0))
		r.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		// The front end adds ties in its order: restore it among them.
		older, newer := slices.Index(got, want[4]), slices.Index(got, want[5])
		if older > newer {
			got[older], got[newer] = got[newer], got[older]
		}
		sortByPrecedence(got)
		if !slices.Equal(got, want) {
			names := func(rs []*httpRoute) (out []string) {
				for _, r := range rs {
					out = append(out, r.origin.Name)
				}
				return out
			}
			t.Fatalf("seed %d: got %v, want %v", seed, names(got), names(want))
		}
	}
}

// TestRouteKeyDuplicates: the same path with the same request match is
// one key, whatever the order of its headers and query parameters or
// the case of its header names; anything else, the match type
// included, is another.
func TestRouteKeyDuplicates(t *testing.T) {
	api := pathMatch{path: "/api"}
	a := gwRoute("a", api, policy.RequestMatch{Method: "GET", Headers: []policy.ValueMatch{{Name: "X-A", Value: "1"}, {Name: "b", Value: "2"}}, Query: []policy.ValueMatch{{Name: "q", Value: "1"}}})
	same := gwRoute("b", api, policy.RequestMatch{Method: "GET", Headers: []policy.ValueMatch{{Name: "B", Value: "2"}, {Name: "x-a", Value: "1"}}, Query: []policy.ValueMatch{{Name: "q", Value: "1"}}})
	if a.key() != same.key() {
		t.Errorf("keys differ: %q, %q", a.key().request, same.key().request)
	}
	ingress := &httpRoute{match: api}
	if gwRoute("c", api, policy.RequestMatch{}).key() != ingress.key() {
		t.Error("a Gateway route without a request match is not a duplicate of an Ingress path with its path")
	}
	for _, other := range []*httpRoute{
		gwRoute("d", api, policy.RequestMatch{Method: "POST", Headers: a.gw.request.Headers, Query: a.gw.request.Query}),
		gwRoute("e", api, policy.RequestMatch{Method: "GET", Headers: a.gw.request.Headers}),
		gwRoute("f", api, policy.RequestMatch{Method: "GET", Headers: a.gw.request.Headers, Query: []policy.ValueMatch{{Name: "Q", Value: "1"}}}),
		gwRoute("g", api, policy.RequestMatch{Method: "GET", Headers: []policy.ValueMatch{{Name: "X-A", Value: "1", Regex: true}, {Name: "b", Value: "2"}}, Query: a.gw.request.Query}),
		gwRoute("h", pathMatch{exact: true, path: "/api"}, a.gw.request),
		ingress,
	} {
		if other.key() == a.key() {
			t.Errorf("%s: same key as a: %q", other.origin.Name, other.key().request)
		}
	}
}

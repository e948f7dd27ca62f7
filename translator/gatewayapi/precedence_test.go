package gatewayapi

import (
	"slices"
	"testing"
	"time"

	"github.com/fairwayhq/fairway/translator/policy"
)

// TestComparePrecedence sorts a shuffled set of rules into the order the
// spec gives, each neighbour pair differing in exactly the criterion that
// ranks them.
func TestComparePrecedence(t *testing.T) {
	old := Object{Kind: kindHTTPRoute, Namespace: "b", Name: "old", Created: time.Unix(100, 0)}
	newer := Object{Kind: kindHTTPRoute, Namespace: "a", Name: "new", Created: time.Unix(200, 0)}
	sameAgeA := Object{Kind: kindHTTPRoute, Namespace: "a", Name: "z", Created: time.Unix(300, 0)}
	sameAgeB := Object{Kind: kindHTTPRoute, Namespace: "b", Name: "a", Created: time.Unix(300, 0)}
	prefix := func(v string) policy.PathMatch { return policy.PathMatch{Kind: policy.PathPrefix, Value: v} }
	hdr := []policy.ValueMatch{{Name: "x", Value: "1"}}
	hdr2 := []policy.ValueMatch{{Name: "x", Value: "1"}, {Name: "y", Value: "2"}}
	want := []*HTTPRule{
		{Route: newer, Path: policy.PathMatch{Kind: policy.PathExact, Value: "/a"}},
		{Route: newer, Path: prefix("/longer/prefix")},
		{Route: newer, Path: prefix("/p"), Request: policy.RequestMatch{Method: "GET"}},
		{Route: newer, Path: prefix("/p"), Request: policy.RequestMatch{Headers: hdr2}},
		{Route: newer, Path: prefix("/p"), Request: policy.RequestMatch{Headers: hdr, Query: hdr}},
		{Route: newer, Path: prefix("/p"), Request: policy.RequestMatch{Headers: hdr}},
		{Route: old, Path: prefix("/")},
		{Route: newer, Path: prefix("/")},
		{Route: sameAgeA, Path: prefix("/")},
		{Route: sameAgeB, Path: prefix("/"), Rule: 0, Match: 1},
		{Route: sameAgeB, Path: prefix("/"), Rule: 1, Match: 0},
		{Route: old, Path: policy.PathMatch{Kind: policy.PathRegex, Value: "/re.*/longer"}},
		{Route: old, Path: policy.PathMatch{Kind: policy.PathRegex, Value: "/re.*"}},
	}
	for seed := range 5 {
		got := slices.Clone(want)
		for i := range got {
			j := (i*7 + seed*3) % len(got)
			got[i], got[j] = got[j], got[i]
		}
		slices.SortFunc(got, ComparePrecedence)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("seed %d: position %d is %+v, want %+v", seed, i, *got[i], *want[i])
			}
		}
	}
	for i := 0; i+1 < len(want); i++ {
		if ComparePrecedence(want[i], want[i+1]) >= 0 || ComparePrecedence(want[i+1], want[i]) <= 0 {
			t.Errorf("rules %d and %d are not strictly ordered", i, i+1)
		}
	}
}

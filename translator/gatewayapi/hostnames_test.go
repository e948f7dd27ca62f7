package gatewayapi

import (
	"slices"
	"testing"
)

func TestIntersectHostnames(t *testing.T) {
	cases := []struct {
		listener string
		route    []string
		want     []string
		ok       bool
	}{
		{"", nil, nil, true},
		{"", []string{"a.example.com"}, []string{"a.example.com"}, true},
		{"a.example.com", nil, []string{"a.example.com"}, true},
		{"very.specific.com", []string{"non.matching.com", "*.nonmatchingwildcard.io", "very.specific.com"}, []string{"very.specific.com"}, true},
		// A listener wildcard admits any number of labels, never the bare domain.
		{"*.wildcard.io", []string{"wildcard.io", "foo.wildcard.io", "foo.bar.wildcard.io"}, []string{"foo.bar.wildcard.io", "foo.wildcard.io"}, true},
		// A route wildcard that admits the listener's host gives the listener's host.
		{"very.specific.com", []string{"*.specific.com"}, []string{"very.specific.com"}, true},
		// Two wildcards: the more specific one.
		{"*.anotherwildcard.io", []string{"*.anotherwildcard.io"}, []string{"*.anotherwildcard.io"}, true},
		{"*.example.com", []string{"*.a.example.com"}, []string{"*.a.example.com"}, true},
		{"*.a.example.com", []string{"*.example.com"}, []string{"*.a.example.com"}, true},
		{"a.example.com", []string{"b.example.com", "*.other.com"}, nil, false},
		{"*.example.com", []string{"example.com"}, nil, false},
		// Case-insensitive, and each host once.
		{"A.Example.com", []string{"a.example.COM", "*.example.com"}, []string{"a.example.com"}, true},
	}
	for _, c := range cases {
		got, ok := IntersectHostnames(c.listener, c.route)
		if ok != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("IntersectHostnames(%q, %q) = %q, %v; want %q, %v", c.listener, c.route, got, ok, c.want, c.ok)
		}
	}
}

func TestOverlap(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"", "a.example.com", true},
		{"a.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "*.b.example.com", true},
		{"*.example.com", "example.com", false},
		{"a.example.com", "b.example.com", false},
		{"*.a.com", "*.b.com", false},
	}
	for _, c := range cases {
		if got := overlap(c.a, c.b); got != c.want {
			t.Errorf("overlap(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := overlap(c.b, c.a); got != c.want {
			t.Errorf("overlap(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

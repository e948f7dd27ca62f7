package translator

import (
	"regexp"
	"testing"
)

// hostCases pin the Ingress host rules: "*.foo.com" matches exactly one
// extra label; matching is case-insensitive and ignores a port.
var hostCases = []struct {
	wildcard, name string
	want           bool
}{
	{"*.foo.com", "bar.foo.com", true},
	{"*.foo.com", "BAR.Foo.COM", true},
	{"*.foo.com", "bar.foo.com:8443", true},
	{"*.foo.com", "x-1.foo.com", true},
	{"*.foo.com", "baz.bar.foo.com", false},
	{"*.foo.com", "foo.com", false},
	{"*.foo.com", ".foo.com", false},
	{"*.foo.com", "barfoo.com", false},
	{"*.foo.com", "bar.foo.com.evil.org", false},
	{"*.foo.com", "bar.foo.co", false},
	{"*.a.b.c", "x.a.b.c", true},
	{"*.a.b.c", "x.y.a.b.c", false},
}

func TestWildcardMatches(t *testing.T) {
	for _, c := range hostCases {
		if got := wildcardMatches(c.wildcard, c.name); got != c.want {
			t.Errorf("wildcardMatches(%q, %q) = %v, want %v", c.wildcard, c.name, got, c.want)
		}
	}
	if wildcardMatches("foo.com", "foo.com") {
		t.Error("an exact host is not a wildcard")
	}
}

// TestSingleLabelRegex checks that the :authority regex Envoy gets encodes
// the same rule as wildcardMatches. Go's regexp and Envoy's RE2 share the
// syntax used.
func TestSingleLabelRegex(t *testing.T) {
	for _, c := range hostCases {
		re := regexp.MustCompile(singleLabelRegex(c.wildcard))
		if got := re.MatchString(c.name); got != c.want {
			t.Errorf("regex %s on %q = %v, want %v", re, c.name, got, c.want)
		}
	}
}

func TestValidateHost(t *testing.T) {
	valid := []string{"foo.com", "a.b.c.example.com", "*.foo.com", "localhost", "x-1.example.com"}
	invalid := []string{"Foo.com", "foo_bar.com", "*.", "*", "foo.*.com", "*foo.com", "10.0.0.1", "::1", "foo.com:80", "-foo.com", "foo..com"}
	for _, h := range valid {
		if err := validateHost(h); err != nil {
			t.Errorf("validateHost(%q) = %v, want nil", h, err)
		}
	}
	for _, h := range invalid {
		if err := validateHost(h); err == nil {
			t.Errorf("validateHost(%q) = nil, want an error", h)
		}
	}
}

func TestStripPort(t *testing.T) {
	for in, want := range map[string]string{
		"foo.com": "foo.com", "foo.com:80": "foo.com", "[::1]:443": "[::1]", "[::1]": "[::1]",
	} {
		if got := stripPort(in); got != want {
			t.Errorf("stripPort(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTLSCovers(t *testing.T) {
	c := &tlsConfig{hostSecret: map[string]string{"shop.example.com": "s", "*.wild.com": "w"}}
	for host, want := range map[string]bool{
		"":                 true, // the catch-all serves host-less rules on every host
		"shop.example.com": true,
		"api.example.com":  false,
		"a.wild.com":       true,
		"a.b.wild.com":     false,
		"wild.com":         false,
		"*.wild.com":       true,
		"*.other.com":      false,
	} {
		if got := c.covers(host); got != want {
			t.Errorf("covers(%q) = %v, want %v", host, got, want)
		}
	}
	c.defaultSecret = "d"
	if !c.covers("api.example.com") {
		t.Error("a default certificate covers every host")
	}
}

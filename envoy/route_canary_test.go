package envoy

import (
	"regexp"
	"testing"
)

// TestCookieCondition: the cookie's name=value is found among the
// request's cookies however they are joined, and only as a whole pair:
// a name with RE2 metacharacters means itself.
func TestCookieCondition(t *testing.T) {
	c := CookieCondition("a+b.c", "always")
	if c.Name != "cookie" || c.Exact != "" {
		t.Fatalf("condition %+v", c)
	}
	whole := regexp.MustCompile(`^(?:` + c.Regex + `)$`) // Envoy's safe_regex matches the whole value
	for value, want := range map[string]bool{
		"a+b.c=always":                  true,
		"x=1; a+b.c=always":             true,
		"x=1;a+b.c=always; y=2":         true,
		"x=1,a+b.c=always":              true, // two cookie headers, joined by Envoy
		"aab.c=always":                  false,
		"a+bxc=always":                  false,
		"za+b.c=always":                 false,
		"a+b.c=alwaysx":                 false,
		"a+b.c=never":                   false,
		"x=a+b.c=always":                false,
		"a+b.c=always;":                 true,
		"session=abc; a+b.c=always ; z": true,
	} {
		if got := whole.MatchString(value); got != want {
			t.Errorf("%q: match %v, want %v", value, got, want)
		}
	}
}

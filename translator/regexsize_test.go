package translator

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// TestRegexProgramSizeBoundsRE2 holds the estimate against RE2 itself:
// the sizes below are RE2::ProgramSize() as measured with the RE2 library
// (release 2022-06-01, Debian's libre2-9) on these exact patterns. The
// estimate must never be below RE2's, or Envoy could refuse a regex that
// fairway let through; for the wildcard check, the only regex fairway
// emits, it must also stay close, or valid hosts would be refused.
func TestRegexProgramSizeBoundsRE2(t *testing.T) {
	for _, c := range []struct {
		expr  string
		re2   int
		close bool // the estimate is within 4 of RE2's
	}{
		{singleLabelRegex("*.a"), 20, true},
		{singleLabelRegex("*.a-b1a-b1a"), 28, true},
		{singleLabelRegex("*." + strings.Repeat("a-b1", 80)[:79]), 98, true},
		{singleLabelRegex("*." + strings.Repeat("a-b1", 80)[:80]), 99, true},
		{singleLabelRegex("*." + strings.Repeat("a-b1", 80)[:81]), 100, true},
		{singleLabelRegex("*." + strings.Repeat("a-b1", 80)[:82]), 101, true},
		{singleLabelRegex("*." + strings.Repeat("a-b1", 80)[:251]), 270, true},
		{`^a$`, 4, true},
		{`^[^.:]$`, 11, true},
		{`(?i)^k$`, 6, false},    // k folds to the Kelvin sign, 3 bytes in UTF-8
		{`ab`, 6, true},          // unanchored: RE2 adds a .*? prefix
		{`(?s)^.$`, 9, false},    // any rune, as UTF-8
		{`^\p{L}$`, 1195, false}, // a Unicode category is hundreds of byte ranges
		{singleLabelRegex("*.kks.com"), 34, false},
		{`^\p{Greek}+x$`, 66, false},
	} {
		got, err := regexProgramSize(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if got < c.re2 {
			t.Errorf("%s: estimate %d is below RE2's %d", c.expr, got, c.re2)
		}
		if c.close && got > c.re2+4 {
			t.Errorf("%s: estimate %d is more than 4 above RE2's %d", c.expr, got, c.re2)
		}
	}
}

// TestLongWildcardHostIsRefused: a wildcard host whose single-label check
// is over the limit is a RegexTooLarge Problem for its rule alone; the
// Ingress's other rules and other Ingresses are served, and every valid
// host fits fairway's own limit.
func TestLongWildcardHostIsRefused(t *testing.T) {
	long := "*." + strings.Repeat("abcdefghi.", 9) + "example.com" // 103 characters
	if err := validateHost(long); err != nil {
		t.Fatalf("the test host must be valid: %v", err)
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "long", Namespace: "ns"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
			{Host: long, IngressRuleValue: prefixRule("/")},
			{Host: "*.short.example.com", IngressRuleValue: prefixRule("/")},
		}},
	}
	st := parseIngress(ing, true, withDefaults(Options{RegexProgramSizeLimit: 100}), nil)
	if len(st.problems) != 1 || st.problems[0].Reason != RegexTooLarge || !strings.Contains(st.problems[0].Message, "spec.rules[0].host") {
		t.Fatalf("problems = %+v, want one RegexTooLarge for spec.rules[0].host", st.problems)
	}
	if len(st.hosts) != 1 || st.hosts[0].host != "*.short.example.com" {
		t.Fatalf("hosts = %+v, want only the short wildcard", st.hosts)
	}
	// The largest valid wildcard host (253 characters) fits the limit the
	// bootstrap sets.
	longest := "*." + strings.Repeat(strings.Repeat("a", 62)+".", 4)[:247] + ".com"
	if err := validateHost(longest); err != nil {
		t.Fatalf("the longest host must be valid: %v", err)
	}
	if st := parseIngress(&networkingv1.Ingress{Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: longest, IngressRuleValue: prefixRule("/")}}}}, true, withDefaults(Options{RegexProgramSizeLimit: envoy.RegexProgramSizeLimit}), nil); len(st.problems) != 0 {
		t.Errorf("a %d-character host is refused under envoy.RegexProgramSizeLimit: %+v", len(longest), st.problems)
	}
}

func prefixRule(path string) networkingv1.IngressRuleValue {
	pt := networkingv1.PathTypePrefix
	return networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
		Path: path, PathType: &pt,
		Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "s", Port: networkingv1.ServiceBackendPort{Number: 80}}},
	}}}}
}

func withDefaults(o Options) *Options {
	o = o.WithDefaults()
	return &o
}

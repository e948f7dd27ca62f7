package annotations

import (
	"strings"
	"testing"

	"github.com/fairwayhq/fairway/translator/policy"
)

func TestCanaryParsers(t *testing.T) {
	on := NginxPrefix + "canary"
	good := []struct {
		annotations map[string]string
		want        policy.Canary
	}{
		{map[string]string{on: "true"}, policy.Canary{Enabled: true, WeightTotal: 100}},
		{map[string]string{on: "true", NginxPrefix + "canary-weight": "20"}, policy.Canary{Enabled: true, Weight: 20, WeightTotal: 100}},
		{map[string]string{on: "true", NginxPrefix + "canary-weight": "30", FairwayPrefix + "canary-weight-total": "1000"}, policy.Canary{Enabled: true, Weight: 30, WeightTotal: 1000}},
		{map[string]string{on: "true", NginxPrefix + "canary-weight": "100"}, policy.Canary{Enabled: true, Weight: 100, WeightTotal: 100}},
		{map[string]string{on: "true", NginxPrefix + "canary-by-header": "X-Canary", NginxPrefix + "canary-by-header-value": "beta"}, policy.Canary{Enabled: true, Header: "X-Canary", HeaderValue: "beta", WeightTotal: 100}},
		{map[string]string{on: "true", NginxPrefix + "canary-by-header": "x-region", NginxPrefix + "canary-by-header-pattern": "^eu-.*"}, policy.Canary{Enabled: true, Header: "x-region", HeaderPattern: "^eu-.*", WeightTotal: 100}},
		{map[string]string{on: "true", NginxPrefix + "canary-by-cookie": "canary.v2"}, policy.Canary{Enabled: true, Cookie: "canary.v2", WeightTotal: 100}},
	}
	for _, c := range good {
		r, found := Parse(c.annotations)
		if len(found) != 0 || r.Canary == nil || *r.Canary != c.want {
			t.Errorf("%v: got %+v, %v; want %+v", c.annotations, r.Canary, found, c.want)
		}
	}
	bad := []struct{ key, value string }{
		{"canary-weight", "-1"},
		{"canary-weight", "20%"},
		{"canary-weight", "101"}, // over the default total
		{"canary-weight-total", "0"},
		{"canary-weight-total", "ten"},
		{"canary-by-header", "X Canary"},
		{"canary-by-header", "*"},
		{"canary-by-header", "x_canary"},
		{"canary-by-header-value", ""},
		{"canary-by-header-value", "beta\n"},
		{"canary-by-header-pattern", "(unclosed"},
		{"canary-by-header-pattern", `(?<=x)y`}, // lookbehind is not RE2
		{"canary-by-header-pattern", strings.Repeat("a", maxCanaryPattern+1)},
		{"canary-by-cookie", "a;b"},
		{"canary-by-cookie", "a=b"},
		{"canary-by-cookie", ""},
	}
	for _, c := range bad {
		r, found := Parse(map[string]string{on: "true", NginxPrefix + c.key: c.value})
		if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks || !strings.Contains(found[0].Key, c.key) || !strings.Contains(found[0].Message, "ignored") && !strings.Contains(found[0].Message, "no weighted share") {
			t.Errorf("%s=%q: findings %+v", c.key, c.value, found)
			continue
		}
		if r.Canary == nil || !r.Canary.Enabled || r.Canary.Weight != 0 || r.Canary.Header != "" || r.Canary.HeaderValue != "" || r.Canary.HeaderPattern != "" || r.Canary.Cookie != "" {
			t.Errorf("%s=%q: the malformed value was kept: %+v", c.key, c.value, r.Canary)
		}
	}
}

// TestCanaryKeysWithoutCanary: canary-* keys without canary: "true" (or
// with a malformed canary) make no canary, and say so.
func TestCanaryKeysWithoutCanary(t *testing.T) {
	for _, v := range []string{"", "false", "yes"} {
		a := map[string]string{NginxPrefix + "canary-weight": "50"}
		if v != "" {
			a[NginxPrefix+"canary"] = v
		}
		r, found := Parse(a)
		if r.Canary != nil {
			t.Errorf("canary=%q: a canary %+v", v, r.Canary)
		}
		var ignored bool
		for _, f := range found {
			ignored = ignored || f.Key == NginxPrefix+"canary" && strings.Contains(f.Message, "canary-* annotations are ignored")
		}
		if !ignored {
			t.Errorf("canary=%q: findings %+v do not say the canary-* keys are ignored", v, found)
		}
	}
	if r, found := Parse(map[string]string{NginxPrefix + "canary": "false"}); r.Canary != nil || len(found) != 0 {
		t.Errorf(`canary "false" alone: %+v, %v`, r.Canary, found)
	}
}

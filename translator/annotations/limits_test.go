package annotations

import (
	"testing"
	"time"

	"github.com/fairwayhq/fairway/translator/policy"
)

func TestParseSeconds(t *testing.T) {
	good := map[string]time.Duration{"1": time.Second, "60": time.Minute, " 3600 ": time.Hour, "86400": 24 * time.Hour}
	for v, want := range good {
		if got, err := parseSeconds(v); err != nil || got != want {
			t.Errorf("parseSeconds(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"", "0", "-5", "20k", "1.5", "60s", "86401", "99999999999"} {
		if got, err := parseSeconds(v); err == nil || got != 0 {
			t.Errorf("parseSeconds(%q) = %v, %v; want an error and 0", v, got, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]policy.Size{
		"0": 0, "1": 1, "100": 100, "8k": 8 << 10, "8K": 8 << 10, "1m": 1 << 20, "50M": 50 << 20,
		"2g": 2 << 30, "1024g": 1 << 40,
	}
	for v, want := range good {
		if got, err := parseSize(v); err != nil || got != want {
			t.Errorf("parseSize(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"", "m", "15r", "-1", "1.5m", "1mb", "1 m", "1025g", "18446744073709551616"} {
		if _, err := parseSize(v); err == nil {
			t.Errorf("parseSize(%q): want an error", v)
		}
	}
}

func TestLimitsAnnotations(t *testing.T) {
	r, found := Parse(map[string]string{
		NginxPrefix + "proxy-read-timeout":        "20",
		NginxPrefix + "proxy-send-timeout":        "30",
		NginxPrefix + "proxy-body-size":           "8m",
		NginxPrefix + "proxy-next-upstream-tries": "5",
	})
	if len(found) != 0 {
		t.Fatalf("findings: %+v", found)
	}
	if r.Timeouts.Read != 20*time.Second || r.Timeouts.Send != 30*time.Second {
		t.Errorf("timeouts %+v", r.Timeouts)
	}
	if r.BodyLimit == nil || *r.BodyLimit != 8<<20 {
		t.Errorf("body limit %v", r.BodyLimit)
	}
	if r.Retries == nil || r.Retries.Attempts != 5 {
		t.Errorf("retries %+v", r.Retries)
	}
}

// TestLimitsInvalidAreIgnored: a malformed limit is an Invalid finding
// that does not block, and leaves fairway's default.
func TestLimitsInvalidAreIgnored(t *testing.T) {
	for key, v := range map[string]string{
		"proxy-read-timeout": "20k", "proxy-send-timeout": "0", "proxy-body-size": "15r",
		"proxy-next-upstream-tries": "-1",
	} {
		r, found := Parse(map[string]string{NginxPrefix + key: v})
		if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks || found[0].Key != NginxPrefix+key {
			t.Errorf("%s=%q: findings %+v; want one Invalid that does not block", key, v, found)
			continue
		}
		if r.Timeouts != (policy.Timeouts{}) || r.BodyLimit != nil || r.Retries != nil {
			t.Errorf("%s=%q: policy %+v; want the defaults", key, v, r)
		}
	}
}

func TestNextUpstreamTriesZeroIsUnlimited(t *testing.T) {
	r, found := Parse(map[string]string{FairwayPrefix + "proxy-next-upstream-tries": "0"})
	if len(found) != 0 || r.Retries == nil || r.Retries.Attempts != 0 {
		t.Fatalf("got %+v, %+v; want Attempts 0 (unlimited)", r.Retries, found)
	}
}

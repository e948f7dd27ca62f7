package annotations

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/fairwayhq/fairway/translator/policy"
)

func TestRateLimitParses(t *testing.T) {
	r, found := Parse(map[string]string{
		NginxPrefix + "limit-rps":              "10",
		NginxPrefix + "limit-rpm":              " 300 ",
		NginxPrefix + "limit-burst-multiplier": "2",
		NginxPrefix + "limit-allowlist":        "192.168.1.7, 10.1.2.3/8,10.0.0.0/8",
	})
	if len(found) != 0 {
		t.Fatalf("findings: %+v", found)
	}
	l := r.RateLimit
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32")}
	if l == nil || l.PerSecond != 10 || l.PerMinute != 300 || l.BurstMultiplier == nil || *l.BurstMultiplier != 2 || !slices.Equal(l.Exempt, want) {
		t.Fatalf("got %+v", l)
	}
	if l.Burst(10) != 20 || (&policy.RateLimit{}).Burst(10) != 50 {
		t.Errorf("burst: %d, default %d; want 20 and 50", l.Burst(10), (&policy.RateLimit{}).Burst(10))
	}
}

// TestRateLimitInvalidBlocks: a rate or multiplier that cannot be read
// blocks the Ingress rather than serving it unlimited or with a burst its
// author did not write.
func TestRateLimitInvalidBlocks(t *testing.T) {
	for key, values := range map[string][]string{
		"limit-rps":              {"ten", "-1", "1.5", "1000001", ""},
		"limit-rpm":              {"30r/m", "60000001"},
		"limit-burst-multiplier": {"x", "-2", "51"},
	} {
		for _, v := range values {
			_, found := Parse(map[string]string{NginxPrefix + "limit-rps": "1", NginxPrefix + key: v})
			if len(found) != 1 || found[0].Kind != Invalid || !found[0].Blocks || found[0].Key != NginxPrefix+key {
				t.Errorf("%s %q: got %+v, want one Invalid finding that blocks", key, v, found)
			}
		}
	}
}

// TestRateLimitExemptNarrows: a malformed exempt item is dropped and
// reported without blocking; the rest applies, and a list with no valid
// item exempts nothing (and keeps limit-whitelist from taking over).
func TestRateLimitExemptNarrows(t *testing.T) {
	r, found := Parse(map[string]string{NginxPrefix + "limit-rps": "1", NginxPrefix + "limit-whitelist": "bogus, 10.0.0.0/33,192.168.0.0/16"})
	if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks || !slices.Equal(r.RateLimit.Exempt, []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}) {
		t.Errorf("got %+v, exempt %v", found, r.RateLimit.Exempt)
	}
	r, found = Parse(map[string]string{NginxPrefix + "limit-rps": "1", NginxPrefix + "limit-allowlist": "bogus", NginxPrefix + "limit-whitelist": "0.0.0.0/0"})
	if len(found) != 2 || found[0].Blocks || found[1].Blocks || r.RateLimit.Exempt == nil || len(r.RateLimit.Exempt) != 0 {
		t.Errorf("got %+v, exempt %v; want nothing exempt", found, r.RateLimit.Exempt)
	}
}

// TestRateLimitAllowlistWins: with both names, limit-allowlist's ranges
// apply, as ingress-nginx reads limit-whitelist only without it.
func TestRateLimitAllowlistWins(t *testing.T) {
	r, found := Parse(map[string]string{NginxPrefix + "limit-rps": "1", NginxPrefix + "limit-allowlist": "10.0.0.0/8", NginxPrefix + "limit-whitelist": "0.0.0.0/0"})
	if len(found) != 1 || found[0].Key != NginxPrefix+"limit-whitelist" || found[0].Blocks || !slices.Equal(r.RateLimit.Exempt, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}) {
		t.Errorf("got %+v, exempt %v", found, r.RateLimit.Exempt)
	}
	_, found = Parse(map[string]string{NginxPrefix + "limit-rps": "1", NginxPrefix + "limit-allowlist": "10.0.0.0/8", NginxPrefix + "limit-whitelist": "10.0.0.0/8"})
	if len(found) != 0 {
		t.Errorf("same ranges under both names: %+v", found)
	}
}

// TestRateLimitWithoutRate: a multiplier or exempt list with no rate
// does nothing and says so; a rate of 0 alone is no limit, silently.
func TestRateLimitWithoutRate(t *testing.T) {
	r, found := Parse(map[string]string{NginxPrefix + "limit-burst-multiplier": "3"})
	if r.RateLimit != nil || len(found) != 1 || found[0].Blocks {
		t.Errorf("multiplier alone: %+v %+v", r.RateLimit, found)
	}
	r, found = Parse(map[string]string{NginxPrefix + "limit-rps": "0"})
	if r.RateLimit != nil || len(found) != 0 {
		t.Errorf("rps 0: %+v %+v", r.RateLimit, found)
	}
}

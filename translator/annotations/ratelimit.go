package annotations

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/fairwayhq/fairway/translator/policy"
)

// rateLimitEntries: ingress-nginx's per-client request limits. A limit
// protects the backend, so a malformed rate or multiplier blocks the
// Ingress (Guards) rather than serving it unlimited, as ingress-nginx's
// annotation validation rejects it; an exempt range is only ever dropped,
// which narrows the exemption. limit-connections is refused
// (refused.go): no Envoy filter counts requests in flight per client.
var rateLimitEntries = []Entry{
	{Key: "limit-rps", Guards: true, Parse: func(v string, r *policy.Route) error {
		n, err := parseLimit(v, maxPerSecond)
		rateLimit(r).PerSecond = n
		return err
	}},
	{Key: "limit-rpm", Guards: true, Parse: func(v string, r *policy.Route) error {
		n, err := parseLimit(v, maxPerMinute)
		rateLimit(r).PerMinute = n
		return err
	}},
	{Key: "limit-burst-multiplier", Guards: true, Parse: func(v string, r *policy.Route) error {
		n, err := parseLimit(v, maxBurstMultiplier)
		if err != nil {
			return err
		}
		rateLimit(r).BurstMultiplier = &n
		return nil
	}},
	// limit-allowlist runs before limit-whitelist (key order), and wins
	// when both are set, as ingress-nginx reads the old name only when
	// the new one is absent.
	{Key: "limit-allowlist", Parse: func(v string, r *policy.Route) error {
		ps, err := parseExempt(v)
		rateLimit(r).Exempt = ps
		return err
	}},
	{Key: "limit-whitelist", Parse: func(v string, r *policy.Route) error {
		l := rateLimit(r)
		ps, err := parseExempt(v)
		if l.Exempt != nil {
			if slices.Equal(l.Exempt, ps) && err == nil {
				return nil
			}
			return errors.New("limit-allowlist is set too and wins, as in ingress-nginx")
		}
		l.Exempt = ps
		return err
	}},
}

// Bounds of the limits: far above any per-client rate a front door
// enforces, and low enough that a burst (rate × multiplier + 1) stays
// within Envoy's 32-bit token counts.
const (
	maxPerSecond       = 1_000_000
	maxPerMinute       = 60_000_000
	maxBurstMultiplier = 50
)

func rateLimit(r *policy.Route) *policy.RateLimit {
	if r.RateLimit == nil {
		r.RateLimit = &policy.RateLimit{}
	}
	return r.RateLimit
}

// parseLimit reads a whole number from 0 to max; 0 is no limit for a
// rate, as in ingress-nginx.
func parseLimit(v string, max uint32) (uint32, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil || n > uint64(max) {
		return 0, fmt.Errorf("want a whole number from 0 to %d", max)
	}
	return uint32(n), nil
}

// parseExempt reads a comma-separated list of CIDRs or addresses. A
// malformed item is left out and reported while the rest applies: an
// exempt range is an exception to a limit, so dropping one only limits
// more clients, never fewer. The result is non-nil even when every item
// was malformed, so that limit-whitelist does not take over.
func parseExempt(v string) ([]netip.Prefix, error) {
	out := []netip.Prefix{}
	var bad []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := parseRange(f)
		if err != nil {
			bad = append(bad, strconv.Quote(f))
			continue
		}
		out = append(out, p)
	}
	out = CanonicalPrefixes(out)
	if len(bad) > 0 {
		return out, partialError{fmt.Errorf("%s: not a CIDR or an address, left out, so not exempt", strings.Join(bad, ", "))}
	}
	if len(out) == 0 {
		return out, errors.New("want a comma-separated list of CIDRs such as 10.0.0.0/8,192.168.1.7")
	}
	return out, nil
}

// rateWithoutLimit drops a multiplier or an exempt list that has no rate
// to act on (limit-rps and limit-rpm unset or 0), as ingress-nginx builds
// no zone then, and says so for each.
func rateWithoutLimit(r *policy.Route) []Finding {
	l := r.RateLimit
	if l == nil || l.PerSecond > 0 || l.PerMinute > 0 {
		return nil
	}
	r.RateLimit = nil
	const nothing = "does nothing without limit-rps or limit-rpm, as in ingress-nginx"
	var found []Finding
	if l.BurstMultiplier != nil {
		found = append(found, Finding{Key: NginxPrefix + "limit-burst-multiplier", Kind: Invalid, Message: nothing})
	}
	if l.Exempt != nil {
		found = append(found, Finding{Key: NginxPrefix + "limit-allowlist", Kind: Invalid, Message: "(or limit-whitelist) " + nothing})
	}
	return found
}

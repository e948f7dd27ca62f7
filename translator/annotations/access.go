package annotations

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fairwayhq/fairway/translator/policy"
)

// accessEntries: who gets in, by client address, and CORS. The source
// ranges guard access: a value fairway cannot honour exactly blocks the
// Ingress rather than serving it open.
var accessEntries = []Entry{
	{Key: "allowlist-source-range", Guards: true, Parse: allowRanges("whitelist-source-range")},
	{Key: "whitelist-source-range", Guards: true, Parse: allowRanges("allowlist-source-range")},
	{Key: "denylist-source-range", Guards: true, Parse: func(v string, r *policy.Route) error {
		ps, err := parseRanges(v)
		if err != nil {
			return err
		}
		access(r).Deny = ps
		return nil
	}},
	{Key: "enable-cors", Parse: func(v string, r *policy.Route) error {
		on, err := parseBool(v)
		if on {
			cors(r).Enabled = true
		}
		return err
	}},
	{Key: "cors-allow-origin", Parse: func(v string, r *policy.Route) error {
		origins, err := parseOrigins(v)
		if origins != nil {
			cors(r).AllowOrigins = origins
		}
		return err
	}},
	{Key: "cors-allow-methods", Parse: func(v string, r *policy.Route) error {
		ms, err := parseTokens(v, methodToken, "HTTP methods such as \"GET, POST\"")
		if err == nil {
			cors(r).AllowMethods = ms
		}
		return err
	}},
	{Key: "cors-allow-headers", Parse: func(v string, r *policy.Route) error {
		hs, err := parseTokens(v, headerToken, "header names such as \"X-Api-Key, Content-Type\", or \"*\"")
		if err == nil {
			cors(r).AllowHeaders = hs
		}
		return err
	}},
	{Key: "cors-expose-headers", Parse: func(v string, r *policy.Route) error {
		hs, err := parseTokens(v, headerToken, "header names such as \"X-Request-Id\", or \"*\"")
		if err == nil {
			cors(r).ExposeHeaders = hs
		}
		return err
	}},
	{Key: "cors-allow-credentials", Parse: func(v string, r *policy.Route) error {
		on, err := parseBool(v)
		if err == nil {
			cors(r).AllowCredentials = &on
		}
		return err
	}},
	{Key: "cors-max-age", Parse: func(v string, r *policy.Route) error {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 31)
		if err != nil {
			return errors.New("want whole seconds, such as 600")
		}
		d := time.Duration(n) * time.Second
		cors(r).MaxAge = &d
		return nil
	}},
}

// corsWithoutEnable drops cors-* settings of an object that did not set
// enable-cors: "true", as ingress-nginx ignores them, and says so.
func corsWithoutEnable(r *policy.Route) []Finding {
	if r.CORS == nil || r.CORS.Enabled {
		return nil
	}
	r.CORS = nil
	return []Finding{{
		Key: NginxPrefix + "enable-cors", Kind: Invalid,
		Message: `is not "true", so this Ingress's cors-* annotations are ignored, as in ingress-nginx`,
	}}
}

func access(r *policy.Route) *policy.Access {
	if r.Access == nil {
		r.Access = &policy.Access{}
	}
	return r.Access
}

func cors(r *policy.Route) *policy.CORS {
	if r.CORS == nil {
		r.CORS = &policy.CORS{}
	}
	return r.CORS
}

// allowRanges is the parser of an allow list under one of its two names
// (whitelist- is ingress-nginx's old name of allowlist-). Entries run in
// key order, so the second name sees the first's list: when the two
// disagree, fairway cannot tell which the author meant, and refuses.
func allowRanges(other string) func(string, *policy.Route) error {
	return func(v string, r *policy.Route) error {
		ps, err := parseRanges(v)
		if err != nil {
			return err
		}
		a := access(r)
		if a.Allow != nil && !slices.Equal(a.Allow, ps) {
			return fmt.Errorf("%s is set too, to other ranges; set one of the two", other)
		}
		a.Allow = ps
		return nil
	}
}

// parseRanges reads a comma-separated list of CIDRs; a bare address is
// its own /32 or /128, as in ingress-nginx. Host bits are cleared
// ("10.1.2.3/8" is 10.0.0.0/8, as nginx reads it), and the list is sorted
// and without duplicates, so that the same ranges give the same config.
func parseRanges(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := parseRange(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("want a comma-separated list of CIDRs such as 10.0.0.0/8,192.168.1.7")
	}
	return CanonicalPrefixes(out), nil
}

// CanonicalPrefixes sorts ps by address, then length, and drops
// duplicates, so that the same ranges, however written, give the same
// config. A Service's source ranges use it too.
func CanonicalPrefixes(ps []netip.Prefix) []netip.Prefix {
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(ps)
}

func parseRange(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR or an IP address", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR or an IP address", s)
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		if p.Bits() < 0 {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR fairway can match: an IPv4-mapped prefix shorter than /96", s)
		}
	}
	return p.Masked(), nil
}

// CORS values end up in response headers, so they are checked token by
// token, as ingress-nginx does, and never passed on as written.
var (
	methodToken = regexp.MustCompile(`^[A-Za-z]+$`)
	headerToken = regexp.MustCompile(`^([A-Za-z0-9_-]+|\*)$`)
	// originPattern: scheme://host[:port], the host optionally starting
	// with "*." (ingress-nginx's single-label wildcard).
	originPattern = regexp.MustCompile(`^[a-z][a-z0-9+.-]*://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?$`)
)

// parseTokens reads a comma-separated list of tokens, each matching re.
func parseTokens(v string, re *regexp.Regexp, want string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !re.MatchString(f) {
			return nil, fmt.Errorf("%q is not allowed here; want %s", f, want)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty; want %s", want)
	}
	return out, nil
}

// parseOrigins reads cors-allow-origin: a comma-separated list of
// origins, or "*" (anywhere in the list, as in ingress-nginx, where it
// allows every origin). A malformed origin is left out and reported, and
// the others apply: dropping one only narrows what is allowed. When none
// is well-formed, the value is invalid.
func parseOrigins(v string) ([]string, error) {
	var out, bad []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
		case f == "*":
			return []string{"*"}, nil
		case originPattern.MatchString(f):
			out = append(out, strings.ToLower(f))
		default:
			bad = append(bad, strconv.Quote(f))
		}
	}
	const want = `want "*" or scheme://host[:port], the host optionally starting with "*."`
	if len(out) == 0 {
		return nil, errors.New("no origin in it; " + want)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(bad) > 0 {
		return out, partialError{fmt.Errorf("%s: not an origin, left out (%s)", strings.Join(bad, ", "), want)}
	}
	return out, nil
}

package annotations

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fairwayhq/fairway/translator/policy"
)

// redirectEntries: redirects and extra names (permanent-redirect,
// temporal-redirect and their codes, from-to-www-redirect, server-alias).
// Keys are applied in order, so a code is parsed after its redirect and
// temporal-redirect after permanent-redirect, which it overrides, as in
// ingress-nginx.
var redirectEntries = []Entry{
	{Key: "permanent-redirect", Parse: parsePermanentRedirect},
	{Key: "permanent-redirect-code", Parse: parsePermanentRedirectCode},
	{Key: "temporal-redirect", Parse: parseTemporalRedirect},
	{Key: "temporal-redirect-code", Parse: parseTemporalRedirectCode},
	{Key: "from-to-www-redirect", Parse: parseFromToWWW},
	{Key: "server-alias", Parse: parseServerAlias},
}

// Redirect codes: ingress-nginx's defaults, and the codes Envoy's redirect
// action can answer with (ingress-nginx takes any of 300..308, but 300,
// 304, 305 and 306 do not redirect a browser and Envoy has no redirect
// with them).
const (
	DefaultPermanentRedirectCode = 301
	DefaultTemporalRedirectCode  = 302
)

var redirectCodes = []int{301, 302, 303, 307, 308}

func parsePermanentRedirect(value string, r *policy.Route) error {
	rd, err := parseRedirectURL(value)
	if err != nil {
		return err
	}
	rd.Code = DefaultPermanentRedirectCode
	r.Redirect = rd
	return nil
}

func parseTemporalRedirect(value string, r *policy.Route) error {
	rd, err := parseRedirectURL(value)
	if err != nil {
		return err
	}
	rd.Code, rd.Temporal = DefaultTemporalRedirectCode, true
	r.Redirect = rd
	return nil
}

func parsePermanentRedirectCode(value string, r *policy.Route) error {
	return setRedirectCode(value, r, false, "permanent-redirect")
}

func parseTemporalRedirectCode(value string, r *policy.Route) error {
	return setRedirectCode(value, r, true, "temporal-redirect")
}

// setRedirectCode sets the code of the redirect of the given kind. A code
// without its redirect says nothing, which is reported rather than
// dropped in silence.
func setRedirectCode(value string, r *policy.Route, temporal bool, redirectKey string) error {
	code, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil || !slices.Contains(redirectCodes, code) {
		return fmt.Errorf("not one of the redirect codes 301, 302, 303, 307, 308")
	}
	if r.Redirect == nil || r.Redirect.Temporal != temporal {
		return fmt.Errorf("%s is not set (or is invalid), so there is no redirect to give this code to", redirectKey)
	}
	r.Redirect.Code = code
	return nil
}

// parseRedirectURL takes an absolute http(s) URL, or a path that keeps
// the request's scheme and host. Its parts are checked and kept apart, so
// the Location is built from them and never from the text as written.
func parseRedirectURL(value string) (*policy.Redirect, error) {
	if value == "" {
		return nil, fmt.Errorf("empty URL")
	}
	for _, c := range []byte(value) {
		if c <= ' ' || c == 0x7f {
			return nil, fmt.Errorf("contains %q; a URL cannot hold whitespace or control characters", c)
		}
	}
	u, err := url.Parse(value)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", err)
	}
	rd := &policy.Redirect{Path: u.EscapedPath(), Query: u.RawQuery}
	switch {
	case u.Fragment != "" || strings.Contains(value, "#"):
		return nil, fmt.Errorf("a redirect URL cannot carry a fragment")
	case u.User != nil:
		return nil, fmt.Errorf("a redirect URL cannot carry user information")
	case u.Scheme == "" && u.Host == "":
		if !strings.HasPrefix(value, "/") || strings.HasPrefix(value, "//") {
			return nil, fmt.Errorf("must be an absolute http or https URL, or a path beginning with '/'")
		}
		return rd, nil
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Opaque != "" || u.Host == "":
		return nil, fmt.Errorf("an http(s) URL needs a host")
	}
	rd.Scheme, rd.Host = u.Scheme, strings.ToLower(u.Hostname())
	if err := checkHostName(bracketed(rd.Host)); err != nil {
		return nil, err
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("port %q is not a number from 1 to 65535", p)
		}
		rd.Port = uint32(n)
	}
	if rd.Path == "" {
		rd.Path = "/" // the URL's own path; "" would keep the request's
	}
	return rd, nil
}

// bracketed puts an IPv6 address back in brackets for checkHostName.
func bracketed(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

func parseFromToWWW(value string, r *policy.Route) error {
	b, err := parseBool(value)
	if err != nil {
		return err
	}
	r.Hosts.FromToWWW = b
	return nil
}

// parseServerAlias takes a comma-separated list of host names, kept
// lowercase, sorted and without repeats. The translator checks each as it
// checks a rule's host.
func parseServerAlias(value string, r *policy.Route) error {
	var aliases []string
	for _, a := range strings.Split(value, ",") {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" {
			continue
		}
		if strings.ContainsAny(a, " \t/:@") {
			return fmt.Errorf("alias %q is not a host name", a)
		}
		aliases = append(aliases, a)
	}
	if len(aliases) == 0 {
		return fmt.Errorf("no host name")
	}
	slices.Sort(aliases)
	r.Hosts.Aliases = slices.Compact(aliases)
	return nil
}

// WrittenKey is key with the prefix it is read under in annotations
// (fairway's when both are set), for messages about its value.
func WrittenKey(annotations map[string]string, key string) string {
	full, _ := lookup(annotations, key)
	return full
}

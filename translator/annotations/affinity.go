package annotations

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fairwayhq/fairway/translator/policy"
)

// affinityEntries: session affinity, ingress-nginx's sticky and chash
// balancers. They set policy.Affinity, which makes the route's cluster a
// consistent-hash one and gives the route a hash policy.
var affinityEntries = []Entry{
	{Key: "affinity", Parse: parseAffinity},
	{Key: "affinity-mode", Parse: parseAffinityMode},
	{Key: "affinity-canary-behavior", Parse: parseAffinityCanaryBehavior},
	{Key: "session-cookie-name", Parse: parseSessionCookieName},
	{Key: "session-cookie-path", Parse: parseSessionCookiePath},
	{Key: "session-cookie-max-age", Parse: parseSessionCookieMaxAge},
	{Key: "session-cookie-expires", Parse: parseSessionCookieExpires},
	{Key: "session-cookie-samesite", Parse: parseSessionCookieSameSite},
	{Key: "session-cookie-secure", Parse: parseSessionCookieSecure},
	{Key: "session-cookie-conditional-samesite-none", Parse: parseConditionalSameSiteNone},
	{Key: "session-cookie-change-on-failure", Parse: parseChangeOnFailure},
	{Key: "upstream-hash-by", Parse: parseUpstreamHashBy},
	{Key: "upstream-hash-by-subset", Parse: parseUpstreamHashBySubset},
	{Key: "upstream-hash-by-subset-size", Parse: parseUpstreamHashBySubsetSize},
}

func sessionCookie(r *policy.Route) *policy.SessionCookie {
	if r.Affinity.Cookie == nil {
		r.Affinity.Cookie = &policy.SessionCookie{}
	}
	return r.Affinity.Cookie
}

func parseAffinity(value string, r *policy.Route) error {
	if strings.TrimSpace(value) != "cookie" {
		return fmt.Errorf(`not "cookie", the only affinity ingress-nginx has`)
	}
	sessionCookie(r).Enabled = true
	return nil
}

// parseAffinityMode accepts "balanced", which a consistent hash is: when
// pods come or go, only a share of the sessions move, so the load stays
// even. "persistent" (a session never leaves its pod while it lives)
// needs the pod's address kept in the cookie, which a hash cannot do.
func parseAffinityMode(value string, _ *policy.Route) error {
	switch strings.TrimSpace(value) {
	case "balanced":
		return nil
	case "persistent":
		return fmt.Errorf("fairway keeps sessions by a consistent hash, which moves some of them when pods come or go (balanced); it cannot pin a session to its pod")
	}
	return fmt.Errorf(`not "balanced" or "persistent"`)
}

// parseAffinityCanaryBehavior says whether the affinity cookie also
// keeps a client on its side of a canary's weighted split ("sticky",
// ingress-nginx's default) or the split is drawn anew for each request
// ("legacy").
func parseAffinityCanaryBehavior(value string, r *policy.Route) error {
	switch strings.TrimSpace(value) {
	case "sticky":
		r.Affinity.CanaryLegacy = false
		return nil
	case "legacy":
		r.Affinity.CanaryLegacy = true
		return nil
	}
	return fmt.Errorf(`not "sticky" or "legacy"`)
}

func parseSessionCookieName(value string, r *policy.Route) error {
	if !cookieToken(value) {
		return fmt.Errorf("not a cookie name (letters, digits and !#$%%&'*+-.^_`|~)")
	}
	sessionCookie(r).Name = value
	return nil
}

// cookieToken reports whether v is an RFC 6265 cookie name: an RFC 7230
// token. Anything else would let the value end the Set-Cookie's name.
func cookieToken(v string) bool {
	if v == "" || len(v) > 256 {
		return false
	}
	for _, c := range []byte(v) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// parseSessionCookiePath takes an absolute path of characters a cookie's
// Path may hold: no ";" (which would start another attribute), no
// spaces or controls.
func parseSessionCookiePath(value string, r *policy.Route) error {
	if !strings.HasPrefix(value, "/") || len(value) > 1024 {
		return fmt.Errorf("not an absolute path")
	}
	for _, c := range []byte(value) {
		if c <= ' ' || c == ';' || c >= 0x7f {
			return fmt.Errorf("holds a character a cookie path cannot (space, control or ';')")
		}
	}
	sessionCookie(r).Path = value
	return nil
}

// maxCookieSeconds bounds max-age and expires: the largest Max-Age a
// browser honours without overflow, about 68 years.
const maxCookieSeconds = 1<<31 - 1

// cookieSeconds reads a whole number of seconds above zero: a Max-Age of
// 0 tells the browser to drop the cookie at once, which ends affinity.
func cookieSeconds(value string) (*time.Duration, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil || n < 1 || n > maxCookieSeconds {
		return nil, fmt.Errorf("not a whole number of seconds between 1 and %d", maxCookieSeconds)
	}
	d := time.Duration(n) * time.Second
	return &d, nil
}

func parseSessionCookieMaxAge(value string, r *policy.Route) error {
	d, err := cookieSeconds(value)
	if err != nil {
		return err
	}
	sessionCookie(r).MaxAge = d
	return nil
}

func parseSessionCookieExpires(value string, r *policy.Route) error {
	d, err := cookieSeconds(value)
	if err != nil {
		return err
	}
	sessionCookie(r).Expires = d
	return nil
}

func parseSessionCookieSameSite(value string, r *policy.Route) error {
	for _, v := range []string{"None", "Lax", "Strict"} {
		if strings.EqualFold(strings.TrimSpace(value), v) {
			sessionCookie(r).SameSite = v
			return nil
		}
	}
	return fmt.Errorf(`not "None", "Lax" or "Strict"`)
}

func parseSessionCookieSecure(value string, r *policy.Route) error {
	b, err := parseBool(value)
	if err != nil {
		return err
	}
	sessionCookie(r).Secure = b
	return nil
}

// onlyFalse parses a boolean whose "true" asks for what Envoy cannot
// do: "false" (ingress-nginx's default, and what fairway does) applies,
// "true" is reported with why.
func onlyFalse(why string) func(string, *policy.Route) error {
	return func(value string, _ *policy.Route) error {
		b, err := parseBool(value)
		if err != nil {
			return err
		}
		if b {
			return errors.New(why)
		}
		return nil
	}
}

// Booleans whose "true" fairway cannot honour:
//   - conditional-samesite-none: ingress-nginx leaves SameSite=None out
//     for browsers that mishandle it, by their User-Agent; Envoy writes
//     one cookie for every client.
//   - change-on-failure: ingress-nginx re-picks a pod and re-issues the
//     cookie when the request to the cookie's pod fails; Envoy's cookie
//     hash keeps the cookie, and a retry after a failed connect goes to
//     the next pod of the hash for that request only ("false").
//   - upstream-hash-by-subset: hashes to a subset of endpoints and then
//     balances within it, which Envoy's hash balancers do not.
var (
	parseConditionalSameSiteNone = onlyFalse("fairway sets the same cookie attributes for every browser; SameSite is sent as written")
	parseChangeOnFailure         = onlyFalse("fairway keeps the affinity cookie when its pod fails; the request alone goes to another pod")
	parseUpstreamHashBySubset    = onlyFalse("fairway hashes over all the backend's endpoints, not subsets of them")
)

// parseUpstreamHashBySubsetSize: the size of a subset, which fairway
// never forms, so any value is reported unused.
func parseUpstreamHashBySubsetSize(value string, _ *policy.Route) error {
	return fmt.Errorf("fairway hashes over all the backend's endpoints, so a subset size is not used")
}

// parseUpstreamHashBy reads exactly one nginx variable that maps onto an
// Envoy hash policy. nginx hashes any mix of text and variables; Envoy
// hashes request parts, so a combination is not taken apart and guessed.
func parseUpstreamHashBy(value string, r *policy.Route) error {
	v := strings.TrimSpace(value)
	switch v {
	case "$remote_addr", "$binary_remote_addr":
		r.Affinity.HashBy = &policy.HashKey{SourceIP: true}
		return nil
	case "$request_uri":
		r.Affinity.HashBy = &policy.HashKey{Header: ":path"}
		return nil
	case "$uri":
		r.Affinity.HashBy = &policy.HashKey{Header: ":path", WithoutQuery: true}
		return nil
	}
	if name, ok := strings.CutPrefix(v, "$http_"); ok && httpVariableName(name) {
		r.Affinity.HashBy = &policy.HashKey{Header: strings.ReplaceAll(name, "_", "-")}
		return nil
	}
	if name, ok := strings.CutPrefix(v, "$cookie_"); ok && cookieToken(name) {
		r.Affinity.HashBy = &policy.HashKey{Cookie: name}
		return nil
	}
	return fmt.Errorf("not one of $remote_addr, $binary_remote_addr, $request_uri, $uri, $http_<name> and $cookie_<name> alone")
}

// httpVariableName is the <name> of an nginx $http_<name>: the header's
// name lower-cased, with "_" for "-".
func httpVariableName(v string) bool {
	if v == "" {
		return false
	}
	for _, c := range []byte(v) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// sessionCookieWithoutAffinity drops session-cookie-* keys that came
// without affinity: cookie, as ingress-nginx ignores them, and says so.
func sessionCookieWithoutAffinity(r *policy.Route) []Finding {
	c := r.Affinity.Cookie
	if c == nil || c.Enabled {
		return nil
	}
	r.Affinity.Cookie = nil
	return []Finding{{
		Key: NginxPrefix + "affinity", Kind: Invalid,
		Message: `is not "cookie", so this Ingress's session-cookie-* annotations are ignored, as in ingress-nginx`,
	}}
}

// hashByUnderAffinity: with both, ingress-nginx's sticky balancer wins
// over its chash one.
func hashByUnderAffinity(r *policy.Route) []Finding {
	if r.Affinity.Cookie == nil || r.Affinity.HashBy == nil {
		return nil
	}
	r.Affinity.HashBy = nil
	return []Finding{{
		Key: NginxPrefix + "upstream-hash-by", Kind: Invalid,
		Message: `is ignored: affinity "cookie" is set and wins, as in ingress-nginx`,
	}}
}

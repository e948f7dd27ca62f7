package translator

import (
	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/policy"
)

// DefaultSessionCookieName is ingress-nginx's name of the affinity
// cookie, kept so that sessions survive a move from it.
const DefaultSessionCookieName = "INGRESSCOOKIE"

// affinityPolicy gives a route with session affinity its hash policy; its
// cluster is the consistent-hash variant (upstreamOf).
func affinityPolicy(r *httpRoute, out *envoy.RoutePolicy) bool {
	a := r.policy.Affinity
	switch {
	case a.Cookie != nil:
		out.Hash = &envoy.HashPolicy{Cookie: affinityCookie(a.Cookie, r.match)}
	case a.HashBy != nil:
		k := a.HashBy
		out.Hash = &envoy.HashPolicy{SourceIP: k.SourceIP, Header: k.Header, WithoutQuery: k.WithoutQuery, ClientCookie: k.Cookie}
	default:
		return false
	}
	return true
}

// affinityCookie is the cookie Envoy issues. Its lifetime is
// session-cookie-max-age, else session-cookie-expires: ingress-nginx
// writes both as Max-Age and Expires, and a browser keeps a cookie for
// its Max-Age when it has one (RFC 6265, 5.3); Envoy writes the one
// Max-Age. Without either it is a session cookie (a ttl of 0), as in
// ingress-nginx. Its path is, as there, the route's own path; a regex
// path is no cookie path, so a regex route's cookie has "/".
func affinityCookie(c *policy.SessionCookie, m pathMatch) *envoy.AffinityCookie {
	out := &envoy.AffinityCookie{Name: c.Name, Path: c.Path, SameSite: c.SameSite, Secure: c.Secure}
	if out.Name == "" {
		out.Name = DefaultSessionCookieName
	}
	if out.Path == "" {
		out.Path = m.path
		if m.regex {
			out.Path = "/"
		}
	}
	switch {
	case c.MaxAge != nil:
		out.TTL = *c.MaxAge
	case c.Expires != nil:
		out.TTL = *c.Expires
	}
	return out
}

package envoy

import (
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// HashPolicy is what a route hashes to pick an endpoint of its
// consistent-hash (Maglev) cluster: exactly one of its fields is set.
type HashPolicy struct {
	// Cookie is a cookie Envoy issues when the request lacks it.
	Cookie *AffinityCookie
	// SourceIP hashes the client's address.
	SourceIP bool
	// Header hashes a request header (":path" for the request URI);
	// WithoutQuery hashes it up to its first "?" (the path alone).
	Header       string
	WithoutQuery bool
	// ClientCookie hashes a cookie the client sends; Envoy never issues
	// it, and a request without it is balanced as if it had no hash.
	ClientCookie string
}

// AffinityCookie is the cookie of a cookie hash policy. Envoy always
// sets a ttl, so that it issues the cookie when the request has none (it
// does not without a ttl); a TTL of 0 is a session cookie. The cookie is
// HttpOnly, as Envoy writes every cookie it issues.
type AffinityCookie struct {
	Name string
	TTL  time.Duration
	Path string // "" writes no Path
	// SameSite is written as "SameSite=<value>" when not "".
	SameSite string
	Secure   bool
}

// applyHash sets the route's hash policy. It is the fleet's alone: a
// proxyless client reaches the plain, round-robin cluster, where a hash
// means nothing.
func applyHash(p *RoutePolicy, r *routev3.Route, edge bool) {
	a := r.GetRoute()
	if !edge || p.Hash == nil || a == nil {
		return
	}
	a.HashPolicy = []*routev3.RouteAction_HashPolicy{p.Hash.message()}
}

func (h *HashPolicy) message() *routev3.RouteAction_HashPolicy {
	switch {
	case h.Cookie != nil:
		return &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_Cookie_{Cookie: h.Cookie.message()}}
	case h.SourceIP:
		return &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_ConnectionProperties_{
			ConnectionProperties: &routev3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true},
		}}
	case h.Header != "":
		m := &routev3.RouteAction_HashPolicy_Header{HeaderName: h.Header}
		if h.WithoutQuery {
			m.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: `\?.*`}}
		}
		return &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_Header_{Header: m}}
	}
	return &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_Cookie_{
		Cookie: &routev3.RouteAction_HashPolicy_Cookie{Name: h.ClientCookie},
	}}
}

func (c *AffinityCookie) message() *routev3.RouteAction_HashPolicy_Cookie {
	m := &routev3.RouteAction_HashPolicy_Cookie{Name: c.Name, Ttl: durationpb.New(c.TTL), Path: c.Path}
	if c.SameSite != "" {
		m.Attributes = append(m.Attributes, &routev3.RouteAction_HashPolicy_CookieAttribute{Name: "SameSite", Value: c.SameSite})
	}
	if c.Secure {
		m.Attributes = append(m.Attributes, &routev3.RouteAction_HashPolicy_CookieAttribute{Name: "Secure"})
	}
	return m
}

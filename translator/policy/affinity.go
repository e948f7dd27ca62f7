package policy

import "time"

// Affinity keeps a client's requests on one endpoint of the backend by
// hashing something of the request. The zero value is no affinity.
type Affinity struct {
	// Cookie, when set, hashes a cookie the proxy issues when the request
	// lacks it (ingress-nginx's "affinity: cookie").
	Cookie *SessionCookie
	// HashBy hashes a part of the request the client sends on its own
	// (upstream-hash-by); Cookie wins when both are set, as in
	// ingress-nginx, whose sticky balancer is chosen before its chash one.
	HashBy *HashKey
	// CanaryLegacy: a canary's weighted split ignores the affinity
	// cookie, drawn anew for each request (affinity-canary-behavior:
	// legacy). By default the cookie's hash draws it, so that a session
	// stays on its side of the split (sticky).
	CanaryLegacy bool
}

// On reports whether the route balances by a hash at all.
func (a Affinity) On() bool { return a.Cookie != nil || a.HashBy != nil }

// SessionCookie is the affinity cookie the proxy issues. Its zero fields
// are ingress-nginx's defaults, which the back end fills in.
type SessionCookie struct {
	// Enabled: affinity is "cookie". The session-cookie-* fields alone
	// do nothing, as in ingress-nginx; they are kept until then so that
	// the front end can report them.
	Enabled bool
	Name    string // "" is INGRESSCOOKIE
	// Path is the cookie's Path; "" is the route's own path.
	Path string
	// MaxAge and Expires are how long the browser keeps the cookie; nil
	// for both is a session cookie, dropped when the browser closes.
	MaxAge, Expires *time.Duration
	// SameSite is "None", "Lax" or "Strict"; "" sends no SameSite.
	SameSite string
	Secure   bool
}

// HashKey is the part of a request hashed by upstream-hash-by.
type HashKey struct {
	// SourceIP hashes the client's address; otherwise Header, or else
	// Cookie, names what is hashed.
	SourceIP bool
	Header   string // lower case; ":path" for the request URI
	// WithoutQuery hashes Header up to its first "?": nginx's $uri, the
	// path without the query.
	WithoutQuery bool
	Cookie       string
}

package envoy

import (
	"fmt"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
)

// RoutePolicy is what a route does beyond its match and its cluster, in
// Envoy's terms: the translator fills it from its typed route model. A
// RouteSpec without one is the common case and is encoded by hand
// (routespec.go); with one, the routes are built as messages and
// marshalled, which is slower but only paid by routes that need it.
//
// Each concern adds its fields here and its applier to routeAppliers, in
// a file of its own.
type RoutePolicy struct {
	// Regex, when set, replaces the path match: the whole path (without
	// the query) must match this RE2 expression.
	Regex string
	// HTTPSRedirect answers with a 308 to the same URL on https instead
	// of forwarding: a plain-HTTP route of the fleet (route_tls.go).
	// HTTPSPort is the port of that URL; 443 (or 0) leaves it out.
	HTTPSRedirect bool
	HTTPSPort     uint32
	// Paths: rewrites, the upstream host, redirects (route_paths.go).
	Paths PathPolicy
	// IdleTimeout, when not zero, replaces the connection manager's
	// stream idle timeout for this route (RouteAction.idle_timeout).
	IdleTimeout time.Duration
	// Retries, when set, is the route's own number of retries of
	// RouteRetryOn failures, replacing the virtual host's policy.
	Retries *uint32
	// MaxRequestBytes, when not zero, answers 413 to a request whose body
	// is larger (body_size_limit, per route through filter_chain).
	MaxRequestBytes uint64
	// Access admits clients by address (RBAC per route); nil admits all.
	Access *SourceAccess
	// CORS answers preflights and decorates responses (the CORS filter's
	// per-route policy); nil is no CORS.
	CORS *CORSPolicy
	// Hash picks the endpoint of a consistent-hash cluster (session
	// affinity, route_affinity.go); nil is no hash policy.
	Hash *HashPolicy
	// Headers are request headers the route also requires (a canary's
	// header, the Gateway API's header and method matches), and Split
	// replaces its cluster with two by weight: a canary's routes
	// (route_canary.go).
	Headers []HeaderCondition
	Split   *Split
	// Query are query parameters the route also requires
	// (route_match.go).
	Query []QueryCondition
	// Weighted replaces its cluster with several by weight, some share
	// of which may be answered 500 (route_weighted.go).
	Weighted *Weighted
	// RequestHeaders and ResponseHeaders edit the headers on the way to
	// the backend and back (route_headers.go).
	RequestHeaders, ResponseHeaders HeaderEdits
	// Mirrors copy requests to other clusters (route_mirror.go).
	Mirrors []Mirror
	// Timeout, when not zero, bounds the whole exchange in place of the
	// fleet's RouteTimeout, and PerTryTimeout each try at a backend
	// (route_timeouts.go).
	Timeout, PerTryTimeout time.Duration
	// RateLimit limits each client address's requests (local_ratelimit
	// in the route's own chain, route_ratelimit.go); nil is no limit.
	RateLimit *RateLimitPolicy
	// BasicAuth asks for a user and password (route_basicauth.go); nil
	// asks for none.
	BasicAuth *BasicAuth
	// ExtAuth asks an auth service about each request first
	// (route_extauth.go); nil is no external auth.
	ExtAuth *ExtAuth
}

// routeAppliers set a policy's fields on a route Envoy (edge) or a
// proxyless gRPC client (!edge) gets, in this order: the order is part of
// the meaning, since some replace the route's action. A path redirect
// replaces forwarding; the https redirect of a plain-HTTP route replaces
// that in turn (http goes to https first, as with ingress-nginx); limits
// apply to what still forwards; access and authentication come last, so
// that a proxyless route with source ranges, a password or external auth
// ends as the 403 or 401 it must be whatever came before (on the fleet,
// RBAC and the route's own chain answer before any action).
var routeAppliers = []func(p *RoutePolicy, r *routev3.Route, edge bool){
	applyCanary, applyQuery, applyWeighted, applyPathPolicy, applyHTTPSRedirect, applyLimits, applyTimeouts, applyHeaderEdits, applyMirrors,
	applyRouteChain, applyHash, applyAccess, applyProxylessGuards,
}

// apply sets the policy on r.
func (p *RoutePolicy) apply(r *routev3.Route, edge bool) {
	for _, a := range routeAppliers {
		a(p, r, edge)
	}
}

// RegexPathMatch matches the whole path (without the query) against an
// RE2 expression; gRPC's xDS clients implement it too.
func RegexPathMatch(regex string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: regex}}}
}

// policyRoutes are a policy route's encodings, one per route message.
func (r RouteSpec) policyRoutes(edge bool) [][]byte {
	msgs := r.routes(edge)
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			panic(fmt.Sprintf("envoy: encode route %s: %v", r.Name, err))
		}
		out[i] = b
	}
	return out
}

package translator

import (
	"github.com/fairwayhq/fairway/envoy"
)

// routePolicy is the back end's half of the route model: a route's typed
// policy in Envoy's terms. It is nil when the policy asks nothing of the
// route itself (no annotations, or only cluster-level ones), so that such
// routes keep the fast hand-written encoding. A Gateway API rule's
// route always has a policy (gatewayRoute), so that its parts are read.
func (r *httpRoute) routePolicy() *envoy.RoutePolicy {
	if r.policy == nil {
		return nil
	}
	var out envoy.RoutePolicy
	set := false
	for _, f := range routePolicyFields {
		if f(r, &out) {
			set = true
		}
	}
	if !set {
		return nil
	}
	return &out
}

// routePolicyFields each turn part of a route's policy into Envoy's terms
// and report whether they set anything. Each concern adds one, in the
// file that holds the rest of it (route_paths.go, route_limits.go,
// route_access.go, route_affinity.go, route_ratelimit.go, route_basicauth.go, route_extauth.go,
// route_gateway.go; the https redirect is planned per host, by tlsWant).
var routePolicyFields = []func(r *httpRoute, out *envoy.RoutePolicy) bool{
	pathPolicy, limitsPolicy, accessPolicy, affinityPolicy, rateLimitPolicy, basicAuthPolicy, extAuthPolicy, gatewayRoutePolicy,
}

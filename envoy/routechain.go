package envoy

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filterchainv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/filter_chain/v3"
)

// routeChainFilters build the filters of a route's own filter chain (the
// filter_chain HTTP filter's per-route configuration), which is how a
// filter with no per-route configuration of its own applies to one route
// and not to the listener's others. The order is nginx's phase order, so
// that a request meets the same answers in the same order as it did
// behind ingress-nginx: rate limits (nginx's preaccess phase), then
// authentication (access), then the body limit (read with the body, at
// proxying). Each concern adds its builder here, in a file of its own.
var routeChainFilters = []func(p *RoutePolicy) []*corev3.TypedExtensionConfig{
	rateLimitFilters, basicAuthFilters, extAuthFilters, bodyLimitFilters,
}

// applyRouteChain gives a route of the fleet its own filter chain when
// its policy asks for any of routeChainFilters. A proxyless client runs
// no HTTP filters.
func applyRouteChain(p *RoutePolicy, r *routev3.Route, edge bool) {
	if !edge {
		return
	}
	var filters []*corev3.TypedExtensionConfig
	for _, build := range routeChainFilters {
		filters = append(filters, build(p)...)
	}
	if len(filters) > 0 {
		setPerFilterConfig(r, filterChainFilter, &filterchainv3.FilterChainConfigPerRoute{FilterChain: &filterchainv3.FilterChain{Filters: filters}})
	}
}

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
//
// nginx answers a redirect (to https, or permanent-/temporal-redirect)
// with "return" in its rewrite phase, before limit_req and auth run, so
// a route that redirects gets none of the afterRewrite filters: no
// request is counted and no password asked for (a plain-HTTP request
// goes to https before any is sent in the clear), and a redirect reaches
// no backend.
var routeChainFilters = []struct {
	build        func(p *RoutePolicy) []*corev3.TypedExtensionConfig
	afterRewrite bool
}{
	{rateLimitFilters, true}, {basicAuthFilters, true}, {extAuthFilters, true}, {bodyLimitFilters, false},
}

// redirects reports whether the route answers every request with a
// redirect instead of forwarding it.
func (p *RoutePolicy) redirects() bool { return p.HTTPSRedirect || p.Paths.Redirect != nil }

// applyRouteChain gives a route of the fleet its own filter chain when
// its policy asks for any of routeChainFilters. A proxyless client runs
// no HTTP filters.
func applyRouteChain(p *RoutePolicy, r *routev3.Route, edge bool) {
	if !edge {
		return
	}
	var filters []*corev3.TypedExtensionConfig
	for _, f := range routeChainFilters {
		if !f.afterRewrite || !p.redirects() {
			filters = append(filters, f.build(p)...)
		}
	}
	if len(filters) > 0 {
		setPerFilterConfig(r, filterChainFilter, &filterchainv3.FilterChainConfigPerRoute{FilterChain: &filterchainv3.FilterChain{Filters: filters}})
	}
}

package envoy

import (
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	filterchainv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/filter_chain/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
)

// The fleet's HTTP filters, by the names routes key their per-route
// configuration with (Envoy looks a route's per-filter config up by the
// filter's name in the connection manager). Short, like the other names
// only Envoy reads (hcm.go): the filter list is repeated in every chain of
// the https listener. TestPerFilterConfigKeysNameEdgeFilters holds the
// keys a route sets to names in the list, since a key naming no filter
// would leave e.g. a route's source ranges unapplied. The body limit
// filter sits in a route's own filter chain, not in the list.
const (
	rbacFilter          = "rbac"
	corsFilter          = "cors"
	filterChainFilter   = "filter_chain"
	edgeRouterFilter    = "router"
	bodySizeLimitFilter = "envoy.filters.http.body_size_limit"
)

// edgeHTTPFilters are the HTTP filters of the fleet's connection managers.
// Each is configured per route only, and with no per-route configuration
// does nothing (an RBAC filter without rules admits everyone, a CORS
// filter without a policy leaves requests alone, a filter_chain filter
// without a default chain passes through), so a route without
// annotations behaves as it would with the router alone.
//
// The order is deliberate: RBAC first, so a client outside the source
// ranges gets 403 and nothing else (no preflight answer, no 413 that
// would tell it about the route); then CORS, which answers a preflight
// before any body is read; then the body limit, which counts the body as
// it streams to the router; the router last, as Envoy requires.
func edgeHTTPFilters() []*hcmv3.HttpFilter {
	return []*hcmv3.HttpFilter{
		httpFilter(rbacFilter, &rbacv3.RBAC{}),
		httpFilter(corsFilter, &corsv3.Cors{}),
		httpFilter(filterChainFilter, &filterchainv3.FilterChainConfig{}),
		httpFilter(edgeRouterFilter, &routerv3.Router{}),
	}
}

func httpFilter(name string, config proto.Message) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(config)}}
}

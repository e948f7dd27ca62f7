package envoy

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// APIListener is what a proxyless gRPC client resolves when it dials
// xds:///<name>: no socket, just an HTTP connection manager with an inline
// route table, so a client needs one resource instead of two. Its one
// virtual host takes any authority, since the listener's name already
// chose it; the router filter is the one gRPC requires last.
func APIListener(name string, routes []RouteSpec) *listenerv3.Listener {
	var rs []*routev3.Route
	for _, r := range routes {
		rs = append(rs, r.Routes()...)
	}
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: name,
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name:         name,
			VirtualHosts: []*routev3.VirtualHost{VirtualHost(name, []string{"*"}, rs)},
		}},
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       routerFilter,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&routerv3.Router{})},
		}},
	}
	return &listenerv3.Listener{
		Name:        name,
		ApiListener: &listenerv3.ApiListener{ApiListener: mustAny(hcm)},
	}
}

// ServiceRoute is the one route of a Service port's API listener: every
// RPC to the port's cluster.
func ServiceRoute(name, cluster string) []RouteSpec {
	return []RouteSpec{{Name: name, Path: "/", Cluster: cluster}}
}

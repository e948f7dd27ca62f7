package envoy

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// APIListener is what a proxyless gRPC client resolves when it dials
// xds:///<name>: no socket, just an HTTP connection manager with an inline
// route table, so a client needs one resource instead of two. Its one
// virtual host takes any authority, since the listener's name already
// chose it; the router filter is the one gRPC requires last. Its routes
// have none of the fleet's route defaults: a gRPC client applies its own
// deadlines and retry policy.
func APIListener(name string, routes []RouteSpec) *listenerv3.Listener {
	var rs []*routev3.Route
	for _, r := range routes {
		rs = append(rs, r.routes(false)...)
	}
	return &listenerv3.Listener{
		Name:        name,
		ApiListener: &listenerv3.ApiListener{ApiListener: mustAny(inlineHCM(name, rs))},
	}
}

// ServiceRoute is the one route of a Service port's API listener: every
// RPC to the port's cluster.
func ServiceRoute(name, cluster string) []RouteSpec {
	return []RouteSpec{{Name: name, Path: "/", Cluster: cluster}}
}

// grpcServerRoutes is the one route table of every gRPC server listener:
// the server handles every RPC itself (non_forwarding_action), since a
// server-side route may only admit or refuse, not forward.
const grpcServerRoutes = "grpc_server"

// GRPCServerListener is what an xDS-enabled gRPC server (grpc-go's
// xds.NewGRPCServer and its peers) needs before it serves on
// address:port: a listener with that address and one HTTP connection
// manager, without listener filters or TLS, which gRPC refuses or leaves
// to the server's fallback credentials. Until it has this, such a server
// accepts no RPCs.
func GRPCServerListener(name, address string, port uint32) *listenerv3.Listener {
	route := &routev3.Route{
		Name:   grpcServerRoutes,
		Match:  PrefixMatch("/"),
		Action: &routev3.Route_NonForwardingAction{NonForwardingAction: &routev3.NonForwardingAction{}},
	}
	hcm := inlineHCM(grpcServerRoutes, []*routev3.Route{route})
	return &listenerv3.Listener{
		Name:               name,
		Address:            socketAddress(address, port, false),
		DefaultFilterChain: &listenerv3.FilterChain{Filters: []*listenerv3.Filter{hcmNetworkFilter(hcm)}},
	}
}

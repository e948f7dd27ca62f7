package envoy

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	hcmFilter    = "envoy.filters.network.http_connection_manager"
	routerFilter = "envoy.filters.http.router"
	websocket    = "websocket"
)

// Names of the extension instances only Envoy reads. Envoy selects an
// extension by its config's type URL and keeps the name as an opaque
// label, so these are short: each is repeated in every chain of the https
// listener, one chain per TLS host, and a host added re-sends them all.
// The names gRPC's clients read (its listeners' connection manager and
// router, the upstream TLS socket, which grpc-go checks by name) stay
// canonical. The edge's HTTP filters are short too (httpfilters.go).
const (
	edgeHCMFilter    = "hcm"
	edgeTLSSocket    = "tls"
	edgeStdoutLogger = "stdout"
)

// HTTPConnectionManager is the network filter of the fleet's HTTP listeners.
// The fleet is the edge, so it trusts no X-Forwarded-For from clients
// (use_remote_address) and normalises paths (RFC 3986, merged slashes) before
// routing, so that "/a/../admin" or "//admin" cannot slip past a prefix rule.
// It carries the edge's timeouts and HTTP/2 limits (edge.go), allows
// WebSocket upgrades on every route, and logs each request in log's format.
// Behind other proxies, ca says how many X-Forwarded-For hops to trust.
func HTTPConnectionManager(statPrefix, routeConfig string, log LogFormat, ca ClientAddress) *listenerv3.Filter {
	return &listenerv3.Filter{
		Name:       edgeHCMFilter,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(httpConnectionManager(statPrefix, routeConfig, log, ca))},
	}
}

func httpConnectionManager(statPrefix, routeConfig string, log LogFormat, ca ClientAddress) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{
		StatPrefix: statPrefix,
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    adsSource(),
			RouteConfigName: routeConfig,
		}},
		HttpFilters:               edgeHTTPFilters(),
		AccessLog:                 stdoutJSONLog(log),
		UseRemoteAddress:          wrapperspb.Bool(true),
		XffNumTrustedHops:         ca.XFFTrustedHops,
		NormalizePath:             wrapperspb.Bool(true),
		MergeSlashes:              true,
		RequestHeadersTimeout:     durationpb.New(RequestHeadersTimeout),
		MaxRequestHeadersKb:       wrapperspb.UInt32(MaxRequestHeadersKB),
		CommonHttpProtocolOptions: edgeHTTPProtocolOptions(),
		Http2ProtocolOptions:      edgeHTTP2Options(),
		UpgradeConfigs:            []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: websocket}},
	}
}

// hcmNetworkFilter is a connection manager as a listener's network filter.
func hcmNetworkFilter(hcm *hcmv3.HttpConnectionManager) *listenerv3.Filter {
	return &listenerv3.Filter{
		Name:       hcmFilter,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(hcm)},
	}
}

// routerOnly is the filter list of every connection manager fairway
// builds: the router, which both Envoy and gRPC require last.
func routerOnly() []*hcmv3.HttpFilter {
	return []*hcmv3.HttpFilter{{
		Name:       routerFilter,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&routerv3.Router{})},
	}}
}

// inlineHCM is a connection manager with its route table inline, of one
// virtual host that takes any authority: what gRPC's API and server
// listeners carry, since the listener's name already chose the table. It
// has none of the fleet's edge settings or access logs: gRPC applies or
// refuses connection manager fields by its own rules, and the proxyless
// client is the application itself, which logs what it needs.
func inlineHCM(name string, routes []*routev3.Route) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{
		StatPrefix: name,
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name:         name,
			VirtualHosts: []*routev3.VirtualHost{VirtualHost(name, []string{"*"}, routes)},
		}},
		HttpFilters: routerOnly(),
	}
}

package envoy

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func unpack[M proto.Message](t *testing.T, a *anypb.Any, m M) M {
	t.Helper()
	if err := a.UnmarshalTo(m); err != nil {
		t.Fatal(err)
	}
	return m
}

func wantProto(t *testing.T, what string, got, want proto.Message) {
	t.Helper()
	if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

func wantBufferLimit(t *testing.T, l *listenerv3.Listener) {
	t.Helper()
	if got := l.GetPerConnectionBufferLimitBytes().GetValue(); got != 32<<10 {
		t.Errorf("%s: per_connection_buffer_limit_bytes %d, want 32 KiB", l.Name, got)
	}
}

// TestHTTPConnectionManagerEdgeDefaults: both HTTP listeners carry Envoy's
// edge settings, WebSocket upgrades and the access log.
func TestHTTPConnectionManagerEdgeDefaults(t *testing.T) {
	for _, l := range []*listenerv3.Listener{
		HTTPListener(HTTPListenerName, DefaultListenAddress, 80, HTTPRouteConfig, DefaultHTTPLogFormat, ClientAddress{}),
		HTTPSListener(HTTPSListenerName, DefaultListenAddress, 443, []TLSChain{{Secret: "a/b", RouteConfig: HTTPSRouteConfig}}, DefaultHTTPLogFormat, ClientAddress{}),
	} {
		wantBufferLimit(t, l)
		hcm := unpack(t, l.FilterChains[0].Filters[0].GetTypedConfig(), &hcmv3.HttpConnectionManager{})
		if got := hcm.RequestHeadersTimeout.AsDuration(); got != 10*time.Second {
			t.Errorf("%s: request_headers_timeout %v", l.Name, got)
		}
		if hcm.StreamIdleTimeout != nil || StreamIdleTimeout != 5*time.Minute {
			// Unset is Envoy's default of 5 min, which is what the fleet relies on.
			t.Errorf("%s: stream_idle_timeout %v (want unset: Envoy's default, %v)", l.Name, hcm.StreamIdleTimeout, StreamIdleTimeout)
		}
		if got := hcm.MaxRequestHeadersKb.GetValue(); got != 60 {
			t.Errorf("%s: max_request_headers_kb %d", l.Name, got)
		}
		if !hcm.UseRemoteAddress.GetValue() {
			t.Errorf("%s: use_remote_address is off", l.Name)
		}
		wantProto(t, l.Name+": common_http_protocol_options", hcm.CommonHttpProtocolOptions, &corev3.HttpProtocolOptions{
			IdleTimeout:                  durationpb.New(5 * time.Minute),
			HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_REJECT_REQUEST,
		})
		wantProto(t, l.Name+": http2_protocol_options", hcm.Http2ProtocolOptions, &corev3.Http2ProtocolOptions{
			MaxConcurrentStreams:        wrapperspb.UInt32(100),
			InitialStreamWindowSize:     wrapperspb.UInt32(64 << 10),
			InitialConnectionWindowSize: wrapperspb.UInt32(1 << 20),
		})
		if len(hcm.UpgradeConfigs) != 1 || hcm.UpgradeConfigs[0].UpgradeType != "websocket" || hcm.UpgradeConfigs[0].Enabled != nil {
			t.Errorf("%s: upgrade_configs %v, want websocket enabled", l.Name, hcm.UpgradeConfigs)
		}
		if len(hcm.AccessLog) != 1 {
			t.Errorf("%s: %d access logs, want 1", l.Name, len(hcm.AccessLog))
		}
	}
	l := HTTPListener(HTTPListenerName, DefaultListenAddress, 80, HTTPRouteConfig, nil, ClientAddress{})
	if hcm := unpack(t, l.FilterChains[0].Filters[0].GetTypedConfig(), &hcmv3.HttpConnectionManager{}); len(hcm.AccessLog) != 0 {
		t.Errorf("no format: access logs %v, want none", hcm.AccessLog)
	}
}

// TestClusterEdgeDefaults: breakers above Envoy's 1,024, the buffer limit
// and a connect timeout.
func TestClusterEdgeDefaults(t *testing.T) {
	c := EDSCluster("shop/web/80")
	wantProto(t, "circuit_breakers", c.CircuitBreakers, &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		MaxConnections:     wrapperspb.UInt32(100_000),
		MaxPendingRequests: wrapperspb.UInt32(100_000),
		MaxRequests:        wrapperspb.UInt32(100_000),
		MaxRetries:         wrapperspb.UInt32(1024),
	}}})
	if got := c.PerConnectionBufferLimitBytes.GetValue(); got != 32<<10 {
		t.Errorf("per_connection_buffer_limit_bytes %d", got)
	}
	if got := c.ConnectTimeout.AsDuration(); got != 5*time.Second {
		t.Errorf("connect_timeout %v", got)
	}
	// Connect failures eject; HTTP answers (5xx, success rate) do not.
	wantProto(t, "outlier_detection", c.OutlierDetection, &clusterv3.OutlierDetection{
		Interval:                        durationpb.New(10 * time.Second),
		BaseEjectionTime:                durationpb.New(30 * time.Second),
		MaxEjectionPercent:              wrapperspb.UInt32(50),
		SplitExternalLocalOriginErrors:  true,
		ConsecutiveLocalOriginFailure:   wrapperspb.UInt32(5),
		EnforcingConsecutive_5Xx:        wrapperspb.UInt32(0),
		EnforcingSuccessRate:            wrapperspb.UInt32(0),
		EnforcingLocalOriginSuccessRate: wrapperspb.UInt32(0),
	})
}

// TestL4EdgeDefaults: TCP retries another pod on connect failure; UDP
// takes datagrams up to 9000 bytes both ways; both log.
func TestL4EdgeDefaults(t *testing.T) {
	tl := TCPProxyListener(L4Listener{Name: "tcp-5432", Address: DefaultListenAddress, Port: 5432, Cluster: "db/pg/5432", Log: DefaultTCPLogFormat})
	wantBufferLimit(t, tl)
	tcp := unpack(t, tl.FilterChains[0].Filters[0].GetTypedConfig(), &tcpproxyv3.TcpProxy{})
	if tcp.MaxConnectAttempts.GetValue() != 3 || tcp.IdleTimeout.AsDuration() != time.Hour || len(tcp.AccessLog) != 1 {
		t.Errorf("tcp_proxy: max_connect_attempts %v, idle_timeout %v, %d access logs", tcp.MaxConnectAttempts, tcp.IdleTimeout, len(tcp.AccessLog))
	}
	ul := UDPProxyListener(L4Listener{Name: "udp-53", Address: DefaultListenAddress, Port: 53, Cluster: "infra/dns/53/udp", Log: DefaultUDPLogFormat})
	wantBufferLimit(t, ul)
	want := &corev3.UdpSocketConfig{MaxRxDatagramSize: wrapperspb.UInt64(9000)}
	wantProto(t, "udp listener socket", ul.UdpListenerConfig.DownstreamSocketConfig, want)
	udp := unpack(t, ul.ListenerFilters[0].GetTypedConfig(), &udpproxyv3.UdpProxyConfig{})
	wantProto(t, "udp upstream socket", udp.UpstreamSocketConfig, want)
	if len(udp.AccessLog) != 1 {
		t.Errorf("udp_proxy: %d access logs, want 1", len(udp.AccessLog))
	}
}

// TestRouteEdgeDefaults: fleet routes that forward have no timeout, and
// fleet virtual hosts retry only what never reached a pod, on another pod;
// direct responses and proxyless routes have neither.
func TestRouteEdgeDefaults(t *testing.T) {
	spec := RouteSpec{Name: "shop/web", Path: "/api", Cluster: "shop/web/80"}
	for _, r := range spec.Routes() {
		a := r.GetRoute()
		if a.Timeout == nil || a.Timeout.AsDuration() != 0 {
			t.Errorf("%s: timeout %v, want 0s (none)", r.Match, a.Timeout)
		}
		if a.RetryPolicy != nil {
			t.Errorf("%s: a route-level retry_policy would override the virtual host's", r.Match)
		}
	}
	vh := &routev3.VirtualHost{}
	if err := proto.Unmarshal(AppendVirtualHost(nil, "shop.example.com", []string{"shop.example.com"}, []RouteSpec{spec}), vh); err != nil {
		t.Fatal(err)
	}
	rp := vh.RetryPolicy
	if rp.GetRetryOn() != "connect-failure,reset-before-request" || rp.GetNumRetries().GetValue() != 2 ||
		len(rp.GetRetryHostPredicate()) != 0 {
		t.Errorf("virtual host retry_policy %v", rp)
	}
	for _, r := range (RouteSpec{Name: "x", Path: "/", Status: 503}).Routes() {
		if r.GetDirectResponse().GetStatus() != 503 {
			t.Errorf("direct response route %v", r)
		}
	}
	api := APIListener("web.shop:80", []RouteSpec{spec})
	hcm := unpack(t, api.ApiListener.ApiListener, &hcmv3.HttpConnectionManager{})
	if hcm.GetRouteConfig().VirtualHosts[0].RetryPolicy != nil {
		t.Error("proxyless virtual host carries the fleet's retry policy")
	}
	for _, r := range hcm.GetRouteConfig().VirtualHosts[0].Routes {
		if a := r.GetRoute(); a.Timeout != nil || a.RetryPolicy != nil {
			t.Errorf("proxyless route %v carries the fleet's route defaults", r)
		}
	}
	if hcm.CommonHttpProtocolOptions != nil || hcm.Http2ProtocolOptions != nil || hcm.AccessLog != nil || hcm.UpgradeConfigs != nil {
		t.Errorf("proxyless connection manager carries the fleet's settings: %v", hcm)
	}
	wantProto(t, "route", spec.Routes()[0], &routev3.Route{
		Name:  "shop/web",
		Match: ExactPathMatch("/api"),
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "shop/web/80"},
			Timeout:          durationpb.New(0),
		}},
	})
}

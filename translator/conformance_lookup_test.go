package translator

import (
	"testing"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

func anyOf(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func bound(name, addr string, port uint32, udp bool) *listenerv3.Listener {
	proto := corev3.SocketAddress_TCP
	if udp {
		proto = corev3.SocketAddress_UDP
	}
	return &listenerv3.Listener{Name: name, Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: addr, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}, Protocol: proto}}}}
}

func rdsChain(t *testing.T, name, rds string, match *listenerv3.FilterChainMatch) *listenerv3.FilterChain {
	hcm := &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: rds}}}
	return &listenerv3.FilterChain{Name: name, FilterChainMatch: match, Filters: []*listenerv3.Filter{{Name: wellknown.HTTPConnectionManager,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: anyOf(t, hcm)}}}}
}

// TestConformanceGatewayLookup: a request to a Gateway reaches the
// listener bound to the Gateway's address, else the shared one on the
// port; on a TLS port the chain by server name and transport protocol;
// TCP and UDP listeners give their clusters.
func TestConformanceGatewayLookup(t *testing.T) {
	tls := func(names ...string) *listenerv3.FilterChainMatch {
		return &listenerv3.FilterChainMatch{ServerNames: names, TransportProtocol: "tls"}
	}
	dedicated, dedicatedTLS, shared := bound("gw-a-80", "10.9.0.1", 80, false), bound("gw-a-443", "10.9.0.1", 443, false), bound("http", "0.0.0.0", 80, false)
	dedicated.FilterChains = []*listenerv3.FilterChain{rdsChain(t, "a", "a", nil)}
	dedicatedTLS.FilterChains = []*listenerv3.FilterChain{rdsChain(t, "x", "a-x", tls("x.example")), rdsChain(t, "wild", "a-wild", tls("*.example")),
		rdsChain(t, "default", "a-default", tls()), rdsChain(t, "plain", "a-plain", &listenerv3.FilterChainMatch{TransportProtocol: "raw_buffer"})}
	for _, fc := range dedicatedTLS.FilterChains[:3] {
		fc.TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: anyOf(t, &tlsv3.DownstreamTlsContext{})}}
	}
	shared.FilterChains = []*listenerv3.FilterChain{rdsChain(t, "http", "http", nil)}
	tcp := bound("gw-a-9000", "10.9.0.1", 9000, false)
	tcp.FilterChains = []*listenerv3.FilterChain{{Name: "tcp", Filters: []*listenerv3.Filter{{Name: wellknown.TCPProxy, ConfigType: &listenerv3.Filter_TypedConfig{
		TypedConfig: anyOf(t, &tcpproxyv3.TcpProxy{StatPrefix: "t", ClusterSpecifier: &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: &tcpproxyv3.TcpProxy_WeightedCluster{
			Clusters: []*tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{{Name: "ns/v1/3000", Weight: 70}, {Name: "ns/v2/3000", Weight: 30}}}}})}}}}}
	udp := bound("gw-a-5300", "10.9.0.1", 5300, true)
	route := anyOf(t, &udpproxyv3.Route{Cluster: "ns/dns/53"})
	udp.ListenerFilters = []*listenerv3.ListenerFilter{{Name: "envoy.filters.udp_listener.udp_proxy", ConfigType: &listenerv3.ListenerFilter_TypedConfig{
		TypedConfig: anyOf(t, &udpproxyv3.UdpProxyConfig{StatPrefix: "u", RouteSpecifier: &udpproxyv3.UdpProxyConfig_Matcher{Matcher: &xdsmatcherv3.Matcher{
			OnNoMatch: &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Action{Action: &xdscorev3.TypedExtensionConfig{Name: "route", TypedConfig: route}}}}}})}}}
	res := Result{Listeners: []*listenerv3.Listener{dedicated, dedicatedTLS, shared, tcp, udp}}
	for _, name := range []string{"a", "a-x", "a-wild", "a-default", "a-plain", "http"} {
		res.Routes = append(res.Routes, &routev3.RouteConfiguration{Name: name})
	}
	res.Gateway.Gateways = []gatewayapi.GatewayStatus{{Namespace: "ns", Name: "a", Status: gatewayv1.GatewayStatus{
		Addresses: []gatewayv1.GatewayStatusAddress{{Value: "10.9.0.1"}}}}, {Namespace: "ns", Name: "b"}}

	for _, c := range []struct {
		gateway string
		port    int
		sni     string
		https   bool
		want    string
	}{
		{"ns/a", 80, "", false, "a"},
		{"ns/b", 80, "", false, "http"},
		{"ns/a", 443, "x.example", true, "a-x"},
		{"ns/a", 443, "y.example", true, "a-wild"},
		{"ns/a", 443, "other.org", true, "a-default"}, // a chain naming no server takes any
		{"ns/a", 443, "", false, "a-plain"},
		{"ns/a", 8080, "", false, ""},
		{"ns/b", 443, "x.example", true, ""},
	} {
		rc, _, _ := gatewayRouteTable(t, res, c.gateway, c.port, c.sni, c.https)
		if rc.GetName() != c.want {
			t.Errorf("%s port %d sni %q: route table %q, want %q", c.gateway, c.port, c.sni, rc.GetName(), c.want)
		}
	}
	l, _ := gatewayListener(t, res, "ns/a", 9000, false)
	if got := tcpClusters(t, gatewayChain(t, l, 9000, "", false)); got["ns/v1/3000"] != 70 || got["ns/v2/3000"] != 30 || len(got) != 2 {
		t.Errorf("tcp clusters %v", got)
	}
	l, _ = gatewayListener(t, res, "ns/a", 5300, true)
	if got := udpClusters(t, l); got["ns/dns/53"] != 1 || len(got) != 1 {
		t.Errorf("udp clusters %v", got)
	}
	if l, _ := gatewayListener(t, res, "ns/a", 5300, false); l != nil {
		t.Errorf("a TCP connection to a UDP port reaches %s", l.GetName())
	}
}

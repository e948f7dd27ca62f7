package envoy

import (
	"cmp"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Extension names, as Envoy registers them.
const (
	tcpProxyFilter     = "envoy.filters.network.tcp_proxy"
	udpProxyFilter     = "envoy.filters.udp_listener.udp_proxy"
	udpProxyRoute      = "envoy.extensions.filters.udp.udp_proxy.v3.Route"
	tlsInspectorFilter = "envoy.filters.listener.tls_inspector"
	tlsTransportSocket = "envoy.transport_sockets.tls"
)

// DefaultListenAddress is where fleet listeners bind unless told
// otherwise: every IPv4 interface of the fleet pod. "::" binds every IPv6
// interface and, through ipv4_compat, every IPv4 one too, for dual-stack
// nodes.
const DefaultListenAddress = "0.0.0.0"

// UDPSessionIdleTimeout ends a UDP session after this long without datagrams.
// Envoy's default; named here so the output says what it relies on.
const UDPSessionIdleTimeout = time.Minute

// L4Listener is what a LoadBalancer Service port's listener is built
// from: where it binds, where it sends, and the settings of the Service
// that shape the connection.
type L4Listener struct {
	Name    string
	Address string
	Port    uint32
	Cluster string
	// Weighted, with two or more entries, replaces Cluster with a
	// weighted split (TCP only).
	Weighted []L4Weight
	// Log is the access log format of the listener's protocol.
	Log LogFormat
	// ClientAddress is the fleet's PROXY protocol setting (TCP only).
	ClientAddress ClientAddress
	// Freebind binds Address even while the node does not hold it
	// (IP_FREEBIND): a Service's own address from a pool, which the
	// network may route to the node only later.
	Freebind bool
	// IPv6Only keeps the IPv6 wildcard "::" from taking IPv4 too (no
	// ipv4_compat): a Service that asks for IPv6 alone.
	IPv6Only bool
	// SourceRanges are the only client CIDRs let in (canonical, masked:
	// "10.0.0.0/8"); none lets every client in.
	SourceRanges []string
	// HashSourceIP feeds the client's address to the cluster's
	// consistent hash: one client, one endpoint.
	HashSourceIP bool
	// IdleTimeout replaces TCPIdleTimeout (TCP only); 0 keeps it.
	IdleTimeout time.Duration
}

// address is where l binds, and freebind its IP_FREEBIND setting (nil,
// Envoy's "leave the socket alone", unless asked, so listeners without it
// encode as before).
func (l L4Listener) address(udp bool) (*corev3.Address, *wrapperspb.BoolValue) {
	a := listenAddress(l.Address, l.Port, udp)
	if l.IPv6Only {
		a = socketAddress(l.Address, l.Port, udp)
	}
	if l.Freebind {
		return a, wrapperspb.Bool(true)
	}
	return a, nil
}

// TCPProxyListener passes every connection on l's port straight to its
// cluster, trying another pod when one refuses, and logs each connection
// in its format. With the PROXY protocol it reads (and drops) the header
// first, so the log shows the client and the source ranges are matched
// against it.
func TCPProxyListener(l L4Listener) *listenerv3.Listener {
	proxy := &tcpproxyv3.TcpProxy{
		StatPrefix:         l.Name,
		IdleTimeout:        durationpb.New(cmp.Or(l.IdleTimeout, TCPIdleTimeout)),
		AccessLog:          stdoutJSONLog(l.Log),
		MaxConnectAttempts: wrapperspb.UInt32(TCPMaxConnectAttempts),
	}
	tcpClusters(proxy, l.Cluster, l.Weighted)
	if l.HashSourceIP {
		proxy.HashPolicy = []*typev3.HashPolicy{{PolicySpecifier: &typev3.HashPolicy_SourceIp_{SourceIp: &typev3.HashPolicy_SourceIp{}}}}
	}
	address, freebind := l.address(false)
	return &listenerv3.Listener{
		Name:                          l.Name,
		Address:                       address,
		Freebind:                      freebind,
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(BufferLimitBytes),
		ListenerFilters:               l.ClientAddress.listenerFilters(),
		FilterChains: []*listenerv3.FilterChain{{
			FilterChainMatch: sourceChainMatch(l.SourceRanges),
			Filters: []*listenerv3.Filter{{
				Name:       tcpProxyFilter,
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(proxy)},
			}},
		}},
	}
}

// UDPProxyListener forwards datagrams on l's port to its cluster, one
// upstream per client session, and logs each session in its format. It
// routes with the matcher form, since the plain cluster field is
// deprecated; the matcher also drops datagrams from sources outside
// l.SourceRanges. Datagrams up to UDPMaxDatagramSize pass both ways.
func UDPProxyListener(l L4Listener) *listenerv3.Listener {
	proxy := &udpproxyv3.UdpProxyConfig{
		StatPrefix:           l.Name,
		IdleTimeout:          durationpb.New(UDPSessionIdleTimeout),
		UpstreamSocketConfig: udpSocketConfig(),
		AccessLog:            stdoutJSONLog(l.Log),
		RouteSpecifier:       &udpproxyv3.UdpProxyConfig_Matcher{Matcher: udpRouteMatcher(l.Cluster, l.SourceRanges)},
	}
	if l.HashSourceIP {
		proxy.HashPolicies = []*udpproxyv3.UdpProxyConfig_HashPolicy{{PolicySpecifier: &udpproxyv3.UdpProxyConfig_HashPolicy_SourceIp{SourceIp: true}}}
	}
	address, freebind := l.address(true)
	return &listenerv3.Listener{
		Name:                          l.Name,
		Address:                       address,
		Freebind:                      freebind,
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(BufferLimitBytes),
		UdpListenerConfig:             &listenerv3.UdpListenerConfig{DownstreamSocketConfig: udpSocketConfig()},
		ListenerFilters: []*listenerv3.ListenerFilter{{
			Name:       udpProxyFilter,
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(proxy)},
		}},
	}
}

// HTTPListener serves plain HTTP on port from the named route configuration.
func HTTPListener(name, address string, port uint32, routeConfig string, log LogFormat, ca ClientAddress) *listenerv3.Listener {
	return &listenerv3.Listener{
		Name:                          name,
		Address:                       listenAddress(address, port, false),
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(BufferLimitBytes),
		ListenerFilters:               ca.listenerFilters(),
		FilterChains:                  []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{HTTPConnectionManager(name, routeConfig, log, ca)}}},
	}
}

// TLSChain is one certificate, the SNI names it serves and the route
// configuration their requests are routed by. No server names makes it the
// default chain, used when a client's SNI matches no other.
type TLSChain struct {
	Secret      string
	ServerNames []string
	RouteConfig string
	// ClientAuth checks client certificates on this chain (clientcert.go);
	// nil for none, which is most chains.
	ClientAuth *ClientAuth
}

// HTTPSListener terminates TLS on port, picking the chain by SNI (read by
// tls_inspector, after the PROXY header when ca takes one): each chain has
// its certificate and serves HTTP from its own route configuration.
func HTTPSListener(name, address string, port uint32, chains []TLSChain, log LogFormat, ca ClientAddress) *listenerv3.Listener {
	l := &listenerv3.Listener{
		Name:                          name,
		Address:                       listenAddress(address, port, false),
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(BufferLimitBytes),
		ListenerFilters: append(ca.listenerFilters(), &listenerv3.ListenerFilter{
			Name:       tlsInspectorFilter,
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(&tlsinspectorv3.TlsInspector{})},
		}),
	}
	for _, c := range chains {
		fc := &listenerv3.FilterChain{
			Name:            FilterChainName(c),
			Filters:         []*listenerv3.Filter{HTTPConnectionManager(name, c.RouteConfig, log, ca)},
			TransportSocket: chainSocket(c),
		}
		if len(c.ServerNames) > 0 {
			fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: c.ServerNames}
		}
		l.FilterChains = append(l.FilterChains, fc)
	}
	return l
}

// downstreamTLS terminates TLS with the SDS secret and offers HTTP/2 and
// HTTP/1.1 by ALPN; the connection manager's codec follows the choice.
func downstreamTLS(secret string) *corev3.TransportSocket {
	return downstreamTLSContext(downstreamContext(secret))
}

func downstreamContext(secret string) *tlsv3.DownstreamTlsContext {
	return &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		AlpnProtocols: []string{"h2", "http/1.1"},
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{
			Name:      secret,
			SdsConfig: adsSource(),
		}},
	}}
}

func downstreamTLSContext(ctx *tlsv3.DownstreamTlsContext) *corev3.TransportSocket {
	return &corev3.TransportSocket{
		Name:       edgeTLSSocket,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)},
	}
}

// listenAddress is a fleet listener's bind address. The IPv6 wildcard also
// takes IPv4 connections (ipv4_compat), so one listener serves both
// families on a dual-stack node.
func listenAddress(address string, port uint32, udp bool) *corev3.Address {
	a := socketAddress(address, port, udp)
	if address == "::" {
		a.GetSocketAddress().Ipv4Compat = true
	}
	return a
}

package envoy

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// PassthroughChain is a host whose TLS connections on the https port go
// to a backend unopened (ssl-passthrough): picked by the SNI that
// tls_inspector reads, proxied byte for byte, with no certificate of
// fairway's and no HTTP.
type PassthroughChain struct {
	ServerName string
	Cluster    string
	// Weighted, with two or more entries, replaces Cluster with a
	// weighted split (a TLSRoute's backendRefs).
	Weighted []L4Weight
	// Secret, when set, ends TLS with this SDS certificate before the
	// connection is proxied (a Gateway's TLS listener in Terminate mode):
	// the backend gets the plain bytes. No ALPN is offered, since what
	// follows is not HTTP.
	Secret string
	// SourceRanges are the only client CIDRs let in (canonical, masked);
	// none lets every client in.
	SourceRanges []string
}

// passthroughFilterChain matches its host's SNI exactly and proxies the
// connection to its cluster. It has no transport socket: the client's
// TLS reaches the backend as it was sent. The proxy's settings are a
// LoadBalancer Service port's (TCPProxyListener): the idle timeout, the
// connect attempts and the TCP access log, so one passed-through
// connection is told like any other. A client outside SourceRanges
// matches the host's SNI and then no chain (Envoy picks the server name
// before the source, and does not go back), so its connection is closed
// before any upstream one is made.
func passthroughFilterChain(c PassthroughChain, log LogFormat) *listenerv3.FilterChain {
	proxy := &tcpproxyv3.TcpProxy{
		StatPrefix:         PassthroughStatPrefix(c.ServerName),
		IdleTimeout:        durationpb.New(TCPIdleTimeout),
		AccessLog:          stdoutJSONLog(log),
		MaxConnectAttempts: wrapperspb.UInt32(TCPMaxConnectAttempts),
	}
	tcpClusters(proxy, c.Cluster, c.Weighted)
	match := &listenerv3.FilterChainMatch{}
	if c.ServerName != "" { // "": the chain for every name (a listener without a hostname)
		match.ServerNames = []string{c.ServerName}
	}
	if len(c.SourceRanges) > 0 {
		match.SourcePrefixRanges = cidrRanges(c.SourceRanges)
	}
	fc := &listenerv3.FilterChain{
		Name:             PassthroughFilterChainName(c.ServerName),
		FilterChainMatch: match,
		Filters: []*listenerv3.Filter{{
			Name:       tcpProxyFilter,
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(proxy)},
		}},
	}
	if c.Secret != "" {
		fc.TransportSocket = downstreamTLSContext(&tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
			TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: c.Secret, SdsConfig: adsSource()}},
		}})
	}
	return fc
}

// WithPassthrough adds the passthrough chains to an https listener, after
// its terminating chains: the listener the https listener's encoder
// writes when it has passthrough hosts. Envoy picks a chain by its match,
// not its place, and no server name is in both lists.
func WithPassthrough(l *listenerv3.Listener, pass []PassthroughChain, log LogFormat) *listenerv3.Listener {
	for _, c := range pass {
		l.FilterChains = append(l.FilterChains, passthroughFilterChain(c, log))
	}
	return l
}

// AppendWithPassthrough appends the encoding of
// WithPassthrough(HTTPSListener(..., chains, ...), pass, log): the
// terminating chains on the fast path, the few passthrough chains
// marshalled as messages. With no passthrough chains it is Append.
func (x *HTTPSListenerEncoder) AppendWithPassthrough(b []byte, chains []TLSChain, pass []PassthroughChain, log LogFormat) []byte {
	if len(pass) == 0 {
		return x.Append(b, chains)
	}
	b = x.Append(b, chains)
	b = b[:len(b)-len(x.tail)] // the tail follows every filter chain
	for _, c := range pass {
		m := marshalOrPanic(passthroughFilterChain(c, log))
		b = appendTagLen(b, 3, len(m))
		b = append(b, m...)
	}
	return append(b, x.tail...)
}

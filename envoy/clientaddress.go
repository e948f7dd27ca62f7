package envoy

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	proxyprotocolv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/proxy_protocol/v3"
)

const (
	proxyProtocolFilter = "envoy.filters.listener.proxy_protocol"
	// RealIPHeader carries the client address to backends, as ingress-nginx
	// sends it.
	RealIPHeader = "x-real-ip"
	// TrustedClientAddress is the header formatter of the address Envoy
	// trusts as the client's: the PROXY protocol's source when the
	// listener takes it, else the X-Forwarded-For entry xff_num_trusted_hops
	// from the right when that is set, else the peer.
	TrustedClientAddress = "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
)

// ClientAddress is how the fleet learns a client's address when it sits
// behind another load balancer. The zero value is the fleet at the edge:
// the peer is the client.
type ClientAddress struct {
	// XFFTrustedHops is the number of proxies in front whose
	// X-Forwarded-For entries (and X-Forwarded-Proto) are trusted.
	XFFTrustedHops uint32
	// ProxyProtocol: every connection starts with a PROXY protocol header
	// (v1 or v2) from the load balancer in front, whose source address is
	// the client's. A connection without one is closed, so a client cannot
	// bypass the balancer and claim any address.
	ProxyProtocol bool
}

// listenerFilters are the filters that must read a connection before
// anything else: the PROXY header comes before the TLS ClientHello, so it
// precedes tls_inspector.
func (c ClientAddress) listenerFilters() []*listenerv3.ListenerFilter {
	if !c.ProxyProtocol {
		return nil
	}
	return []*listenerv3.ListenerFilter{{
		Name:       proxyProtocolFilter,
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(&proxyprotocolv3.ProxyProtocol{})},
	}}
}

// realIPHeaders set X-Real-IP on every forwarded request to the trusted
// client address, replacing whatever the client sent. They sit on the
// route configuration, once, rather than on each of its routes.
func realIPHeaders() []*corev3.HeaderValueOption {
	return []*corev3.HeaderValueOption{{
		Header:       &corev3.HeaderValue{Key: RealIPHeader, Value: TrustedClientAddress},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}}
}

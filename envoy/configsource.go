package envoy

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// adsSource points a dynamic resource (RDS, EDS, SDS) at the ADS stream the
// Envoy already has with fairway, so every type travels on one ordered stream.
func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

// socketAddress is an address:port, TCP unless udp is set.
func socketAddress(address string, port uint32, udp bool) *corev3.Address {
	proto := corev3.SocketAddress_TCP
	if udp {
		proto = corev3.SocketAddress_UDP
	}
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Protocol:      proto,
		Address:       address,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

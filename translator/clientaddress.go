package translator

import "github.com/fairwayhq/fairway/envoy"

// clientAddress is how the fleet's listeners learn the client's address
// (--xff-trusted-hops, --proxy-protocol): the address that X-Real-IP,
// X-Forwarded-For, access logs and source ranges use.
func (o *Options) clientAddress() envoy.ClientAddress {
	return envoy.ClientAddress{XFFTrustedHops: o.XFFTrustedHops, ProxyProtocol: o.ProxyProtocol}
}

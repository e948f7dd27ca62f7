package envoy

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// ClientVerify is how a chain asks clients for a certificate: nginx's
// ssl_verify_client values.
type ClientVerify string

const (
	ClientVerifyOn           ClientVerify = "on"
	ClientVerifyOff          ClientVerify = "off"
	ClientVerifyOptional     ClientVerify = "optional"
	ClientVerifyOptionalNoCA ClientVerify = "optional_no_ca"
)

// ClientAuth is a TLS host's client certificate check, on its own filter
// chain: the handshake is per connection, and a chain serves one host.
type ClientAuth struct {
	// CASecret names the SDS secret of the trusted CAs (and CRL), which a
	// CA rotation updates without touching the listener.
	CASecret string
	Verify   ClientVerify
	// MaxDepth: leaf excluded, trust anchor included (Envoy's count,
	// one more than nginx's ssl_verify_depth for the same chain).
	MaxDepth uint32
	// PassCertificate sends the certificate upstream (ssl-client-cert).
	PassCertificate bool
}

// The headers ingress-nginx sets for the backend when a host checks
// client certificates.
const (
	ClientCertHeader      = "ssl-client-cert"
	ClientVerifyHeader    = "ssl-client-verify"
	ClientSubjectDNHeader = "ssl-client-subject-dn"
	ClientIssuerDNHeader  = "ssl-client-issuer-dn"
)

// CASecret is a bundle of trusted CAs and an optional revocation list,
// delivered over SDS as a validation context.
func CASecret(name string, caPEM, crlPEM []byte) *tlsv3.Secret {
	v := &tlsv3.CertificateValidationContext{
		TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: caPEM}},
	}
	if len(crlPEM) > 0 {
		v.Crl = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: crlPEM}}
	}
	return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_ValidationContext{ValidationContext: v}}
}

// chainSocket is a chain's downstream TLS socket: with a client
// certificate check when it has one that asks.
func chainSocket(c TLSChain) *corev3.TransportSocket {
	if !c.ClientAuth.asks() {
		return downstreamTLS(c.Secret)
	}
	return downstreamTLSContext(clientAuthContext(c.Secret, c.ClientAuth))
}

func (a *ClientAuth) asks() bool { return a != nil && a.Verify != ClientVerifyOff }

// clientAuthContext asks the client for a certificate and checks it
// against the CA secret. The CA comes over SDS; the depth and the trust
// rule, which are the host's and not the CA's, sit in the default
// validation context that Envoy merges with it (combined validation
// context). optional_no_ca accepts a certificate no CA signed
// (ACCEPT_UNTRUSTED); only "on" fails a handshake without a certificate.
func clientAuthContext(secret string, a *ClientAuth) *tlsv3.DownstreamTlsContext {
	ctx := downstreamContext(secret)
	def := &tlsv3.CertificateValidationContext{MaxVerifyDepth: wrapperspb.UInt32(a.MaxDepth)}
	if a.Verify == ClientVerifyOptionalNoCA {
		def.TrustChainVerification = tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED
	}
	ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{
		CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
			DefaultValidationContext:         def,
			ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: a.CASecret, SdsConfig: adsSource()},
		},
	}
	ctx.RequireClientCertificate = wrapperspb.Bool(a.Verify == ClientVerifyOn)
	return ctx
}

// ClientCertRouteConfiguration is a TLS host's route configuration when
// the host checks client certificates: the ssl-client-* headers that
// ingress-nginx sets, from the connection's certificate, on every request.
// The client's own copies are removed first (Envoy removes before it
// adds), so a client cannot forge them, even where Envoy's value is empty
// and adds nothing.
func ClientCertRouteConfiguration(name string, vhosts []*routev3.VirtualHost, a *ClientAuth) *routev3.RouteConfiguration {
	rc := RouteConfiguration(name, vhosts)
	rc.RequestHeadersToRemove = []string{ClientCertHeader, ClientIssuerDNHeader, ClientSubjectDNHeader, ClientVerifyHeader}
	add := func(k, v string) {
		rc.RequestHeadersToAdd = append(rc.RequestHeadersToAdd, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: k, Value: v},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	if a.PassCertificate && a.asks() {
		add(ClientCertHeader, "%DOWNSTREAM_PEER_CERT%")
	}
	if v := clientVerifyValue(a.Verify); v != "" {
		add(ClientVerifyHeader, v)
	}
	if a.asks() {
		add(ClientSubjectDNHeader, "%DOWNSTREAM_PEER_SUBJECT%")
		add(ClientIssuerDNHeader, "%DOWNSTREAM_PEER_ISSUER%")
	}
	return rc
}

// clientVerifyValue is nginx's $ssl_client_verify where Envoy knows it for
// every request: SUCCESS when a verified certificate is required, NONE
// when none is asked for. With an optional certificate it depends on the
// connection, which no Envoy formatter tells, so it is not sent.
func clientVerifyValue(v ClientVerify) string {
	switch v {
	case ClientVerifyOn:
		return "SUCCESS"
	case ClientVerifyOff:
		return "NONE"
	}
	return ""
}

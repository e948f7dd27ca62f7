package envoy

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// UpstreamTLS is what a TLS cluster checks of, and shows to, its
// endpoints beyond encrypting (ingress-nginx's proxy-ssl-*). The zero
// value is upstreamTLS's unverified connection without SNI. It is
// comparable: it is part of a cluster's identity.
type UpstreamTLS struct {
	// CASecret names the SDS validation context (UpstreamCASecretName)
	// whose CAs the endpoint's certificate must chain to; "" verifies
	// nothing.
	CASecret string
	// SubjectAltName, with CASecret, is the DNS name the certificate
	// must carry; "" checks the chain only.
	SubjectAltName string
	// MaxVerifyDepth, with CASecret, bounds the chain in Envoy's count
	// (the CA included, the leaf not); 0 is Envoy's default.
	MaxVerifyDepth uint32
	// CertSecret names the SDS certificate Envoy presents to the
	// endpoint (UpstreamCertSecretName); "" presents none.
	CertSecret string
	// SNI is the server name sent in the handshake; "" sends none.
	SNI string
	// MinVersion and MaxVersion bound the protocol; TLSAuto is Envoy's
	// default (TLS 1.2 for both, as an upstream client).
	MinVersion, MaxVersion TLSVersion
	// Ciphers are the TLS 1.0-1.2 cipher suites by BoringSSL name,
	// joined by ":"; "" is Envoy's default list.
	Ciphers string
}

// TLSVersion is a TLS protocol version as Envoy's TlsParameters counts
// them.
type TLSVersion = tlsv3.TlsParameters_TlsProtocol

// The TLS versions a cluster may be bounded to.
const (
	TLSAuto = tlsv3.TlsParameters_TLS_AUTO
	TLSv1_0 = tlsv3.TlsParameters_TLSv1_0
	TLSv1_1 = tlsv3.TlsParameters_TLSv1_1
	TLSv1_2 = tlsv3.TlsParameters_TLSv1_2
	TLSv1_3 = tlsv3.TlsParameters_TLSv1_3
)

// ValidationContextSecret is a set of trusted CAs (PEM) delivered over
// SDS, so that a CA rotation touches no cluster.
func ValidationContextSecret(name string, caPEM []byte) *tlsv3.Secret {
	return &tlsv3.Secret{
		Name: name,
		Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: caPEM}},
		}},
	}
}

// Secrets are the SDS names v refers to, the CAs first; none for nil.
func (v *UpstreamTLS) Secrets() []string {
	if v == nil {
		return nil
	}
	var out []string
	if v.CASecret != "" {
		out = append(out, v.CASecret)
	}
	if v.CertSecret != "" {
		out = append(out, v.CertSecret)
	}
	return out
}

// upstreamTLSContext originates TLS offering one ALPN protocol, checking
// and presenting what v says.
func upstreamTLSContext(alpn string, v UpstreamTLS) *tlsv3.UpstreamTlsContext {
	common := &tlsv3.CommonTlsContext{AlpnProtocols: []string{alpn}}
	if v.MinVersion != TLSAuto || v.MaxVersion != TLSAuto || v.Ciphers != "" {
		common.TlsParams = &tlsv3.TlsParameters{TlsMinimumProtocolVersion: v.MinVersion, TlsMaximumProtocolVersion: v.MaxVersion}
		if v.Ciphers != "" {
			common.TlsParams.CipherSuites = strings.Split(v.Ciphers, ":")
		}
	}
	if v.CertSecret != "" {
		common.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{{Name: v.CertSecret, SdsConfig: adsSource()}}
	}
	if v.CASecret != "" {
		common.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{
			CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext:         upstreamValidation(v),
				ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: v.CASecret, SdsConfig: adsSource()},
			},
		}
	}
	return &tlsv3.UpstreamTlsContext{CommonTlsContext: common, Sni: v.SNI}
}

// upstreamValidation is the cluster's own part of the validation: the
// name and depth, which differ per Ingress while the CAs (over SDS) are
// the Secret's. Envoy merges the two.
func upstreamValidation(v UpstreamTLS) *tlsv3.CertificateValidationContext {
	c := &tlsv3.CertificateValidationContext{}
	if v.SubjectAltName != "" {
		c.MatchTypedSubjectAltNames = []*tlsv3.SubjectAltNameMatcher{{
			SanType: tlsv3.SubjectAltNameMatcher_DNS,
			Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: v.SubjectAltName}},
		}}
	}
	if v.MaxVerifyDepth != 0 {
		c.MaxVerifyDepth = wrapperspb.UInt32(v.MaxVerifyDepth)
	}
	return c
}

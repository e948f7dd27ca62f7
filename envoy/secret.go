package envoy

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// TLSSecret is a certificate chain and private key, delivered over SDS so a
// certificate rotation never touches the listener.
func TLSSecret(name string, certChainPEM, privateKeyPEM []byte) *tlsv3.Secret {
	return &tlsv3.Secret{
		Name: name,
		Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: certChainPEM}},
			PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: privateKeyPEM}},
		}},
	}
}

// RedactedKey replaces a secret's private key in displayed output.
const RedactedKey = "[redacted]"

// RedactSecret returns a copy of s with its private key replaced by
// RedactedKey, for output that people and logs read.
func RedactSecret(s *tlsv3.Secret) *tlsv3.Secret {
	cert := s.GetTlsCertificate()
	if cert == nil || cert.GetPrivateKey() == nil {
		return s
	}
	return &tlsv3.Secret{
		Name: s.GetName(),
		Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: cert.GetCertificateChain(),
			PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: RedactedKey}},
		}},
	}
}

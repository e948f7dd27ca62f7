package envoy

import (
	"path/filepath"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// The SDS secrets of the xDS connection's own mTLS, each in a file of its
// own in BootstrapTLS.SDSDir.
const (
	XDSClientCertSecret = "xds-client-cert"
	XDSServerCASecret   = "xds-server-ca"
)

// SDSFileName is the file (in BootstrapTLS.SDSDir) that holds the named
// secret; Envoy reads it as JSON by its extension.
func SDSFileName(secret string) string { return secret + ".json" }

// upstreamMTLS is the xDS cluster's TLS. The client certificate and the CA
// come over file-based SDS rather than inline in the bootstrap: Envoy never
// rereads a static certificate, but it watches SDS-delivered files, so a
// certificate renewed in its mounted Secret takes effect without a restart.
func upstreamMTLS(f *BootstrapTLS, serverName string) *corev3.TransportSocket {
	ctx := &tlsv3.UpstreamTlsContext{
		Sni: serverName,
		CommonTlsContext: &tlsv3.CommonTlsContext{
			AlpnProtocols:                  []string{"h2"},
			TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sdsFile(f.SDSDir, XDSClientCertSecret)},
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig{
				ValidationContextSdsSecretConfig: sdsFile(f.SDSDir, XDSServerCASecret),
			},
		},
	}
	return &corev3.TransportSocket{
		Name:       tlsTransportSocket,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)},
	}
}

// sdsFile points a secret at its SDS file. The file itself never changes
// (the init container writes it before Envoy starts); what rotates are the
// certificate files it names, which the secret's own watched_directory
// covers. A watch on the SDS file's source would not do: Envoy rereads the
// certificate files only when the secret it reads there changes.
func sdsFile(dir, secret string) *tlsv3.SdsSecretConfig {
	return &tlsv3.SdsSecretConfig{Name: secret, SdsConfig: &corev3.ConfigSource{
		ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_PathConfigSource{PathConfigSource: &corev3.PathConfigSource{
			Path: filepath.Join(dir, SDSFileName(secret)),
		}},
	}}
}

// certDir is the one directory holding both the certificate and its key,
// or "" when they live apart: Envoy then watches each file's directory.
func certDir(f *BootstrapTLS) string {
	if d := filepath.Dir(f.CertFile); d == filepath.Dir(f.KeyFile) {
		return d
	}
	return ""
}

// XDSClientSecrets are the contents of the two SDS files upstreamMTLS
// names, keyed by file name: each a discovery response holding one secret
// (named as the bootstrap asks for it, which Envoy checks) whose data are
// the certificate files. Each watches its files' directory, where the
// kubelet swaps a Secret volume's ..data link, and Envoy rereads the files
// on a change there.
func XDSClientSecrets(f *BootstrapTLS) map[string]*discoveryv3.DiscoveryResponse {
	file := func(path string) *corev3.DataSource {
		return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: path}}
	}
	cert := &tlsv3.TlsCertificate{CertificateChain: file(f.CertFile), PrivateKey: file(f.KeyFile)}
	if d := certDir(f); d != "" {
		cert.WatchedDirectory = &corev3.WatchedDirectory{Path: d}
	}
	ca := &tlsv3.CertificateValidationContext{
		TrustedCa:        file(f.CAFile),
		WatchedDirectory: &corev3.WatchedDirectory{Path: filepath.Dir(f.CAFile)},
	}
	response := func(s *tlsv3.Secret) *discoveryv3.DiscoveryResponse {
		return &discoveryv3.DiscoveryResponse{Resources: []*anypb.Any{mustAny(s)}}
	}
	return map[string]*discoveryv3.DiscoveryResponse{
		SDSFileName(XDSClientCertSecret): response(&tlsv3.Secret{Name: XDSClientCertSecret, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: cert}}),
		SDSFileName(XDSServerCASecret):   response(&tlsv3.Secret{Name: XDSServerCASecret, Type: &tlsv3.Secret_ValidationContext{ValidationContext: ca}}),
	}
}

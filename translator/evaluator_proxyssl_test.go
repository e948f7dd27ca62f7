package translator

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// upstreamOutcome is what became of the connection a cluster opens to a
// backend: status 0 when the handshake succeeded and the request reaches
// the backend, else Envoy's answer to a request whose upstream
// connection failed, 503. The rest is what the backend saw.
type upstreamOutcome struct {
	status     int
	sni        string
	version    uint16
	cipher     uint16
	clientCert bool // the backend got a certificate it verified
}

// tlsBackend is a backend speaking TLS: the chain it presents (leaf
// first), and the CAs it requires a client certificate from, if any.
type tlsBackend struct {
	cert     tls.Certificate
	clientCA *x509.CertPool
}

// connectUpstream follows a cluster's transport socket to a backend as
// Envoy would: a real TLS handshake (crypto/tls, over an in-memory pipe)
// whose client side is built from the cluster's UpstreamTlsContext and
// the SDS secrets it names, with Envoy's semantics for what Go does
// otherwise: no name check unless a SAN matcher asks for one, the depth
// counted without the leaf and with the trusted CA, TLS 1.2 only by
// default. A setting this evaluator does not know fails the test.
func connectUpstream(t *testing.T, res Result, cluster string, b tlsBackend) upstreamOutcome {
	t.Helper()
	c := findCluster(t, res, cluster)
	ts := c.GetTransportSocket()
	if ts.GetName() != "envoy.transport_sockets.tls" {
		t.Fatalf("cluster %s: transport socket %q, want TLS", cluster, ts.GetName())
	}
	ctx := unpack(t, ts.GetTypedConfig(), &tlsv3.UpstreamTlsContext{})
	cfg := clientConfig(t, res, ctx)
	server := &tls.Config{Certificates: []tls.Certificate{b.cert}, MaxVersion: tls.VersionTLS13, MinVersion: tls.VersionTLS10}
	if b.clientCA != nil {
		server.ClientAuth, server.ClientCAs = tls.RequireAndVerifyClientCert, b.clientCA
	}
	var out upstreamOutcome
	server.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		out.sni = h.ServerName
		return nil, nil
	}
	cc, sc := net.Pipe()
	defer cc.Close()
	defer sc.Close()
	done := make(chan error, 1)
	srv := tls.Server(sc, server)
	go func() { done <- srv.Handshake() }()
	_ = cc.SetDeadline(time.Now().Add(10 * time.Second))
	clientErr := tls.Client(cc, cfg).Handshake()
	if clientErr != nil {
		cc.Close() // the server side then fails too
	}
	serverErr := <-done
	if clientErr != nil || serverErr != nil {
		out.status = 503
		return out
	}
	st := srv.ConnectionState()
	out.version, out.cipher, out.clientCert = st.Version, st.CipherSuite, len(st.VerifiedChains) > 0
	return out
}

func findSecret(t *testing.T, res Result, name string) *tlsv3.Secret {
	t.Helper()
	for _, s := range res.Secrets {
		if s.GetName() == name {
			return s
		}
	}
	t.Fatalf("SDS secret %q is not published", name)
	return nil
}

// clientConfig is the client side of the handshake from ctx.
func clientConfig(t *testing.T, res Result, ctx *tlsv3.UpstreamTlsContext) *tls.Config {
	t.Helper()
	onlyFields(t, "upstream TLS", ctx, "common_tls_context", "sni")
	common := ctx.GetCommonTlsContext()
	onlyFields(t, "upstream TLS", common, "alpn_protocols", "tls_params", "tls_certificate_sds_secret_configs", "combined_validation_context")
	cfg := &tls.Config{
		ServerName: ctx.GetSni(),
		NextProtos: common.GetAlpnProtocols(),
		// Envoy verifies by its own rules, below; without a validation
		// context it accepts any certificate.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS12,
		MaxVersion:         tls.VersionTLS12,
	}
	applyTLSParams(t, cfg, common.GetTlsParams())
	switch certs := common.GetTlsCertificateSdsSecretConfigs(); len(certs) {
	case 0:
	case 1:
		tc := findSecret(t, res, certs[0].GetName()).GetTlsCertificate()
		onlyFields(t, "upstream TLS", tc, "certificate_chain", "private_key")
		pair, err := tls.X509KeyPair(tc.GetCertificateChain().GetInlineBytes(), tc.GetPrivateKey().GetInlineBytes())
		if err != nil {
			t.Fatalf("client certificate %s: %v", certs[0].GetName(), err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	default:
		t.Fatalf("%d client certificates; fairway presents at most one", len(certs))
	}
	if cv := common.GetCombinedValidationContext(); cv != nil {
		cfg.VerifyPeerCertificate = envoyVerifier(t, res, cv)
	}
	return cfg
}

// envoyTLSVersions are Envoy's TLS versions as Go's.
var envoyTLSVersions = map[tlsv3.TlsParameters_TlsProtocol]uint16{
	tlsv3.TlsParameters_TLSv1_0: tls.VersionTLS10, tlsv3.TlsParameters_TLSv1_1: tls.VersionTLS11,
	tlsv3.TlsParameters_TLSv1_2: tls.VersionTLS12, tlsv3.TlsParameters_TLSv1_3: tls.VersionTLS13,
}

// envoyCipherIDs are the cipher suites fairway may list, by BoringSSL
// name, as Go's.
var envoyCipherIDs = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"AES128-GCM-SHA256":             tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	"AES128-SHA":                    tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	"AES256-GCM-SHA384":             tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	"AES256-SHA":                    tls.TLS_RSA_WITH_AES_256_CBC_SHA,
}

func applyTLSParams(t *testing.T, cfg *tls.Config, p *tlsv3.TlsParameters) {
	t.Helper()
	if p == nil {
		return
	}
	onlyFields(t, "upstream TLS", p, "tls_minimum_protocol_version", "tls_maximum_protocol_version", "cipher_suites")
	if v := p.GetTlsMinimumProtocolVersion(); v != tlsv3.TlsParameters_TLS_AUTO {
		cfg.MinVersion = envoyTLSVersions[v]
	}
	if v := p.GetTlsMaximumProtocolVersion(); v != tlsv3.TlsParameters_TLS_AUTO {
		cfg.MaxVersion = envoyTLSVersions[v]
	}
	for _, name := range p.GetCipherSuites() {
		id, ok := envoyCipherIDs[name]
		if !ok {
			t.Fatalf("cipher suite %q: not one Envoy accepts", name)
		}
		cfg.CipherSuites = append(cfg.CipherSuites, id)
	}
}

// envoyVerifier checks the backend's chain as Envoy's default certificate
// validator does: to one of the SDS context's trusted CAs, within
// max_verify_depth (the leaf not counted, the trusted CA counted), and
// with a DNS SAN that a matcher accepts, if there are matchers. The
// validity period is checked; the host name is not, unless matched.
func envoyVerifier(t *testing.T, res Result, cv *tlsv3.CommonTlsContext_CombinedCertificateValidationContext) func([][]byte, [][]*x509.Certificate) error {
	t.Helper()
	onlyFields(t, "upstream TLS", cv, "default_validation_context", "validation_context_sds_secret_config")
	def := cv.GetDefaultValidationContext()
	onlyFields(t, "upstream TLS", def, "match_typed_subject_alt_names", "max_verify_depth")
	sds := findSecret(t, res, cv.GetValidationContextSdsSecretConfig().GetName()).GetValidationContext()
	onlyFields(t, "upstream TLS", sds, "trusted_ca")
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(sds.GetTrustedCa().GetInlineBytes()) {
		t.Fatal("the validation context's trusted_ca holds no certificate")
	}
	var names []string
	for _, m := range def.GetMatchTypedSubjectAltNames() {
		onlyFields(t, "upstream TLS", m, "san_type", "matcher")
		if m.GetSanType() != tlsv3.SubjectAltNameMatcher_DNS {
			t.Fatalf("SAN matcher of type %v: the evaluator knows DNS only", m.GetSanType())
		}
		onlyFields(t, "upstream TLS", m.GetMatcher(), "exact")
		names = append(names, m.GetMatcher().GetExact())
	}
	depth := 100 // Envoy's default limit
	if d := def.GetMaxVerifyDepth(); d != nil {
		depth = int(d.GetValue())
	}
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		return verifyAsEnvoy(raw, roots, depth, names)
	}
}

func verifyAsEnvoy(raw [][]byte, roots *x509.CertPool, depth int, names []string) error {
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return err
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(chains, func(ch []*x509.Certificate) bool { return len(ch)-1 <= depth }) {
		return fmt.Errorf("every chain is deeper than %d", depth)
	}
	if len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return dnsSANMatches(certs[0].DNSNames, n) }) {
		return errors.New("no DNS SAN matches")
	}
	return nil
}

// dnsSANMatches is Envoy's DNS SAN match of an exact name: the SAN
// itself, or a "*." SAN covering exactly one more label.
func dnsSANMatches(sans []string, name string) bool {
	for _, san := range sans {
		if strings.EqualFold(san, name) {
			return true
		}
		if rest, ok := strings.CutPrefix(san, "*."); ok {
			if _, after, ok := strings.Cut(name, "."); ok && strings.EqualFold(after, rest) {
				return true
			}
		}
	}
	return false
}

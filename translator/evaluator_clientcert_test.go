package translator

import (
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/fairwayhq/fairway/envoy"
)

// The evaluator's side of client certificates: the TLS handshake of the
// chain a client's SNI picks (Envoy's downstream TLS context, checked
// with crypto/x509 against the CA that the chain names over SDS), then
// the ssl-client-* headers of the chain's route configuration.

func init() { configEffects = append(configEffects, clientCertEffect) }

var clientCertHeaders = []string{envoy.ClientCertHeader, envoy.ClientVerifyHeader, envoy.ClientSubjectDNHeader, envoy.ClientIssuerDNHeader}

func isClientCertHeader(h string) bool {
	for _, c := range clientCertHeaders {
		if strings.EqualFold(h, c) {
			return true
		}
	}
	return false
}

// clientCertEffect: the client's own ssl-client-* headers reach the
// backend unless the configuration removes them; then its additions,
// from the connection's certificate, overwrite. Envoy leaves out a header
// whose value formats to "".
func clientCertEffect(t *testing.T, rc *routev3.RouteConfiguration, req request, out *outcome) {
	t.Helper()
	removed := map[string]bool{}
	for _, h := range rc.GetRequestHeadersToRemove() {
		removed[strings.ToLower(h)] = true
	}
	set := func(k, v string) {
		if out.upstreamHeaders == nil {
			out.upstreamHeaders = map[string]string{}
		}
		out.upstreamHeaders[k] = v
	}
	for k, v := range req.headers {
		if isClientCertHeader(k) && !removed[strings.ToLower(k)] {
			set(strings.ToLower(k), v)
		}
	}
	for _, h := range rc.GetRequestHeadersToAdd() {
		k := h.GetHeader().GetKey()
		if !isClientCertHeader(k) {
			continue
		}
		if h.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD || h.GetKeepEmptyValue() {
			t.Fatalf("route configuration %s: header %s: an append rule this evaluator does not know", rc.GetName(), k)
		}
		if v := peerFormat(t, h.GetHeader().GetValue(), req.peer); v != "" {
			set(k, v)
		}
	}
}

// peerFormat is Envoy's formatter over the peer certificate, for the
// operators fairway uses: the URL-encoded PEM, the subject and issuer
// (RFC 2253), each "" without a certificate; text without operators is
// itself.
func peerFormat(t *testing.T, value string, peer *x509.Certificate) string {
	t.Helper()
	if !strings.Contains(value, "%") {
		return value
	}
	if peer == nil {
		return ""
	}
	switch value {
	case "%DOWNSTREAM_PEER_CERT%":
		return url.QueryEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: peer.Raw})))
	case "%DOWNSTREAM_PEER_SUBJECT%":
		return peer.Subject.String()
	case "%DOWNSTREAM_PEER_ISSUER%":
		return peer.Issuer.String()
	}
	t.Fatalf("a formatter this evaluator does not know: %q", value)
	return ""
}

// connect makes a TLS connection to the https listener with SNI host,
// presenting chain (leaf first; none for no certificate), and then the
// request over it: handshakeRefused when the chain refuses the client.
func connect(t *testing.T, res Result, req request, chain ...*x509.Certificate) outcome {
	t.Helper()
	fc := sniChain(res, stripPort(req.authority))
	if fc == nil {
		return outcome{handshakeRefused: true}
	}
	ctx := &tlsv3.DownstreamTlsContext{}
	if err := fc.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx); err != nil {
		t.Fatal(err)
	}
	peer, ok := clientHandshake(t, res, ctx, chain)
	if !ok {
		return outcome{handshakeRefused: true}
	}
	req.scheme, req.peer = "https", peer
	return evaluate(t, sniTable(t, res, stripPort(req.authority)), req)
}

// clientHandshake is the client certificate part of Envoy's handshake:
// without a validation context no certificate is asked for; with one, a
// missing certificate fails only when it is required, and a certificate
// must verify against the CA secret within max_verify_depth (leaf
// excluded, trust anchor included), unless untrusted ones are accepted.
func clientHandshake(t *testing.T, res Result, ctx *tlsv3.DownstreamTlsContext, chain []*x509.Certificate) (*x509.Certificate, bool) {
	t.Helper()
	common := ctx.GetCommonTlsContext()
	if common.GetValidationContextType() == nil {
		if ctx.GetRequireClientCertificate().GetValue() {
			t.Fatal("a client certificate required without a CA")
		}
		return nil, true
	}
	combined := common.GetCombinedValidationContext()
	if combined == nil {
		t.Fatalf("a validation context this evaluator does not know: %v", common.GetValidationContextType())
	}
	def := proto.Clone(combined.GetDefaultValidationContext()).(*tlsv3.CertificateValidationContext)
	depth, untrusted := def.GetMaxVerifyDepth(), def.GetTrustChainVerification() == tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED
	def.MaxVerifyDepth, def.TrustChainVerification = nil, 0
	if !proto.Equal(def, &tlsv3.CertificateValidationContext{}) {
		t.Fatalf("validation settings this evaluator does not know: %v", def)
	}
	if len(chain) == 0 {
		return nil, !ctx.GetRequireClientCertificate().GetValue()
	}
	roots := caPool(t, res, combined.GetValidationContextSdsSecretConfig().GetName())
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	paths, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	verified := false
	for _, p := range paths {
		verified = verified || depth == nil || uint32(len(p)-1) <= depth.GetValue()
	}
	if err != nil || !verified {
		return chain[0], untrusted
	}
	return chain[0], true
}

// caPool is the trusted CAs of the named SDS secret, as Envoy gets them.
func caPool(t *testing.T, res Result, name string) *x509.CertPool {
	t.Helper()
	for _, s := range res.Secrets {
		if s.GetName() == name {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(s.GetValidationContext().GetTrustedCa().GetInlineBytes()) {
				t.Fatalf("secret %s: no CA certificates", name)
			}
			return pool
		}
	}
	t.Fatalf("the chain names CA secret %s, which is not there", name)
	return nil
}

// translateWithCA translates a golden case with its Secret default/client-ca
// holding ca instead.
func translateWithCA(t *testing.T, name string, ca *testCA) Result {
	t.Helper()
	in := readGoldenInput(t, "testdata/"+name+"/input.yaml")
	found := false
	for _, s := range in.Input.Secrets {
		if s.Namespace == "default" && s.Name == "client-ca" {
			s.Data = map[string][]byte{caCertKey: ca.certPEM()}
			found = true
		}
	}
	if !found {
		t.Fatalf("%s: no Secret default/client-ca", name)
	}
	res := Translate(in.Input, in.Options)
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res
}

// clients are the certificates a test's clients present: one the CA
// signed, one another CA signed, one through an intermediate of the CA.
type clients struct {
	ca                       *testCA
	good, foreign, throughIn *testCA
	intermediate             *testCA
}

func newClients(t *testing.T) clients {
	ca := issue(t, "client CA", nil, true)
	inter := issue(t, "intermediate CA", ca, true)
	return clients{
		ca: ca, good: issue(t, "alice", ca, false), foreign: issue(t, "mallory", issue(t, "other CA", nil, true), false),
		throughIn: issue(t, "bob", inter, false), intermediate: inter,
	}
}

// TestClientCertVerifyModes: each auth-tls-verify-client value, with no
// certificate, one the CA signed and one it did not, as ingress-nginx's
// e2e suite does (test/e2e/annotations/authtls.go), except that Envoy
// refuses at the handshake where nginx answers 400.
func TestClientCertVerifyModes(t *testing.T) {
	c := newClients(t)
	res := translateWithCA(t, "annotation-auth-tls-verify-client", c.ca)
	for _, tc := range []struct {
		host                string
		none, good, foreign bool // accepted
	}{
		{"a.example.com", false, true, false}, // on
		{"b.example.com", true, true, false},  // optional
		{"c.example.com", true, true, true},   // optional_no_ca
		{"d.example.com", true, true, true},   // off: no certificate is asked for
	} {
		for _, p := range []struct {
			name   string
			chain  []*x509.Certificate
			accept bool
		}{{"no certificate", nil, tc.none}, {"the CA's", []*x509.Certificate{c.good.cert}, tc.good}, {"another CA's", []*x509.Certificate{c.foreign.cert}, tc.foreign}} {
			out := connect(t, res, request{authority: tc.host, path: "/"}, p.chain...)
			if out.handshakeRefused == p.accept {
				t.Errorf("%s with %s: refused %v, want %v", tc.host, p.name, out.handshakeRefused, !p.accept)
			}
			if p.accept && out.cluster != "default/web/80" {
				t.Errorf("%s with %s: forwarded to %q (status %d)", tc.host, p.name, out.cluster, out.status)
			}
		}
	}
	// e.example.com's Ingress has an invalid verify mode: not served at all.
	if out := connect(t, res, request{authority: "e.example.com", path: "/"}, c.good.cert); !out.handshakeRefused && out.cluster != "" {
		t.Errorf("e.example.com (invalid auth-tls-verify-client) was served: %+v", out)
	}
}

// TestClientCertHeaders: the backend sees ssl-client-verify, -subject-dn
// and -issuer-dn of the connection's certificate, ssl-client-cert only
// where asked for, and never a copy the client forged.
func TestClientCertHeaders(t *testing.T) {
	c := newClients(t)
	res := translateWithCA(t, "annotation-auth-tls-pass-certificate-to-upstream", c.ca)
	forged := map[string]string{envoy.ClientCertHeader: "forged", envoy.ClientVerifyHeader: "SUCCESS", envoy.ClientSubjectDNHeader: "CN=admin"}
	a := connect(t, res, request{authority: "a.example.com", path: "/", headers: forged}, c.good.cert)
	h := a.upstreamHeaders
	if got, err := url.QueryUnescape(h[envoy.ClientCertHeader]); err != nil || got != string(c.good.certPEM()) {
		t.Errorf("a.example.com: ssl-client-cert %q, want alice's URL-encoded PEM", h[envoy.ClientCertHeader])
	}
	if h[envoy.ClientVerifyHeader] != "SUCCESS" || h[envoy.ClientSubjectDNHeader] != "CN=alice,O=fairway test" || h[envoy.ClientIssuerDNHeader] != "CN=client CA,O=fairway test" {
		t.Errorf("a.example.com: headers %v", h)
	}
	// b's pass-certificate-to-upstream is invalid, so it is off: the forged
	// certificate is removed and none is added.
	b := connect(t, res, request{authority: "b.example.com", path: "/", headers: forged}, c.good.cert)
	if v, ok := b.upstreamHeaders[envoy.ClientCertHeader]; ok {
		t.Errorf("b.example.com: ssl-client-cert %q reached the backend", v)
	}
	if b.upstreamHeaders[envoy.ClientSubjectDNHeader] != "CN=alice,O=fairway test" {
		t.Errorf("b.example.com: subject %q", b.upstreamHeaders[envoy.ClientSubjectDNHeader])
	}
}

// TestClientCertForgedWithoutCertificate: on an optional host, a client
// without a certificate gets through, and its forged headers do not.
func TestClientCertForgedWithoutCertificate(t *testing.T) {
	c := newClients(t)
	res := translateWithCA(t, "annotation-auth-tls-verify-client", c.ca)
	forged := map[string]string{envoy.ClientCertHeader: "forged", envoy.ClientVerifyHeader: "SUCCESS", envoy.ClientSubjectDNHeader: "CN=admin", envoy.ClientIssuerDNHeader: "CN=client CA"}
	for _, host := range []string{"b.example.com", "d.example.com"} {
		out := connect(t, res, request{authority: host, path: "/", headers: forged})
		if out.handshakeRefused {
			t.Fatalf("%s: refused", host)
		}
		for k, v := range out.upstreamHeaders {
			if forged[k] != "" && v == forged[k] {
				t.Errorf("%s: the client's %s: %q reached the backend", host, k, v)
			}
		}
	}
	if d := connect(t, res, request{authority: "d.example.com", path: "/"}); d.upstreamHeaders[envoy.ClientVerifyHeader] != "NONE" {
		t.Errorf("d.example.com (off): ssl-client-verify %q, want NONE", d.upstreamHeaders[envoy.ClientVerifyHeader])
	}
}

// TestClientCertDepth: nginx's depth counts the CAs between the client's
// certificate and the trusted CA (OpenSSL 1.1 and later), Envoy's counts
// the trusted CA too. A certificate through one intermediate passes the
// default depth 1, as with ingress-nginx; one through two intermediates
// is refused there and passes auth-tls-verify-depth 3.
func TestClientCertDepth(t *testing.T) {
	c := newClients(t)
	one := []*x509.Certificate{c.throughIn.cert, c.intermediate.cert}
	deeper := issue(t, "deeper CA", c.intermediate, true)
	two := []*x509.Certificate{issue(t, "carol", deeper, false).cert, deeper.cert, c.intermediate.cert}
	res := translateWithCA(t, "annotation-auth-tls-verify-depth", c.ca)
	if out := connect(t, res, request{authority: "a.example.com", path: "/"}, two...); out.handshakeRefused {
		t.Error("a.example.com (depth 3): refused a certificate through two intermediates")
	}
	res = translateWithCA(t, "annotation-auth-tls-verify-client", c.ca)
	if out := connect(t, res, request{authority: "a.example.com", path: "/"}, one...); out.handshakeRefused {
		t.Error("a.example.com (depth 1): refused a certificate through one intermediate, which nginx takes")
	}
	if out := connect(t, res, request{authority: "a.example.com", path: "/"}, two...); !out.handshakeRefused {
		t.Error("a.example.com (depth 1): accepted a certificate through two intermediates")
	}
}

// TestClientCertStaysOnItsHost: the check is on shop.example.com's chain
// only: api.example.com, on the same certificate, takes clients without
// one; shop's plain HTTP redirects every route to https, another
// Ingress's route on the host too; a client that reaches shop's name over
// api's connection gets 421, never shop's routes.
func TestClientCertStaysOnItsHost(t *testing.T) {
	c := newClients(t)
	res := translateWithCA(t, "annotation-auth-tls-secret", c.ca)
	if out := connect(t, res, request{authority: "api.example.com", path: "/"}); out.handshakeRefused || out.cluster == "" {
		t.Errorf("api.example.com without a certificate: %+v", out)
	}
	if out := connect(t, res, request{authority: "shop.example.com", path: "/"}); !out.handshakeRefused {
		t.Errorf("shop.example.com without a certificate: %+v", out)
	}
	api := sniTable(t, res, "api.example.com")
	if out := evaluate(t, api, request{scheme: "https", authority: "shop.example.com", path: "/other"}); out.status != 421 {
		t.Errorf("shop.example.com over api.example.com's connection: %+v, want 421", out)
	}
	plain := routeConfig(res, envoy.HTTPRouteConfig)
	for _, path := range []string{"/", "/other"} {
		if out := evaluate(t, plain, request{authority: "shop.example.com", path: path}); out.status != 308 {
			t.Errorf("http://shop.example.com%s: %+v, want 308 to https", path, out)
		}
	}
}

// TestClientCertFailsClosed: a host whose CA Secret is missing or invalid
// has no https chain (and no other chain serves it); the other hosts keep
// theirs.
func TestClientCertFailsClosed(t *testing.T) {
	for _, golden := range []string{"annotation-auth-tls-secret-missing", "annotation-auth-tls-secret-invalid"} {
		res := translateGolden(t, golden)
		for _, host := range []string{"shop.example.com", "admin.example.com", "bad.example.com", "nons.example.com"} {
			if fc := sniChain(res, host); fc != nil {
				t.Errorf("%s: %s has https chain %s", golden, host, fc.GetName())
			}
			for _, rc := range res.Routes {
				if rc.GetName() == envoy.HTTPRouteConfig {
					continue
				}
				if vh := findVirtualHost(rc, host); vh != nil && vh.GetName() == host {
					t.Errorf("%s: https table %s serves %s", golden, rc.GetName(), host)
				}
			}
		}
		if out := connect(t, res, request{authority: "api.example.com", path: "/"}); out.handshakeRefused || out.cluster == "" {
			t.Errorf("%s: api.example.com lost its HTTPS: %+v", golden, out)
		}
	}
}

// TestClientCertSplitsTheWildcard: a checked host that only a wildcard
// certificate covers gets its own chain with the check; the wildcard's
// chain answers its name with 421, and other names under the wildcard
// stay unchecked.
func TestClientCertSplitsTheWildcard(t *testing.T) {
	c := newClients(t)
	res := translateWithCA(t, "annotation-auth-tls-secret-wildcard", c.ca)
	if out := connect(t, res, request{authority: "secure.example.com", path: "/"}); !out.handshakeRefused {
		t.Errorf("secure.example.com without a certificate: %+v", out)
	}
	if out := connect(t, res, request{authority: "secure.example.com", path: "/"}, c.good.cert); out.cluster != "default/other/80" {
		t.Errorf("secure.example.com with alice's: %+v", out)
	}
	if out := connect(t, res, request{authority: "www.example.com", path: "/"}); out.handshakeRefused || out.cluster != "default/web/80" {
		t.Errorf("www.example.com without a certificate: %+v", out)
	}
	wild := sniTable(t, res, "www.example.com")
	if out := evaluate(t, wild, request{scheme: "https", authority: "secure.example.com", path: "/"}); out.status != 421 {
		t.Errorf("secure.example.com over the wildcard's connection: %+v, want 421", out)
	}
	// broken.example.com's CA is missing: its SNI falls to the wildcard's
	// chain, which answers as the wildcard, never with broken's backend.
	out := connect(t, res, request{authority: "broken.example.com", path: "/"})
	if out.cluster == "default/other/80" {
		t.Errorf("broken.example.com (CA missing) reached its backend without a check: %+v", out)
	}
	if vh := findVirtualHost(wild, "broken.example.com"); vh != nil && vh.GetName() == "broken.example.com" {
		t.Error("the wildcard's table serves broken.example.com's own virtual host")
	}
}

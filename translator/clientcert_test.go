package translator

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"math/big"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// TestClientCertIncremental follows a host's client certificate check
// through changes: the CA rotated, the mode changed, the CA broken and
// mended, the annotation removed. At each step the incremental engine
// agrees with a cold translation, and clients meet the check the step
// asks for.
func TestClientCertIncremental(t *testing.T) {
	c := newClients(t)
	in := readGoldenInput(t, "testdata/annotation-auth-tls-secret/input.yaml").Input
	// Each change is a new object, as informers deliver them.
	setCA := func(pem []byte) {
		for i, s := range in.Secrets {
			if s.Name == "client-ca" {
				s = s.DeepCopy()
				s.Data = map[string][]byte{caCertKey: pem}
				in.Secrets[i] = s
			}
		}
	}
	var base map[string]string
	for _, ing := range in.Ingresses {
		if ing.Name == "shop" {
			base = ing.Annotations
		}
	}
	setAnnotations := func(a map[string]string) {
		for i, ing := range in.Ingresses {
			if ing.Name == "shop" {
				ing = ing.DeepCopy()
				ing.Annotations = a
				in.Ingresses[i] = ing
			}
		}
	}
	e := NewEngine(Options{})
	step := func(name string, chain *testCA, wantRefused bool) {
		t.Helper()
		e.Sync(in)
		warm := e.Output()
		cold := NewEngine(Options{})
		cold.Sync(in)
		if diff := compareOutputs(warm, cold.Output()); diff != "" {
			t.Fatalf("%s: incremental differs from scratch:\n%s", name, diff)
		}
		res := warm.Result()
		out := connect(t, res, request{authority: "shop.example.com", path: "/"})
		if chain != nil {
			out = connect(t, res, request{authority: "shop.example.com", path: "/"}, chain.cert)
		}
		if out.handshakeRefused != wantRefused {
			t.Fatalf("%s: refused %v, want %v (%+v)", name, out.handshakeRefused, wantRefused, out)
		}
	}
	setCA(c.ca.certPEM())
	step("the CA signed alice", c.good, false)
	step("no certificate", nil, true)
	other := issue(t, "rotated CA", nil, true)
	setCA(other.certPEM())
	step("the CA rotated: alice's is no longer signed by it", c.good, true)
	setCA(c.ca.certPEM())
	with := maps.Clone(base)
	with["nginx.ingress.kubernetes.io/auth-tls-verify-client"] = "optional"
	setAnnotations(with)
	step("optional: no certificate", nil, false)
	step("optional: a foreign certificate", c.foreign, true)
	setCA([]byte("not a certificate"))
	step("the CA broken: no https for shop", c.good, true)
	res := e.Output().Result()
	if fc := sniChain(res, "shop.example.com"); fc != nil {
		t.Fatalf("a broken CA left shop.example.com chain %s", fc.GetName())
	}
	setCA(c.ca.certPEM())
	step("the CA mended", c.good, false)
	setAnnotations(nil)
	step("the annotation removed: anyone", nil, false)
	for _, s := range e.Output().Result().Secrets {
		if s.GetName() == envoy.CASecretName("default", "client-ca") {
			t.Fatal("the CA secret is still sent after the check went")
		}
	}
}

// TestCASecret: what a CA Secret must hold for its hosts to be served:
// ca.crt with PEM certificates (text between them is skipped, as Envoy
// does), and a ca.crl, when present, of PEM revocation lists.
func TestCASecret(t *testing.T) {
	c := newClients(t)
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)}, c.ca.cert, c.ca.key)
	if err != nil {
		t.Fatal(err)
	}
	crl := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER})
	bundle := append(append([]byte("# client CA\n"), c.ca.certPEM()...), c.intermediate.certPEM()...)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	junkCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")})
	for _, tc := range []struct {
		name   string
		data   map[string][]byte
		reason Reason
	}{
		{"a bundle with a comment", map[string][]byte{caCertKey: bundle}, ""},
		{"with a CRL", map[string][]byte{caCertKey: c.ca.certPEM(), caCRLKey: crl}, ""},
		{"no ca.crt", map[string][]byte{"tls.crt": c.ca.certPEM()}, SecretInvalid},
		{"not PEM", map[string][]byte{caCertKey: []byte("not a certificate")}, SecretInvalid},
		{"a key in ca.crt", map[string][]byte{caCertKey: append(c.ca.certPEM(), keyPEM...)}, SecretInvalid},
		{"a certificate that does not parse", map[string][]byte{caCertKey: junkCert}, SecretInvalid},
		{"a CRL that is a certificate", map[string][]byte{caCertKey: c.ca.certPEM(), caCRLKey: c.ca.certPEM()}, SecretInvalid},
	} {
		s := &corev1.Secret{Data: tc.data}
		secret, reason, err := caSecret(s, "default", "ca")
		if reason != tc.reason || (err == nil) != (tc.reason == "") {
			t.Errorf("%s: reason %q, %v; want %q", tc.name, reason, err, tc.reason)
			continue
		}
		if err == nil {
			v := secret.GetValidationContext()
			if secret.GetName() != "default/ca/ca" || !bytes.Equal(v.GetTrustedCa().GetInlineBytes(), tc.data[caCertKey]) || !bytes.Equal(v.GetCrl().GetInlineBytes(), tc.data[caCRLKey]) {
				t.Errorf("%s: secret %v", tc.name, secret)
			}
		}
	}
	if _, reason, _ := caSecret(nil, "default", "ca"); reason != SecretNotFound {
		t.Errorf("a missing Secret: %q, want SecretNotFound", reason)
	}
}

package translator

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestCheckEnvoyKey: the key types Envoy loads pass, the ones Go accepts
// and Envoy refuses fail with a message naming the type and size.
func TestCheckEnvoyKey(t *testing.T) {
	rsaKey := func(bits int) crypto.Signer {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ecKey := func(c elliptic.Curve) crypto.Signer {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		key  crypto.Signer
		want string // "" when Envoy loads it
	}{
		{"RSA-2048", rsaKey(2048), ""},
		{"RSA-3072", rsaKey(3072), ""},
		{"RSA-1024", rsaKey(1024), "RSA with 1024 bits"},
		{"P-256", ecKey(elliptic.P256()), ""},
		{"P-384", ecKey(elliptic.P384()), ""},
		{"P-521", ecKey(elliptic.P521()), ""},
		{"P-224", ecKey(elliptic.P224()), "ECDSA on curve P-224"},
		{"Ed25519", edKey, "Ed25519"},
	} {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0), DNSNames: []string{"a.example.com"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, c.key.Public(), c.key)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err = checkEnvoyKey(der)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error = %v, want one saying %q", c.name, err, c.want)
		}
	}
}

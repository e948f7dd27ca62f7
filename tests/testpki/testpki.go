// Package testpki mints throwaway CAs and leaf certificates for tests of
// fairway's mTLS with the pki package certgen uses, so that tests present
// certificates of the same make as the install's: SPIFFE URI SANs for
// client identities, DNS and IP SANs for serving certificates.
package testpki

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fairwayhq/fairway/pki"
)

// validity is a test certificate's lifetime: long enough for any test.
const validity = 24 * time.Hour

// CA is a self-signed certificate authority.
type CA struct{ *pki.KeyPair }

// Leaf describes a certificate to issue. One with DNS names or IPs is a
// serving certificate; one without, a client certificate.
type Leaf struct {
	CommonName string
	URIs       []string
	DNSNames   []string
	IPs        []net.IP
}

// NewCA creates a CA valid for a day.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	ca, err := pki.NewCA(name, validity, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &CA{ca}
}

// Issue signs a leaf, and returns its certificate and key in PEM.
func (ca *CA) Issue(t testing.TB, l Leaf) (certPEM, keyPEM []byte) {
	t.Helper()
	usage := pki.ClientAuth
	if len(l.DNSNames) > 0 || len(l.IPs) > 0 {
		usage = pki.ServerAuth
	}
	kp, err := ca.KeyPair.Issue(pki.Leaf{CommonName: l.CommonName, DNSNames: l.DNSNames, IPs: l.IPs, URIs: l.URIs, Usage: usage}, validity, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return kp.CertPEM, kp.KeyPEM
}

// WriteLeaf issues a leaf and writes dir/name.crt and dir/name.key.
func (ca *CA) WriteLeaf(t testing.TB, dir, name string, l Leaf) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM := ca.Issue(t, l)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	WriteFile(t, certFile, certPEM)
	WriteFile(t, keyFile, keyPEM)
	return certFile, keyFile
}

// WriteCA writes the CA's certificate to path.
func (ca *CA) WriteCA(t testing.TB, path string) string {
	t.Helper()
	WriteFile(t, path, ca.CertPEM)
	return path
}

// WriteFile writes data to path, failing the test on error.
func WriteFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

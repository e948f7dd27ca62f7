package xds

import (
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"testing"

	"github.com/fairwayhq/fairway/tests/testpki"
)

// handshake runs one TLS handshake against srv with a client key pair and
// returns the server side's verdict.
func handshake(t *testing.T, srv *tls.Config, serverCA *x509.CertPool, client tls.Certificate) error {
	t.Helper()
	lis, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	result := make(chan error, 1)
	go func() {
		conn, err := lis.Accept()
		if err != nil {
			result <- err
			return
		}
		defer conn.Close()
		result <- conn.(*tls.Conn).Handshake()
	}()
	conn, err := tls.Dial("tcp", lis.Addr().String(), &tls.Config{
		RootCAs: serverCA, ServerName: "fairway", Certificates: []tls.Certificate{client}, NextProtos: []string{"h2"},
	})
	if err == nil {
		conn.Close()
	}
	return <-result
}

// TestServerTLSReloadsTheClientCA: a rotated client CA file takes effect
// at the next handshake, and a file that cannot be read as PEM keeps the
// previous CA rather than lock every client out.
func TestServerTLSReloadsTheClientCA(t *testing.T) {
	dir := t.TempDir()
	serving := testpki.NewCA(t, "serving")
	certFile, keyFile := serving.WriteLeaf(t, dir, "server", testpki.Leaf{DNSNames: []string{"fairway"}})
	oldCA, newCA := testpki.NewCA(t, "old"), testpki.NewCA(t, "new")
	caFile := oldCA.WriteCA(t, filepath.Join(dir, "ca.crt"))
	cfg, err := ServerTLS(certFile, keyFile, caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(serving.Cert)
	client := func(ca *testpki.CA) tls.Certificate {
		c, k := ca.Issue(t, testpki.Leaf{URIs: []string{"spiffe://fairway/fleet"}})
		pair, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return pair
	}
	oldClient, newClient := client(oldCA), client(newCA)

	if err := handshake(t, cfg, roots, oldClient); err != nil {
		t.Fatalf("client of the first CA: %v", err)
	}
	if err := handshake(t, cfg, roots, newClient); err == nil {
		t.Fatal("a client of a CA not yet trusted was accepted")
	}
	newCA.WriteCA(t, caFile)
	if err := handshake(t, cfg, roots, newClient); err != nil {
		t.Fatalf("client of the rotated CA: %v", err)
	}
	if err := handshake(t, cfg, roots, oldClient); err == nil {
		t.Fatal("a client of the retired CA was still accepted")
	}
	testpki.WriteFile(t, caFile, []byte("half written"))
	if err := handshake(t, cfg, roots, newClient); err != nil {
		t.Fatalf("a broken CA file must keep the last good CA: %v", err)
	}
}

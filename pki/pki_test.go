package pki

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const year = 365 * 24 * time.Hour

func newCA(t *testing.T) *KeyPair {
	t.Helper()
	ca, err := NewCA("fairway-ca", 10*year, t0)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func issue(t *testing.T, ca *KeyPair, l Leaf, validity time.Duration, now time.Time) *KeyPair {
	t.Helper()
	leaf, err := ca.Issue(l, validity, now)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// TestIssuedCertificatesSayWhatTheContractSays: the server certificate
// names every DNS form of the Service and the control plane's SPIFFE ID,
// client certificates carry only their identity, and each is for its own
// side of the handshake and chains to the CA.
func TestIssuedCertificatesSayWhatTheContractSays(t *testing.T) {
	ca := newCA(t)
	if !ca.Cert.IsCA || ca.Cert.MaxPathLen != 0 || !ca.Cert.MaxPathLenZero {
		t.Errorf("CA: IsCA %v MaxPathLen %d", ca.Cert.IsCA, ca.Cert.MaxPathLen)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	srv := issue(t, ca, ServerLeaf("example.org", "fairway", "fairway-system"), year, t0)
	want := []string{"fairway", "fairway.fairway-system", "fairway.fairway-system.svc", "fairway.fairway-system.svc.cluster.local"}
	if strings.Join(srv.Cert.DNSNames, ",") != strings.Join(want, ",") {
		t.Errorf("server DNS names %v, want %v", srv.Cert.DNSNames, want)
	}
	if len(srv.Cert.URIs) != 1 || srv.Cert.URIs[0].String() != "spiffe://example.org/control-plane" {
		t.Errorf("server URIs %v", srv.Cert.URIs)
	}
	for _, name := range want {
		if _, err := srv.Cert.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: t0}); err != nil {
			t.Errorf("server certificate for %s: %v", name, err)
		}
	}
	for id, l := range map[string]Leaf{
		"spiffe://example.org/fleet":          FleetLeaf("example.org"),
		"spiffe://example.org/proxyless/shop": ProxylessLeaf("example.org", "shop"),
	} {
		c := issue(t, ca, l, year, t0).Cert
		if len(c.URIs) != 1 || c.URIs[0].String() != id || len(c.DNSNames) != 0 {
			t.Errorf("%s: URIs %v DNS %v", id, c.URIs, c.DNSNames)
		}
		opts := x509.VerifyOptions{Roots: roots, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		if _, err := c.Verify(opts); err != nil {
			t.Errorf("%s as a client: %v", id, err)
		}
		opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		if _, err := c.Verify(opts); err == nil {
			t.Errorf("%s verifies as a server certificate", id)
		}
	}
}

// TestLeafNeverOutlivesCA: a leaf asked for past the CA's end ends with it.
func TestLeafNeverOutlivesCA(t *testing.T) {
	ca, err := NewCA("short", 30*24*time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	leaf := issue(t, ca, FleetLeaf("fairway"), year, t0)
	if !leaf.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("leaf ends %v, CA ends %v", leaf.Cert.NotAfter, ca.Cert.NotAfter)
	}
}

// TestParseKeyPairRoundTrip: what is written can be read back, and a key
// that is not the certificate's is refused.
func TestParseKeyPairRoundTrip(t *testing.T) {
	ca := newCA(t)
	leaf := issue(t, ca, FleetLeaf("fairway"), year, t0)
	back, err := ParseKeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Cert.Equal(leaf.Cert) || !back.Key.Equal(leaf.Key) {
		t.Error("the parsed pair differs from the issued one")
	}
	if _, err := ParseKeyPair(leaf.CertPEM, ca.KeyPEM); err == nil {
		t.Error("a certificate with another's key was accepted")
	}
}

// TestLeafProblem: each reason to re-issue is found, and a good leaf has
// none.
func TestLeafProblem(t *testing.T) {
	ca, other := newCA(t), newCA(t)
	l := ServerLeaf("fairway", "fairway", "fairway-system")
	const renew = 30 * 24 * time.Hour
	good := issue(t, ca, l, year, t0)
	for _, c := range []struct {
		name string
		leaf *KeyPair
		spec Leaf
		now  time.Time
		want string
	}{
		{"good", good, l, t0.Add(time.Hour), ""},
		{"good until the window", good, l, t0.Add(year - renew - time.Hour), ""},
		{"inside the window", good, l, t0.Add(year - renew + time.Hour), "renewal window"},
		{"expired", good, l, t0.Add(year + time.Hour), "expired"},
		{"another CA's", issue(t, other, l, year, t0), l, t0, "not signed by the current CA"},
		{"missing a DNS name", issue(t, ca, Leaf{DNSNames: l.DNSNames[:3], URIs: l.URIs}, year, t0), l, t0, "DNS names"},
		{"another trust domain", good, ServerLeaf("example.org", "fairway", "fairway-system"), t0, "URI names"},
		{"client where a server belongs", issue(t, ca, Leaf{DNSNames: l.DNSNames, URIs: l.URIs, Usage: ClientAuth}, year, t0), l, t0, "key usage"},
		{"from the future", issue(t, ca, l, year, t0.Add(time.Hour)), l, t0, "not valid until"},
	} {
		got := LeafProblem(c.leaf, ca.Cert, c.spec, c.now, renew)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: problem %q, want one with %q", c.name, got, c.want)
		}
	}
}

// TestCAProblem: a CA is replaced once it expires or enters the renewal
// window, and a leaf cannot stand in for a CA.
func TestCAProblem(t *testing.T) {
	ca := newCA(t)
	const renew = 30 * 24 * time.Hour
	if p := CAProblem(ca, t0.Add(year), renew); p != "" {
		t.Errorf("a young CA: %s", p)
	}
	if p := CAProblem(ca, t0.Add(10*year-renew+time.Hour), renew); !strings.Contains(p, "renewal window") {
		t.Errorf("a CA about to expire: %q", p)
	}
	if p := CAProblem(issue(t, ca, FleetLeaf("fairway"), year, t0), t0, renew); !strings.Contains(p, "not a CA") {
		t.Errorf("a leaf as the CA: %q", p)
	}
}

// TestIssuedPairsDoMutualTLS: the server and fleet pairs complete a real
// mutual TLS handshake against the CA, and the server sees the fleet's
// SPIFFE ID in the verified peer certificate.
func TestIssuedPairsDoMutualTLS(t *testing.T) {
	ca := newCA(t)
	now := time.Now()
	srv := issue(t, ca, ServerLeaf("fairway", "fairway", "fairway-system"), year, now)
	cli := issue(t, ca, FleetLeaf("fairway"), year, now)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	pair := func(k *KeyPair) tls.Certificate {
		c, err := tls.X509KeyPair(k.CertPEM, k.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := net.Pipe()
	server := tls.Server(a, &tls.Config{Certificates: []tls.Certificate{pair(srv)}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	client := tls.Client(b, &tls.Config{Certificates: []tls.Certificate{pair(cli)}, RootCAs: pool, ServerName: "fairway.fairway-system.svc"})
	done := make(chan error, 1)
	go func() {
		err := server.Handshake()
		if err == nil {
			st := server.ConnectionState()
			if got := st.PeerCertificates[0].URIs[0].String(); got != FleetID("fairway") {
				t.Errorf("peer identity %s", got)
			}
		}
		_, _ = io.Copy(io.Discard, server)
		done <- err
	}()
	if err := client.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	client.Close()
	if err := <-done; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
}

func TestCheckTrustDomain(t *testing.T) {
	for td, ok := range map[string]bool{"fairway": true, "prod.example.org": true, "": false, "Prod": false, "a/b": false, "a b": false} {
		if err := CheckTrustDomain(td); (err == nil) != ok {
			t.Errorf("%q: %v", td, err)
		}
	}
}

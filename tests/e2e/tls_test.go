package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestIngressTLS connects to Envoy's https listener with the server name
// (SNI) of the Ingress's TLS host: Envoy must present the Secret's
// certificate, delivered over SDS, and route the request by the same rules
// as plain HTTP. Other server names match no filter chain, and hosts
// without a certificate are not in the https route table.
func TestIngressTLS(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	block, _ := pem.Decode(s.fx.certPEM)
	want, err := x509.ParseCertificate(block.Bytes)
	mustOK(t, err)
	secure := s.httpsClient(secureHost)

	got := s.do(secure, s.httpsBase(), secureHost, "/x")
	wantBackend(t, got, "secure", secureHost, "/x")
	if got.tls == nil || len(got.tls.PeerCertificates) == 0 {
		t.Fatal("no TLS connection state on the https response")
	}
	if peer := got.tls.PeerCertificates[0]; !bytes.Equal(peer.Raw, want.Raw) {
		t.Errorf("envoy presented %q (serial %v), want the Secret's certificate (serial %v)",
			peer.Subject, peer.SerialNumber, want.SerialNumber)
	}
	// The listener offers h2 and http/1.1 by ALPN.
	if got.tls.NegotiatedProtocol != "h2" || got.proto != "HTTP/2.0" {
		t.Errorf("ALPN %q, protocol %s; want h2", got.tls.NegotiatedProtocol, got.proto)
	}

	t.Run("route table", func(t *testing.T) {
		// A connection whose SNI picked the secure host's chain answers
		// only for that host: any other Host, one without a certificate or
		// one that only the catch-all's rules serve, gets 421 Misdirected
		// Request (the client retries on a connection of its own), never
		// another host's routes.
		wantEnvoyStatus(t, s.do(secure, s.httpsBase(), "other.test", "/shared"), http.StatusMisdirectedRequest, "other.test", "/shared")
		wantEnvoyStatus(t, s.do(secure, s.httpsBase(), exactHost, "/"), http.StatusMisdirectedRequest, exactHost, "/")
	})
	t.Run("other server names", func(t *testing.T) {
		// Verification is off: a handshake that completes with any
		// certificate at all would mean a filter chain matched.
		for _, name := range []string{exactHost, "other.test"} {
			dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second},
				Config: &tls.Config{ServerName: name, InsecureSkipVerify: true}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, err := dialer.DialContext(ctx, "tcp", strings.TrimPrefix(s.httpsBase(), "https://"))
			cancel()
			if err == nil {
				peer := c.(*tls.Conn).ConnectionState().PeerCertificates
				c.Close()
				t.Errorf("SNI %s: handshake completed (%d certificates), want it refused: no filter chain serves that name", name, len(peer))
			}
		}
	})
	t.Run("plain HTTP too", func(t *testing.T) {
		// fairway does not redirect HTTP to HTTPS.
		wantBackend(t, s.get(secureHost, "/x"), "secure", secureHost, "/x")
	})
}

package tests

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
)

// stallProxy is an HTTPS proxy in front of the API server that can stall
// one client: once stalled, every new request but a watch is held, the way
// a slow or partitioned API server holds a request already on the wire.
// Released, the held requests go on to the API server even if their
// client has given up on them, as bytes already sent would: that is the
// late write a former leader must never land.
type stallProxy struct {
	srv      *httptest.Server
	upstream *http.Transport
	target   *url.URL

	mu      sync.Mutex
	stalled bool
	release chan struct{}
	held    []*heldRequest
}

// heldRequest is one request the proxy held, and what the API server
// answered once it was released (0 until then).
type heldRequest struct {
	method, path string
	code         int
}

func newStallProxy(t *testing.T, cfg *rest.Config) *stallProxy {
	t.Helper()
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	p := &stallProxy{
		target:   target,
		upstream: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true},
		release:  make(chan struct{}),
	}
	rp := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:     p.upstream,
		FlushInterval: -1, // watches stream
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := p.hold(r); h != nil {
			p.forwardLate(w, r, h)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	p.srv.EnableHTTP2 = true
	p.srv.StartTLS()
	t.Cleanup(func() { p.unstall(); p.srv.Close() })
	return p
}

// kubeconfig reaches the API server through the proxy, as cfg's user.
func (p *stallProxy) kubeconfig(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "proxy-ca.crt")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
	if err := os.WriteFile(ca, block, 0o600); err != nil {
		t.Fatal(err)
	}
	through := rest.CopyConfig(cfg)
	through.CAFile = ca
	return kubeconfigFor(t, through, p.srv.URL)
}

func (p *stallProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
}

// unstall lets new requests through and sends the held ones on.
func (p *stallProxy) unstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled {
		p.stalled = false
		close(p.release)
	}
}

// hold registers r as held when the proxy is stalled (watches excepted).
func (p *stallProxy) hold(r *http.Request) *heldRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stalled || r.URL.Query().Get("watch") == "true" {
		return nil
	}
	h := &heldRequest{method: r.Method, path: r.URL.Path}
	p.held = append(p.held, h)
	return h
}

// heldRequests is a copy of what was held so far.
func (p *stallProxy) heldRequests() []heldRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]heldRequest, 0, len(p.held))
	for _, h := range p.held {
		out = append(out, *h)
	}
	return out
}

// forwardLate waits for the release, then sends the request on whether or
// not its client is still waiting, with the body it sent before.
func (p *stallProxy) forwardLate(w http.ResponseWriter, r *http.Request, h *heldRequest) {
	body, _ := io.ReadAll(r.Body)
	<-p.release
	u := *p.target
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	out, err := http.NewRequestWithContext(context.Background(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	for k, v := range r.Header {
		if !strings.EqualFold(k, "Connection") {
			out.Header[k] = v
		}
	}
	resp, err := p.upstream.RoundTrip(out)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	p.mu.Lock()
	h.code = resp.StatusCode
	p.mu.Unlock()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

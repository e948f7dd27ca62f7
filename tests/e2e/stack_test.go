package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// stack is one test's world: real backends, a fairway serving manifests
// that describe them, and an Envoy fed by that fairway. Each test has its
// own, so tests can run in parallel and never see each other's edits.
type stack struct {
	t       *testing.T
	fx      *fixture
	dir     string // the manifests fairway watches
	tcpEcho *tcpEcho
	fairway *fairwayProc
	envoy   *envoyProc
	// envoyListeners are the bootstrap's health and stats listeners.
	envoyListeners envoyListeners
	client         *http.Client // plain HTTP to Envoy's http listener
}

// stackOptions vary the fixtures per test.
type stackOptions struct {
	extra        map[string]string // more manifest files, by name
	wantProblems []string          // the Problem reasons the extra files cause, sorted
}

// newFixture starts the backends and picks the ports and certificate the
// manifests describe. It needs no Envoy.
func newFixture(t *testing.T) (*fixture, *tcpEcho) {
	t.Helper()
	ports := freePorts(t, 3)
	certPEM, keyPEM := selfSigned(t, secureHost, secureHost2)
	echo := startTCPEcho(t)
	return &fixture{
		httpPort: ports[0], httpsPort: ports[1], lbPort: ports[2],
		backends:   startHTTPBackends(t, httpBackendNames),
		tcpBackend: echo.port(),
		certPEM:    certPEM, keyPEM: keyPEM,
	}, echo
}

// newStack starts everything and returns once Envoy runs exactly what
// fairway publishes. It skips the test when there is no Envoy, before
// starting anything.
func newStack(t *testing.T, opts stackOptions) *stack {
	t.Helper()
	bin := requireEnvoy(t)
	fx, echo := newFixture(t)
	files := fx.manifests()
	maps.Copy(files, opts.extra)
	s := &stack{t: t, fx: fx, dir: writeManifestDir(t, files), tcpEcho: echo}
	s.fairway = startFairway(t, s.dir, fx)
	p, err := s.fairway.published()
	mustOK(t, err)
	reasons := make([]string, 0, len(p.Problems))
	for _, pr := range p.Problems {
		reasons = append(reasons, pr.Reason)
	}
	slices.Sort(reasons)
	if !slices.Equal(reasons, opts.wantProblems) {
		t.Fatalf("fairway's Problems are %v, want %v:%s", reasons, opts.wantProblems, describeProblems(p.Problems))
	}
	admin := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePorts(t, 1)[0]))
	bootstrap, listeners := writeBootstrap(t, s.fairway.XDS, admin)
	s.envoy = startEnvoy(t, bin, bootstrap, admin)
	s.envoyListeners = listeners
	s.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	s.waitSynced(envoyReadyTimeout)
	s.waitListening(envoyReadyTimeout)
	return s
}

// waitSynced polls until Envoy's config_dump and fairway's ACK record match
// what fairway publishes (see syncGap), failing after d with the last gap.
func (s *stack) waitSynced(d time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		gap, err := s.syncGap()
		if err != nil {
			s.t.Fatal(err)
		}
		if gap == "" {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("envoy not in sync with fairway within %v: %s", d, gap)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncGap reads fairway first, so a publication between the two reads shows
// as a gap and is waited out, never mistaken for sync with an old version.
func (s *stack) syncGap() (string, error) {
	if err := s.envoy.exitErr(); err != nil {
		return "", err
	}
	p, err := s.fairway.published()
	if err != nil {
		return "", err
	}
	streams, err := s.fairway.streams()
	if err != nil {
		return "", err
	}
	d, err := s.envoy.configDump()
	if err != nil {
		return "envoy admin: " + err.Error(), nil // not up yet
	}
	return syncGap(p, d, streams, envoyNodeID)
}

// waitListening dials every listener fairway publishes until it accepts.
// A listener Envoy reports active may not be accepting on every worker
// for a moment; the first request of a test should not race that.
func (s *stack) waitListening(d time.Duration) {
	s.t.Helper()
	for _, port := range []int{s.fx.httpPort, s.fx.httpsPort, s.fx.lbPort} {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		deadline := time.Now().Add(d)
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				_ = c.Close()
				break
			}
			if time.Now().After(deadline) {
				s.t.Fatalf("envoy does not accept on %s within %v: %v", addr, d, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// edit replaces one manifest file and waits until fairway has published
// the change and Envoy runs it. It returns the versions before and after.
func (s *stack) edit(name, content string) (before, after *published) {
	s.t.Helper()
	before, err := s.fairway.published()
	mustOK(s.t, err)
	writeFile(s.t, filepath.Join(s.dir, name), content)
	after = s.fairway.waitPublished(s.t, before, changeTimeout)
	if len(after.Problems) > 0 {
		s.t.Fatalf("the edit of %s caused Problems:%s", name, describeProblems(after.Problems))
	}
	s.waitSynced(changeTimeout)
	after, err = s.fairway.published()
	mustOK(s.t, err)
	return before, after
}

// response is one answer through Envoy: the status, the backend that
// answered (empty when Envoy answered itself) and what it saw.
type response struct {
	status int
	server string // the Server header: "envoy" on Envoy's own answers
	proto  string
	tls    *tls.ConnectionState // over https: the handshake Envoy made
	echo
}

// get sends GET path with this Host header to Envoy's http listener.
func (s *stack) get(host, path string) response {
	s.t.Helper()
	return s.do(s.client, "http://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(s.fx.httpPort)), host, path)
}

// getEventually repeats get until the backend answers, for up to
// changeTimeout, and returns the last response.
func (s *stack) getEventually(host, path, backend string) response {
	s.t.Helper()
	deadline := time.Now().Add(changeTimeout)
	for {
		r := s.get(host, path)
		if r.Backend == backend || time.Now().After(deadline) {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *stack) do(c *http.Client, base, host, path string) response {
	s.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, base+path, nil)
	mustOK(s.t, err)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s%s (Host %s): %v", base, path, host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	mustOK(s.t, err)
	r := response{status: resp.StatusCode, server: resp.Header.Get("Server"), proto: resp.Proto, tls: resp.TLS}
	if resp.Header.Get(backendHeader) != "" {
		if err := json.Unmarshal(body, &r.echo); err != nil {
			s.t.Fatalf("GET %s (Host %s): backend answer %q: %v", path, host, body, err)
		}
	}
	return r
}

// httpsClient speaks TLS to Envoy's https listener with this server name
// (SNI), trusting only the fixture's certificate, and offers HTTP/2 as a
// browser does. Every request makes a new connection, so each handshake is
// the one its response reports.
func (s *stack) httpsClient(serverName string) *http.Client {
	s.t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(s.fx.certPEM) {
		s.t.Fatal("the fixture certificate does not parse")
	}
	cfg := &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: cfg, ForceAttemptHTTP2: true, DisableKeepAlives: true,
	}}
}

// httpsBase is the URL prefix of Envoy's https listener.
func (s *stack) httpsBase() string {
	return "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.fx.httpsPort))
}

// lbAddr is Envoy's LoadBalancer listener for the TCP echo Service.
func (s *stack) lbAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.fx.lbPort))
}

// wantBackend checks that a response came from the named backend, which saw
// the Host and path as sent.
func wantBackend(t *testing.T, r response, backend, host, path string) {
	t.Helper()
	if r.status != http.StatusOK || r.Backend != backend {
		t.Errorf("Host %s GET %s: %d from %q, want 200 from %q", host, path, r.status, r.Backend, backend)
		return
	}
	if r.Host != host || r.Path != path {
		t.Errorf("Host %s GET %s: backend %s saw Host %q path %q, want them unchanged", host, path, backend, r.Host, r.Path)
	}
}

// wantEnvoyStatus checks that Envoy itself answered with this status.
func wantEnvoyStatus(t *testing.T, r response, status int, host, path string) {
	t.Helper()
	if r.status != status || r.Backend != "" {
		t.Errorf("Host %s GET %s: %d from %q, want %d from Envoy itself", host, path, r.status, r.Backend, status)
	}
	if r.server != "envoy" {
		t.Errorf("Host %s GET %s: Server header %q, want envoy", host, path, r.server)
	}
}

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fairwayhq/fairway/tests/serveproc"
)

// The bounds of the waits. Generous, since CI machines are slow and Envoy
// starts its workers and warms clusters before it serves, but bounded, so a
// broken setup fails with a reason instead of hanging the run.
const (
	fairwayStartTimeout = 15 * time.Second
	envoyReadyTimeout   = 20 * time.Second
	changeTimeout       = 10 * time.Second
)

// envoyNodeID is the node id of every test Envoy; each test has its own
// fairway, so the id need not differ.
const envoyNodeID = "e2e-envoy"

// lockedBuffer collects a child's output while it runs, for the failure log.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) line(s string) { _, _ = b.Write([]byte(s + "\n")) }

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fairwayProc is a running `fairway serve --manifests`.
type fairwayProc struct {
	*serveproc.Process
	logs *lockedBuffer
}

// startFairway serves dir with the fixture's Ingress ports, so an Envoy run
// by an unprivileged user can bind its listeners, all on loopback, so the
// test opens no port to the network. Its logs are printed if the test
// fails.
func startFairway(t *testing.T, dir string, fx *fixture) *fairwayProc {
	t.Helper()
	logs := &lockedBuffer{}
	args := []string{"--manifests", dir, "--log-level", "debug", "--listen-address", "127.0.0.1",
		"--http-port", strconv.Itoa(fx.httpPort), "--https-port", strconv.Itoa(fx.httpsPort)}
	p, err := serveproc.Start(fairwayBin, args, fairwayStartTimeout, logs.line)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	f := &fairwayProc{Process: p, logs: logs}
	t.Cleanup(func() {
		if _, err := p.Stop(10 * time.Second); err != nil {
			t.Errorf("fairway exited with %v", err)
		}
		if t.Failed() {
			t.Logf("fairway logs:\n%s", logs)
		}
	})
	return f
}

// adminClient bounds every request to an admin endpoint, so a wedged
// process fails the poll instead of hanging it. Its transport has no proxy
// and keeps no idle connections to processes that end with their test.
var adminClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// getJSON decodes an admin endpoint's 200 answer into v.
func getJSON(url string, v any) error {
	resp, err := adminClient.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %v", url, err)
	}
	return nil
}

// published is fairway's /debug/snapshot.
func (f *fairwayProc) published() (*published, error) {
	var p published
	return &p, getJSON("http://"+f.Admin+"/debug/snapshot", &p)
}

// waitPublished waits until fairway publishes Envoy versions other than
// before's: a file change has been translated and published.
func (f *fairwayProc) waitPublished(t *testing.T, before *published, d time.Duration) *published {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		after, err := f.published()
		mustOK(t, err)
		if !maps.Equal(after.Versions["envoy"], before.Versions["envoy"]) {
			return after
		}
		if time.Now().After(deadline) {
			t.Fatalf("fairway published nothing new within %v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// streams is fairway's /debug/nodes.
func (f *fairwayProc) streams() ([]stream, error) {
	var s []stream
	return s, getJSON("http://"+f.Admin+"/debug/nodes", &s)
}

// envoyListeners are a test Envoy's health and stats listeners, on free
// loopback ports, so that Envoys of parallel tests do not collide on the
// fleet's defaults.
type envoyListeners struct{ health, stats string }

// writeBootstrap has fairway write the Envoy bootstrap a fleet member
// would get, pointed at this fairway, and returns the file's path and the
// health and stats listeners' addresses.
func writeBootstrap(t *testing.T, xdsAddr, adminAddr string) (string, envoyListeners) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "envoy.yaml")
	ports := freePorts(t, 2)
	l := envoyListeners{
		health: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		stats:  net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
	}
	cmd := exec.Command(fairwayBin, "bootstrap", "--xds-address", xdsAddr, "--node-id", envoyNodeID,
		"--admin-address", adminAddr, "--health-address", l.health, "--stats-address", l.stats, "--out-file", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fairway bootstrap: %v\n%s", err, out)
	}
	return path, l
}

// envoyProc is a running Envoy.
type envoyProc struct {
	cmd    *exec.Cmd
	admin  string
	stderr *lockedBuffer
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

// startEnvoy runs Envoy with the bootstrap. --disable-hot-restart: a test
// Envoy is never hot restarted, so it needs no shared memory or domain
// socket, and leaves none behind when killed; --use-dynamic-base-id keeps
// parallel Envoys apart should a build keep hot restart on regardless.
// Two workers are plenty for a few requests on any CI machine. Envoy's
// output is printed if the test fails; it is stopped with the test.
func startEnvoy(t *testing.T, bin, bootstrap, admin string) *envoyProc {
	t.Helper()
	e := &envoyProc{admin: admin, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	e.cmd = exec.Command(bin, "-c", bootstrap, "--use-dynamic-base-id", "--disable-hot-restart",
		"--log-level", "warn", "--concurrency", "2")
	e.cmd.Stdout, e.cmd.Stderr = e.stderr, e.stderr
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("starting envoy: %v", err)
	}
	go func() {
		e.err = e.cmd.Wait()
		close(e.exited)
	}()
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			t.Logf("envoy output:\n%s", e.stderr)
		}
	})
	return e
}

// stop asks Envoy to exit (SIGTERM) and kills it after 5 s.
func (e *envoyProc) stop() {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
}

// exitErr is non-nil once Envoy has exited, saying how.
func (e *envoyProc) exitErr() error {
	select {
	case <-e.exited:
		return fmt.Errorf("envoy exited: %v", e.err)
	default:
		return nil
	}
}

// configDump is Envoy's /config_dump.
func (e *envoyProc) configDump() (*envoyDump, error) {
	resp, err := adminClient.Get("http://" + e.admin + "/config_dump")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("config_dump: %s: %s", resp.Status, body)
	}
	return decodeConfigDump(body)
}

// writeManifestDir writes the files into a fresh directory for fairway.
func writeManifestDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeManifests(t, dir, files)
	return dir
}

// describeProblems prints Problems one a line, as `translate` does.
func describeProblems(ps []problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\n  %s %s/%s: %s: %s", p.Kind, p.Namespace, p.Name, p.Reason, p.Message)
	}
	return b.String()
}

// mustOK fails the test on a setup error that no test can recover from.
func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

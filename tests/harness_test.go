// Package tests holds black-box tests across packages: a real fairway serve
// process driven by real xDS clients.
package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fairwayhq/fairway/tests/serveproc"
)

// fairwayBin is the fairway binary built for this test run.
var fairwayBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fairway-tests")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if fairwayBin, err = serveproc.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	stopControlPlane, err := startControlPlane(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting kube-apiserver and etcd:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	stopControlPlane()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fairway is a running `fairway serve`.
type fairway struct {
	t *testing.T
	*serveproc.Process
	xds, admin string
	logs       *lockedBuffer
	killed     bool
}

type lockedBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *lockedBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// startFairway runs serve on loopback ports chosen by the kernel, and
// waits until both servers are up. Its logs are printed if the test fails.
func startFairway(t *testing.T, manifests string, extra ...string) *fairway {
	t.Helper()
	return startFairwayArgs(t, append([]string{"--manifests", manifests}, extra...)...)
}

// startFairwayArgs runs serve with exactly these flags (plus debug logs).
func startFairwayArgs(t *testing.T, args ...string) *fairway {
	t.Helper()
	return startFairwayWithin(t, 15*time.Second, args...)
}

// startFairwayWithin is startFairwayArgs for a start that may take longer
// than usual (a cluster of tens of thousands of objects to list).
func startFairwayWithin(t *testing.T, wait time.Duration, args ...string) *fairway {
	t.Helper()
	return startFairwayBin(t, fairwayBin, wait, args...)
}

// startFairwayBin is startFairwayWithin with another build of fairway.
func startFairwayBin(t *testing.T, bin string, wait time.Duration, args ...string) *fairway {
	t.Helper()
	logs := &lockedBuffer{}
	args = append([]string{"--log-level", "debug"}, args...)
	p, err := serveproc.Start(bin, args, wait, logs.add)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	f := &fairway{t: t, Process: p, xds: p.XDS, admin: p.Admin, logs: logs}
	t.Cleanup(func() {
		f.stop()
		if t.Failed() {
			t.Logf("fairway logs:\n%s", f.logs)
		}
	})
	return f
}

// stop sends SIGTERM and waits for the exit; it returns how long that took.
func (f *fairway) stop() time.Duration {
	took, err := f.Stop(15 * time.Second)
	if err != nil && !f.killed {
		f.t.Errorf("fairway exited with %v", err)
	}
	return took
}

// kill ends fairway at once, as a crash or a lost node would.
func (f *fairway) kill() {
	f.killed = true
	_ = f.Cmd.Process.Kill()
	_, _ = f.Stop(5 * time.Second)
}

// get fetches an admin path.
func (f *fairway) get(path string) (int, string) {
	f.t.Helper()
	resp, err := http.Get("http://" + f.admin + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// debugSnapshot is the part of /debug/snapshot the tests read.
type debugSnapshot struct {
	Versions map[string]map[string]string `json:"versions"`
	Problems []struct {
		Kind, Name, Reason, Message string
	} `json:"problems"`
}

func (f *fairway) snapshot() debugSnapshot {
	f.t.Helper()
	code, body := f.get("/debug/snapshot")
	if code != http.StatusOK {
		f.t.Fatalf("/debug/snapshot: %d %s", code, body)
	}
	var s debugSnapshot
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		f.t.Fatal(err)
	}
	return s
}

// streamInfo is one entry of /debug/nodes.
type streamInfo struct {
	NodeID    string            `json:"node_id"`
	UserAgent string            `json:"user_agent"`
	Group     string            `json:"group"`
	Identity  string            `json:"identity"`
	Stream    string            `json:"stream"`
	Type      string            `json:"type"`
	Acked     map[string]string `json:"acked"`
	LastNACK  *struct {
		Type, Version, Message string
	} `json:"last_nack"`
}

func (f *fairway) nodes() []streamInfo {
	f.t.Helper()
	_, body := f.get("/debug/nodes")
	var out []streamInfo
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		f.t.Fatalf("/debug/nodes: %v: %s", err, body)
	}
	return out
}

// waitForStream waits up to 2 s until /debug/nodes lists a stream that
// matches.
func (f *fairway) waitForStream(what string, match func(streamInfo) bool) {
	f.t.Helper()
	eventually(f.t, 2*time.Second, what, func() bool {
		for _, s := range f.nodes() {
			if match(s) {
				return true
			}
		}
		return false
	})
}

// eventually retries cond for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// manifestDir is a temporary copy of manifests/examples, for edits.
func manifestDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir("../manifests/examples")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("../manifests/examples", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, e.Name()), string(data))
	}
	return dir
}

// writeFile replaces a file the way an editor does: write aside, rename.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	writeFile(t, path, strings.Replace(string(data), old, new, 1))
}

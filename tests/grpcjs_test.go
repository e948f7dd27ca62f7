package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// grpcjsDir holds the Node.js peer: package.json, its lockfile and client.js.
const grpcjsDir = "grpcjs"

// grpcjsNeeded skips the test, or fails it when FAIRWAY_GRPCJS=require
// (as CI sets it, having installed Node.js), so that the peer cannot go
// quietly missing where it is supposed to run.
func grpcjsNeeded(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("FAIRWAY_GRPCJS") == "require" {
		t.Fatalf(format+" (FAIRWAY_GRPCJS=require)", args...)
	}
	t.Skipf(format, args...)
}

// grpcjsInstalled reports whether node_modules holds exactly what
// package-lock.json pins: npm ci records what it installed in
// node_modules/.package-lock.json.
func grpcjsInstalled() bool {
	type lock struct {
		Packages map[string]struct{ Version, Integrity string } `json:"packages"`
	}
	read := func(path string) (lock, error) {
		var l lock
		data, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(data, &l)
		}
		return l, err
	}
	want, err := read(filepath.Join(grpcjsDir, "package-lock.json"))
	if err != nil {
		return false
	}
	got, err := read(filepath.Join(grpcjsDir, "node_modules", ".package-lock.json"))
	if err != nil {
		return false
	}
	n := 0
	for name, p := range want.Packages {
		if !strings.HasPrefix(name, "node_modules/") {
			continue
		}
		n++
		if got.Packages[name] != p {
			return false
		}
	}
	return n > 0 && n == len(got.Packages)
}

// ensureGRPCJS returns the node binary, after installing the pinned
// packages with npm ci unless `make grpcjs` (or an earlier run) did.
func ensureGRPCJS(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		grpcjsNeeded(t, "node is not installed: the grpc-js-xds peer test needs Node.js and npm")
	}
	if grpcjsInstalled() {
		return node
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		grpcjsNeeded(t, "tests/grpcjs/node_modules is missing and npm is not installed")
	}
	start := time.Now()
	ci := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	ci.Dir = grpcjsDir
	if out, err := ci.CombinedOutput(); err != nil {
		grpcjsNeeded(t, "npm ci in tests/grpcjs: %v\n%s", err, out)
	}
	t.Logf("npm ci in tests/grpcjs took %v", time.Since(start).Round(time.Millisecond))
	if !grpcjsInstalled() {
		t.Fatal("after npm ci, tests/grpcjs/node_modules does not match package-lock.json")
	}
	return node
}

// TestGRPCJSXDSClient uses a second, independent xDS client as the peer:
// @grpc/grpc-js-xds, the Node.js proxyless gRPC implementation. On the
// bootstrap `fairway bootstrap --grpc` prints, it resolves
// xds:///greeter.apps.svc.cluster.local:50051 through fairway, its RPCs
// reach both of the Service's real grpc-go backends under round robin, and
// it ACKs fairway's listener, cluster and endpoints without a NACK.
func TestGRPCJSXDSClient(t *testing.T) {
	node := ensureGRPCJS(t)
	a, b := startNamedBackend(t, "a"), startNamedBackend(t, "b")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "greeter.yaml"), grpcServiceYAML("apps", "greeter", a, b))
	f := startFairway(t, dir)

	const nodeID, target, rpcs = "grpcjs-client", "xds:///greeter.apps.svc.cluster.local:50051", 20
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "client.js", target, strconv.Itoa(rpcs), "--hold")
	cmd.Dir = grpcjsDir
	cmd.Env = append(withoutEnv(os.Environ(), "GRPC_XDS_BOOTSTRAP", "GRPC_XDS_BOOTSTRAP_CONFIG"),
		"GRPC_XDS_BOOTSTRAP_CONFIG="+string(grpcBootstrap(t, f.xds, nodeID)))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	wait := func() error { exited = true; return cmd.Wait() }
	defer func() {
		if !exited {
			stdin.Close()
			_ = wait()
		}
	}()

	seen := map[string]int{}
	var order []string
	lines := bufio.NewScanner(stdout)
	for len(order) < rpcs && lines.Scan() {
		order = append(order, lines.Text())
		seen[lines.Text()]++
	}
	if len(order) < rpcs {
		err := wait()
		t.Fatalf("grpc-js through %s: %d of %d RPCs answered, then %v\n%s", target, len(order), rpcs, err, stderr.String())
	}
	t.Logf("%d RPCs in %v (node start included): %s", rpcs, time.Since(start).Round(time.Millisecond), strings.Join(order, " "))
	if seen["a"] == 0 || seen["b"] == 0 || seen["a"]+seen["b"] != rpcs {
		t.Errorf("%d RPCs went %v; want both backends", rpcs, seen)
	}
	// Round robin over two ready endpoints alternates; the first RPCs may
	// land on the one that got ready first.
	last := order[rpcs/2:]
	for i := 1; i < len(last); i++ {
		if last[i] == last[i-1] {
			t.Errorf("under round robin, RPCs %d and %d both went to %q: %v", rpcs/2+i, rpcs/2+i+1, last[i], order)
			break
		}
	}

	// The client holds its ADS stream open until stdin closes, so its node
	// is still listed. Every resource it used was ACKed before the RPCs
	// that needed it, but fairway records the ACK when it reads it.
	var js streamInfo
	eventually(t, 5*time.Second, "grpc-js ACKs listener, cluster and endpoint", func() bool {
		for _, s := range f.nodes() {
			if s.NodeID != nodeID {
				continue
			}
			if s.LastNACK != nil {
				t.Fatalf("grpc-js NACKed %s version %s: %s", s.LastNACK.Type, s.LastNACK.Version, s.LastNACK.Message)
			}
			js = s
			return s.Acked["listener"] != "" && s.Acked["cluster"] != "" && s.Acked["endpoint"] != ""
		}
		return false
	})
	t.Logf("grpc-js node: user agent %q, group %q, ACKed %v", js.UserAgent, js.Group, js.Acked)
	if js.Group != "proxyless" {
		t.Errorf("grpc-js node in group %q, want proxyless", js.Group)
	}
	if !strings.HasPrefix(js.UserAgent, "gRPC Node") {
		t.Errorf("grpc-js user agent %q, want gRPC Node...", js.UserAgent)
	}

	stdin.Close()
	if err := wait(); err != nil {
		t.Errorf("grpc-js client exited with %v\n%s", err, stderr.String())
	}
}

// withoutEnv drops the named variables from env.
func withoutEnv(env []string, names ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// Package e2e runs a real Envoy against a real `fairway serve` and real
// backends on loopback, and checks what a client of the Envoy sees: Ingress
// host and path routing, TLS by SNI, LoadBalancer TCP passthrough, and that
// a config change does not disturb unrelated traffic.
//
// The tests need an Envoy binary: $ENVOY_BIN (an absolute path: go test
// runs in the package directory), else `envoy` on PATH. Without
// one every test that needs it skips with a message saying so; nothing
// stands in for Envoy. TestE2EFixturesValid and the config_dump decoding
// test need no Envoy and always run, so the fixtures stay honest in CI.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/fairwayhq/fairway/tests/serveproc"
)

// fairwayBin is the fairway binary built for this test run.
var fairwayBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fairway-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if fairwayBin, err = serveproc.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// noEnvoy is the skip message of every test that needs a real Envoy.
const noEnvoy = "no Envoy: set ENVOY_BIN or put envoy on PATH; these tests need a real Envoy"

var (
	envoyOnce    sync.Once
	envoyPath    string
	envoyVersion string
	envoyErr     error
)

// requireEnvoy returns the Envoy binary, or skips the test when there is
// none. An ENVOY_BIN that is set but unusable fails the test instead: the
// user asked for Envoy, and a silent skip would hide that it never ran.
func requireEnvoy(t *testing.T) string {
	t.Helper()
	envoyOnce.Do(func() { envoyPath, envoyVersion, envoyErr = findEnvoy() })
	if envoyErr != nil {
		t.Fatal(envoyErr)
	}
	if envoyPath == "" {
		t.Skip(noEnvoy)
	}
	t.Logf("envoy: %s (%s)", envoyPath, envoyVersion)
	return envoyPath
}

// findEnvoy looks up $ENVOY_BIN, then PATH, and asks the binary for its
// version, so that a broken binary fails once with a clear message rather
// than as a readiness timeout in every test.
func findEnvoy() (path, version string, err error) {
	if bin := os.Getenv("ENVOY_BIN"); bin != "" {
		if path, err = exec.LookPath(bin); err != nil {
			return "", "", fmt.Errorf("ENVOY_BIN=%s: %v (go test runs in the package directory: give an absolute path)", bin, err)
		}
	} else if path, err = exec.LookPath("envoy"); err != nil {
		return "", "", nil
	}
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("%s --version: %v\n%s", path, err, out)
	}
	version, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	return path, version, nil
}

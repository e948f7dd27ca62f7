package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envoyGet is one request to a test Envoy's listener.
func envoyGet(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	mustOK(t, err)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	mustOK(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestEnvoyHealthAndStatsListeners: a real Envoy, with fairway's bootstrap,
// answers GET /ready on the health listener and Prometheus text on the
// stats listener, and nothing else of its admin on either: not another
// path, not a POST, not /quitquitquit.
func TestEnvoyHealthAndStatsListeners(t *testing.T) {
	s := newStack(t, stackOptions{})
	health, stats := "http://"+s.envoyListeners.health, "http://"+s.envoyListeners.stats
	if code, body := envoyGet(t, http.MethodGet, health+"/ready"); code != http.StatusOK || strings.TrimSpace(body) != "LIVE" {
		t.Errorf("GET /ready on the health listener: %d %q, want 200 LIVE", code, body)
	}
	if code, body := envoyGet(t, http.MethodGet, stats+"/stats/prometheus"); code != http.StatusOK ||
		!strings.Contains(body, "envoy_control_plane_connected_state") {
		t.Errorf("GET /stats/prometheus on the stats listener: %d, want Prometheus text:\n%.300s", code, body)
	}
	for _, r := range []struct{ method, base, path string }{
		{http.MethodGet, health, "/stats/prometheus"},
		{http.MethodGet, stats, "/ready"},
		{http.MethodGet, health, "/config_dump"},
		{http.MethodGet, stats, "/stats"},
		{http.MethodPost, health, "/ready"},
		{http.MethodPost, health, "/quitquitquit"},
		{http.MethodPost, stats, "/healthcheck/fail"},
		{http.MethodGet, health, "/ready/../config_dump"},
	} {
		if code, _ := envoyGet(t, r.method, r.base+r.path); code != http.StatusNotFound {
			t.Errorf("%s %s on %s: %d, want 404", r.method, r.path, r.base, code)
		}
	}
	if code, _ := envoyGet(t, http.MethodGet, health+"/ready"); code != http.StatusOK {
		t.Error("Envoy stopped answering after the refused requests")
	}
}

// TestDrainThroughAdminSocket: a real Envoy with its admin on a unix
// socket, as the fleet runs it, serves its listeners, and `fairway drain`
// (the preStop hook) drains it through that socket.
func TestDrainThroughAdminSocket(t *testing.T) {
	bin := requireEnvoy(t)
	fx, _ := newFixture(t)
	f := startFairway(t, writeManifestDir(t, fx.manifests()), fx)
	dir, err := os.MkdirTemp("", "envoy-admin") // sun_path holds 108 bytes
	mustOK(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	admin := "unix:" + filepath.Join(dir, "admin.sock")
	bootstrap, listeners := writeBootstrap(t, f.XDS, admin)
	startEnvoy(t, bin, bootstrap, admin)
	deadline := time.Now().Add(envoyReadyTimeout)
	for {
		resp, err := http.Get("http://" + listeners.health + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Envoy with its admin on %s never got ready: %v", admin, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := exec.Command(fairwayBin, "drain", "--admin-address", admin, "--timeout", "10s", "--poll", "100ms").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "drained: no open downstream connections") {
		t.Fatalf("fairway drain through %s: %v\n%s", admin, err, out)
	}
}

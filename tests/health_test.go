package tests

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// healthAddress is the address fairway logged for its health server.
func healthAddress(t *testing.T, f *fairway) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(f.logs.String(), "\n") {
			var e struct {
				Message string `json:"@message"`
				Address string `json:"address"`
			}
			if json.Unmarshal([]byte(line), &e) == nil && e.Message == "serving health and metrics" {
				return e.Address
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("fairway never logged its health address")
	return ""
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestServeHealthAddress: --health-address serves the probes and the
// metrics, and nothing of the admin's debug views or profiler, which stay
// on the admin address alone.
func TestServeHealthAddress(t *testing.T) {
	f := startFairway(t, "../manifests/examples", "--health-address", "127.0.0.1:0")
	health := "http://" + healthAddress(t, f)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := httpGet(t, health+path); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	if code, body := httpGet(t, health+"/metrics"); code != http.StatusOK || !strings.Contains(body, "fairway_snapshot_publications_total") {
		t.Errorf("GET /metrics: %d, want fairway's metrics:\n%.500s", code, body)
	}
	for _, path := range []string{"/debug/snapshot", "/debug/nodes", "/debug/pprof/", "/debug/pprof/cmdline"} {
		if code, _ := httpGet(t, health+path); code != http.StatusNotFound {
			t.Errorf("GET %s on the health address: %d, want 404", path, code)
		}
		if code, _ := httpGet(t, "http://"+f.admin+path); code != http.StatusOK {
			t.Errorf("GET %s on the admin address: %d, want 200", path, code)
		}
	}
}

package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeAdmin answers the admin requests drain makes, as Envoy does, and
// records them. Its listeners' open connections fall by one per stats
// read; the health and stats listeners keep theirs open throughout, as a
// prober and a scraper do.
type fakeAdmin struct {
	mu       sync.Mutex
	requests []string
	open     int
}

func (a *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, r.Method+" "+r.URL.RequestURI())
	switch {
	case r.Method == http.MethodPost && (r.URL.Path == "/healthcheck/fail" || r.URL.Path == "/drain_listeners"):
		fmt.Fprintln(w, "OK")
	case r.Method == http.MethodGet && r.URL.Path == "/stats":
		fmt.Fprintf(w, "listener.0.0.0.0_80.downstream_cx_active: %d\nlistener.admin.downstream_cx_active: 1\n", a.open)
		fmt.Fprintln(w, "listener.fairway_health.downstream_cx_active: 1\nlistener.fairway_stats.downstream_cx_active: 2")
		if a.open > 0 {
			a.open--
		}
	default:
		http.Error(w, "invalid path", http.StatusNotFound)
	}
}

// TestDrainOverUnixSocket: with the admin on a unix socket, drain fails
// the health check, drains the listeners gracefully, and waits until the
// traffic listeners have no connections, not counting the admin's, the
// health listener's or the stats listener's own.
func TestDrainOverUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "drain") // a short path: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "admin.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	admin := &fakeAdmin{open: 3}
	srv := &http.Server{Handler: admin}
	go srv.Serve(lis)
	t.Cleanup(func() { srv.Close() })

	code, _, stderr := runCLI(t, "drain", "--admin-address", "unix:"+sock, "--poll", "5ms", "--timeout", "10s")
	if code != 0 || !strings.Contains(stderr, "drained: no open downstream connections") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	admin.mu.Lock()
	defer admin.mu.Unlock()
	want := []string{"POST /healthcheck/fail", "POST /drain_listeners?graceful"}
	if len(admin.requests) < 2 || !slices.Equal(admin.requests[:2], want) {
		t.Fatalf("requests %v, want %v first", admin.requests, want)
	}
	if stats := admin.requests[2:]; len(stats) != 4 {
		t.Errorf("%d stats reads %v, want 4: connections 3, 2, 1, then 0", len(stats), stats)
	}
}

// TestDrainUnreachableAdmin: a socket nobody listens on is an error, not a
// silent success that would let the kubelet kill Envoy undrained.
func TestDrainUnreachableAdmin(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	if code, _, stderr := runCLI(t, "drain", "--admin-address", "unix:"+sock, "--timeout", "1s"); code == 0 {
		t.Errorf("exit 0 with no admin listening: %s", stderr)
	}
}

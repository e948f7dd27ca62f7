package load

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fairwayhq/fairway/tests/workload"
)

// TestLoadRunSmall keeps the load test honest between `make bench` runs: a
// real fairway, SotW and delta streams, and the fan-out properties the
// benchmark reports. An endpoint change must reach every stream as that
// one assignment, not as all of EDS, and an Ingress change must reach every
// stream at all.
func TestLoadRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs fairway with 1k Services; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "fairway")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/fairway")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building fairway: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log io.Writer = io.Discard
	if testing.Verbose() {
		log = os.Stderr
	}
	rep, err := Run(ctx, Config{FairwayBin: bin, Scale: workload.Small, Streams: 20, DeltaEvery: 2, Changes: 2, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Streams != 20 || rep.Delta != 10 {
		t.Errorf("streams = %d (delta %d), want 20 (delta 10)", rep.Streams, rep.Delta)
	}
	if rep.Ingress.Max <= 0 || rep.Ingress.Max > 30*time.Second {
		t.Errorf("Ingress change convergence max = %v, want within (0, 30s]", rep.Ingress.Max)
	}
	// One ClusterLoadAssignment of 10 endpoints is a few hundred bytes; all
	// of EDS at this scale is over 300 KB.
	for name, b := range map[string]float64{"SotW": rep.Endpoint.SotWBytesPerStream, "delta": rep.Endpoint.DeltaBytesPerStream} {
		if b <= 0 || b > 2000 {
			t.Errorf("%s bytes per stream per endpoint change = %.0f, want one assignment (0 < b ≤ 2000)", name, b)
		}
	}
	if rep.Ingress.BytesPerStream <= rep.Endpoint.BytesPerStream {
		t.Errorf("Ingress change sent %.0f B per stream, endpoint change %.0f: a route table should outweigh one assignment",
			rep.Ingress.BytesPerStream, rep.Endpoint.BytesPerStream)
	}
	if rep.RSSMiB <= 0 || rep.CPUSeconds <= 0 {
		t.Errorf("RSS %.1f MiB, CPU %.2f s: fairway's resources were not measured", rep.RSSMiB, rep.CPUSeconds)
	}
}

// TestLoadRunSmallTLS runs the TLS workload (every host under a wildcard
// certificate, --ssl-redirect): an Ingress change, which lands in the
// https route table the clients follow from the listener, and a TLS host
// added must both reach every stream.
func TestLoadRunSmallTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs fairway with 1k TLS Ingresses; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "fairway")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/fairway")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building fairway: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Config{FairwayBin: bin, Scale: workload.Small.WithTLS(), Streams: 10, DeltaEvery: 2, Changes: 1, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Convergence{"Ingress change": rep.Ingress, "TLS host added": rep.TLSHost} {
		if c.Max <= 0 || c.Max > 30*time.Second || c.SotWBytesPerStream <= 0 || c.DeltaBytesPerStream <= 0 {
			t.Errorf("%s: max %v, bytes per stream %.0f SotW / %.0f delta: want it to reach every stream within 30 s",
				name, c.Max, c.SotWBytesPerStream, c.DeltaBytesPerStream)
		}
	}
}

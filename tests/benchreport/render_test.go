package main

import (
	"strings"
	"testing"
	"time"

	"github.com/fairwayhq/fairway/tests/load"
)

func fakeResults() results {
	benches := map[string]bench{
		"large/cold": {nsPerOp: 500e6, liveHeapMiB: 130}, "large/ingress": {nsPerOp: 20e6}, "large/endpoint": {nsPerOp: 1e6},
		"large-tls/cold": {nsPerOp: 600e6, httpsListenerBytes: 391386}, "large-tls/ingress": {nsPerOp: 30e6}, "large-tls/tlshost": {nsPerOp: 90e6},
	}
	tls := load.Report{Streams: 1000, Ingress: load.Convergence{P99: 400 * time.Millisecond, SotWBytesPerStream: 1.8e6, DeltaBytesPerStream: 12000}}
	return results{benches: benches, plain: map[string]bench{}, loads: map[string][]load.Report{"tls": {tls}}}
}

// TestRenderTLSTargets: the TLS goals are judged on the worse of SotW and
// delta, and on the 1,000-stream p99.
func TestRenderTLSTargets(t *testing.T) {
	out := render(fakeResults())
	for _, want := range []string{
		"| TLS workload: one Ingress path change, bytes per stream (SotW / delta) | ≤ 20 KB | — | 1800.0 KB / 12.0 KB | **not met** |",
		"| TLS workload: 1000 ADS streams, one Ingress change → all have it (p99) | ≤ 0.5 s | — | 0.40 s | met |",
		"the `https` listener: 391386 bytes (391.4 KB)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Huge scale") {
		t.Error("the huge section is in a report without the huge run")
	}
}

// TestRenderHugeGrowth: the huge section divides the 100k figures by the
// 10k ones and judges the cold build's growth against 10×.
func TestRenderHugeGrowth(t *testing.T) {
	r := fakeResults()
	r.huge = map[string]bench{"huge/cold": {nsPerOp: 8000e6, liveHeapMiB: 1300}, "huge-tls/ingress": {nsPerOp: 31e6}}
	out := render(r)
	for _, want := range []string{
		"| huge | cold | 500.0 ms | 8000.0 ms | 16.0× | 130 → 1300 MiB |",
		"cold build at 100k / at 10k: 16.0× (goal ≤ 10×): **not met**",
		"at 100k / at 10k: 1.0×",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

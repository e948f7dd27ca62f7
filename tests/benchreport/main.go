// Command benchreport is make bench: it runs the publish benchmarks and the
// fan-out load test, prints the targets beside what was measured, and
// writes bench/results.md and bench/convergence.svg.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/fairwayhq/fairway/tests/load"
	"github.com/fairwayhq/fairway/tests/workload"
)

func main() {
	bin := flag.String("fairway", "bin/fairway", "the fairway binary the load test runs")
	out := flag.String("out", "bench", "where results.md and convergence.svg go")
	streams := flag.String("streams", "100,300,1000", "stream counts for the load test")
	changes := flag.Int("changes", 3, "changes of each kind per load run")
	flag.Parse()
	if err := run(*bin, *out, *streams, *changes); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(bin, outDir, streamList string, changes int) error {
	fmt.Fprintln(os.Stderr, "running the publish benchmarks (go test -bench BenchmarkPublish ./xds)...")
	benches, err := goBench(nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "running them again without the proxyless resources...")
	plain, err := goBench([]string{"BENCH_NO_PROXYLESS=1"})
	if err != nil {
		return err
	}
	var loads []load.Report
	for _, s := range strings.Split(streamList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "load test: %d streams, large workload...\n", n)
		rep, err := load.Run(context.Background(), load.Config{
			FairwayBin: bin, Scale: workload.Large, Streams: n, DeltaEvery: 2, Changes: changes,
		})
		if err != nil {
			return fmt.Errorf("load test with %d streams: %w", n, err)
		}
		loads = append(loads, rep)
	}
	report := render(benches, plain, loads)
	fmt.Print(report)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, "results.md"), []byte(report), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(outDir, "convergence.svg"), []byte(chart(loads)), 0o644)
}

// bench is one benchmark line's numbers.
type bench struct {
	nsPerOp, bytesPerOp, allocsPerOp, liveHeapMiB float64
}

var benchLine = regexp.MustCompile(`^BenchmarkPublish/(\S+?)-\d+\s+\d+\s+(.*)$`)

func goBench(env []string) (map[string]bench, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "BenchmarkPublish", "-benchmem", "-benchtime", "10x", "-count", "1", "./xds")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %w\n%s", err, outb)
	}
	res := map[string]bench{}
	sc := bufio.NewScanner(bytes.NewReader(outb))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var b bench
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, _ := strconv.ParseFloat(fields[i], 64)
			switch fields[i+1] {
			case "ns/op":
				b.nsPerOp = v
			case "B/op":
				b.bytesPerOp = v
			case "allocs/op":
				b.allocsPerOp = v
			case "live-heap-MiB":
				b.liveHeapMiB = v
			}
		}
		res[m[1]] = b
	}
	return res, nil
}

func ms(ns float64) string { return fmt.Sprintf("%.1f ms", ns/1e6) }

func dur(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func render(benches, plain map[string]bench, loads []load.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# fairway benchmark results\n\nMeasured by `make bench` on %s, %d cores (`nproc`), %s %s/%s, %s.\n\n",
		hostCPU(), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format("2006-01-02"))
	b.WriteString("Workload (`tests/workload`): large = 10k Services and 10k Ingresses across 50 namespaces, 100k endpoints, 500 LoadBalancer Services; small = 1k, 1k, 10k, 50. Translation plus publication is what `serve` does per change (`BenchmarkPublish`, with the proxyless resources `serve` builds by default).\n\n")
	large := func(k string) bench { return benches["large/"+k] }
	var top load.Report
	if len(loads) > 0 {
		top = loads[len(loads)-1]
	}
	b.WriteString("## Targets (large scale)\n\n| what | target | the peer | measured | |\n|---|---|---|---|---|\n")
	row := func(what, target, peer, got string, ok bool) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", what, target, peer, got, verdict(ok))
	}
	row("full translation + publish, cold", "≤ 100 ms", "336 ms", ms(large("cold").nsPerOp)+fmt.Sprintf(" (%s without proxyless)", ms(plain["large/cold"].nsPerOp)), large("cold").nsPerOp <= 100e6)
	row("one Ingress changed → new snapshot published", "≤ 10 ms", "482 ms", ms(large("ingress").nsPerOp), large("ingress").nsPerOp <= 10e6)
	row("one endpoint changed → EDS published", "≤ 2 ms", "a full rebuild", ms(large("endpoint").nsPerOp), large("endpoint").nsPerOp <= 2e6)
	row("live heap after build", "≤ 90 MiB", "180 MiB", fmt.Sprintf("%.1f MiB (%.1f MiB without proxyless)", large("cold").liveHeapMiB, plain["large/cold"].liveHeapMiB), large("cold").liveHeapMiB <= 90)
	if top.Streams > 0 {
		row(fmt.Sprintf("%d ADS streams, one Ingress change → all have it (p99)", top.Streams), "≤ 1 s", "—", dur(top.Ingress.P99), top.Ingress.P99 <= time.Second)
		row(fmt.Sprintf("fairway RSS with %d streams", top.Streams), "≤ 1 GiB", "—", fmt.Sprintf("%.0f MiB (peak %.0f MiB)", top.RSSMiB, top.PeakRSSMiB), top.RSSMiB <= 1024)
	}
	b.WriteString("\n## Go benchmarks (`go test -bench BenchmarkPublish -benchmem ./xds`)\n\n| scale | step | time/op | B/op | allocs/op | live heap |\n|---|---|---|---|---|---|\n")
	for _, scale := range []string{"small", "large"} {
		for _, step := range []string{"cold", "ingress", "endpoint"} {
			r := benches[scale+"/"+step]
			heap := ""
			if r.liveHeapMiB > 0 {
				heap = fmt.Sprintf("%.1f MiB", r.liveHeapMiB)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %.0f | %s |\n", scale, step, ms(r.nsPerOp), r.bytesPerOp, r.allocsPerOp, heap)
		}
	}
	b.WriteString("\n## Fan-out (`tests/load`, large workload, half SotW and half delta streams)\n\nTime from writing the change to a manifest file until each stream had it: it includes the file watcher's settle (50 ms) and the loop's holdoff (100 ms). The clients run on the same two cores as fairway.\n\n")
	b.WriteString("| streams | Ingress change p50 / p99 / max | bytes per stream (SotW / delta) | endpoint change p50 / p99 / max | bytes per stream (SotW / delta) | fairway RSS (peak) | fairway CPU over the changes |\n|---|---|---|---|---|---|---|\n")
	for _, l := range loads {
		fmt.Fprintf(&b, "| %d | %s / %s / %s | %.0f / %.0f | %s / %s / %s | %.0f / %.0f | %.0f MiB (%.0f) | %.1f s |\n", l.Streams,
			dur(l.Ingress.P50), dur(l.Ingress.P99), dur(l.Ingress.Max), l.Ingress.SotWBytesPerStream, l.Ingress.DeltaBytesPerStream,
			dur(l.Endpoint.P50), dur(l.Endpoint.P99), dur(l.Endpoint.Max), l.Endpoint.SotWBytesPerStream, l.Endpoint.DeltaBytesPerStream,
			l.RSSMiB, l.PeakRSSMiB, l.CPUSeconds)
	}
	b.WriteString("\n![convergence against streams](convergence.svg)\n")
	return b.String()
}

// hostCPU is the CPU model from /proc/cpuinfo.
func hostCPU() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}

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
	"strconv"
	"strings"

	"github.com/fairwayhq/fairway/tests/load"
	"github.com/fairwayhq/fairway/tests/workload"
)

func main() {
	bin := flag.String("fairway", "bin/fairway", "the fairway binary the load test runs")
	out := flag.String("out", "bench", "where results.md and the convergence charts go")
	streams := flag.String("streams", "100,300,1000", "stream counts for the load test")
	changes := flag.Int("changes", 3, "changes of each kind per load run")
	scale := flag.String("scale", "", `"huge" also runs the publish benchmarks at 100k Services, 100k Ingresses and 1M endpoints (a few GB, minutes)`)
	flag.Parse()
	if *scale != "" && *scale != "huge" {
		fmt.Fprintf(os.Stderr, "benchreport: -scale %q: want huge or nothing\n", *scale)
		os.Exit(2)
	}
	if err := run(*bin, *out, *streams, *changes, *scale == "huge"); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// results is everything one make bench measured.
type results struct {
	// benches run serve's default (proxyless on demand, no client asks);
	// plain without proxyless; subscribed with every proxyless resource
	// built, as if clients had asked for every Service and host.
	benches, plain, subscribed, huge map[string]bench
	// loads are the fan-out runs per workload (plain, tls), by streams.
	loads map[string][]load.Report
	// retried are the load runs that failed once, and why.
	retried []string
	// failed are the load runs that failed twice: they have no figures.
	failed []string
}

// fanOutScales are the workloads of the fan-out load test, by the key
// results.loads uses.
var fanOutScales = []struct {
	key   string
	scale workload.Scale
}{{"plain", workload.Large}, {"tls", workload.LargeTLS}}

func run(bin, outDir, streamList string, changes int, huge bool) error {
	r := results{loads: map[string][]load.Report{}}
	var err error
	fmt.Fprintln(os.Stderr, "running the publish benchmarks (go test -bench BenchmarkPublish ./xds)...")
	if r.benches, err = goBench(nil, "10x"); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "running them again without the proxyless resources...")
	if r.plain, err = goBench([]string{"BENCH_NO_PROXYLESS=1"}, "10x"); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "running them again with every proxyless resource asked for...")
	if r.subscribed, err = goBench([]string{"BENCH_PROXYLESS_ALL=1"}, "10x"); err != nil {
		return err
	}
	if huge {
		fmt.Fprintln(os.Stderr, "running them at the huge scale (100k Services, 100k Ingresses, 1M endpoints)...")
		if r.huge, err = goBench([]string{"BENCH_SCALE=huge"}, "3x"); err != nil {
			return err
		}
	}
	if err := runLoads(bin, streamList, changes, &r); err != nil {
		return err
	}
	report := render(r)
	fmt.Print(report)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, "results.md"), []byte(report), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, "convergence.svg"), []byte(chart(r.loads["plain"], "large")), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, "convergence-tls.svg"), []byte(chart(r.loads["tls"], "large TLS, --ssl-redirect")), 0o644); err != nil {
		return err
	}
	if len(r.failed) > 0 {
		return fmt.Errorf("%d load runs failed: %s", len(r.failed), strings.Join(r.failed, "; "))
	}
	return nil
}

// runLoads runs the fan-out load test per workload and stream count. A run
// that fails is run once more (on two shared cores a stream can miss its
// keepalive and be closed), and one that fails twice is left out, so that
// the other runs' figures are still written; the report names both kinds.
func runLoads(bin, streamList string, changes int, r *results) error {
	for _, fo := range fanOutScales {
		for _, s := range strings.Split(streamList, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "load test: %d streams, %s workload...\n", n, fo.scale.Name)
			cfg := load.Config{FairwayBin: bin, Scale: fo.scale, Streams: n, DeltaEvery: 2, Changes: changes, Log: os.Stderr}
			rep, err := load.Run(context.Background(), cfg)
			if err != nil {
				fmt.Fprintf(os.Stderr, "load test with %d streams, %s failed (%v); once more...\n", n, fo.scale.Name, err)
				r.retried = append(r.retried, fmt.Sprintf("%s, %d streams: %v", fo.scale.Name, n, err))
				if rep, err = load.Run(context.Background(), cfg); err != nil {
					fmt.Fprintf(os.Stderr, "load test with %d streams, %s failed again: %v\n", n, fo.scale.Name, err)
					r.failed = append(r.failed, fmt.Sprintf("%s, %d streams: %v", fo.scale.Name, n, err))
					continue
				}
			}
			r.loads[fo.key] = append(r.loads[fo.key], rep)
		}
	}
	return nil
}

// bench is one benchmark line's numbers.
type bench struct {
	nsPerOp, bytesPerOp, allocsPerOp, liveHeapMiB, httpsListenerBytes float64
}

var benchLine = regexp.MustCompile(`^BenchmarkPublish/(\S+?)-\d+\s+\d+\s+(.*)$`)

// goBench runs BenchmarkPublish, each step benchtime (e.g. "10x") times.
// The timeout leaves the huge scale room.
func goBench(env []string, benchtime string) (map[string]bench, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "BenchmarkPublish", "-benchmem", "-benchtime", benchtime, "-count", "1", "-timeout", "60m", "./xds")
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
			case "https-listener-B":
				b.httpsListenerBytes = v
			}
		}
		res[m[1]] = b
	}
	return res, nil
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

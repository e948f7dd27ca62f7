package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/fairwayhq/fairway/tests/load"
)

func ms(ns float64) string { return fmt.Sprintf("%.1f ms", ns/1e6) }

func dur(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func kb(b float64) string { return fmt.Sprintf("%.1f KB", b/1000) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

// top is the run with the most streams, which the targets are about.
func top(loads []load.Report) load.Report {
	if len(loads) == 0 {
		return load.Report{}
	}
	return loads[len(loads)-1]
}

func render(r results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# fairway benchmark results\n\nMeasured by `make bench` on %s, %d cores (`nproc`), %s %s/%s, %s.\n\n",
		hostCPU(), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format("2006-01-02"))
	b.WriteString("Workloads (`tests/workload`): large = 10k Services and 10k Ingresses across 50 namespaces, 100k endpoints, 500 LoadBalancer Services; " +
		"large-tls = large with a certificate on every Ingress (`spec.tls`), 100 wildcard Secrets `*.g<k>.example.com` shared by 100 hosts each, " +
		"and fairway run with `--ssl-redirect`; small = 1k, 1k, 10k, 50. Translation plus publication is what `serve` does per change " +
		"(`BenchmarkPublish`, as `serve` runs: proxyless resources on demand, and no proxyless client asks; " +
		"\"every name asked\" builds them all, \"without proxyless\" is `--proxyless=false`).\n\n")
	renderTargets(&b, r)
	renderBenches(&b, r)
	renderTLSCosts(&b, r)
	b.WriteString("\n## Fan-out (`tests/load`, half SotW and half delta streams)\n\nTime from writing the change to a manifest file until each stream had it: it includes the file watcher's settle (50 ms) and the loop's holdoff (100 ms). The clients run on the same two cores as fairway, and follow the route tables the listeners name, as Envoy does.\n\n")
	b.WriteString("### large\n\n")
	fanOutTable(&b, r.loads["plain"])
	b.WriteString("\n![convergence against streams](convergence.svg)\n\n### large-tls (`--ssl-redirect`)\n\n")
	fanOutTable(&b, r.loads["tls"])
	b.WriteString("\n![convergence against streams, TLS workload](convergence-tls.svg)\n")
	for _, why := range r.failed {
		fmt.Fprintf(&b, "\n**This load run failed twice and has no figures:** %s\n", why)
	}
	for _, why := range r.retried {
		fmt.Fprintf(&b, "\nThis load run failed once and was run again: %s\n", why)
	}
	if r.huge != nil {
		renderHuge(&b, r)
	}
	return b.String()
}

func renderTargets(b *strings.Builder, r results) {
	large := func(k string) bench { return r.benches["large/"+k] }
	b.WriteString("## Targets (large scale)\n\n| what | target | the peer | measured | |\n|---|---|---|---|---|\n")
	row := func(what, target, peer, got string, ok bool) {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", what, target, peer, got, verdict(ok))
	}
	row("full translation + publish, cold", "≤ 100 ms", "336 ms", ms(large("cold").nsPerOp)+fmt.Sprintf(" (%s without proxyless, %s with every proxyless name asked)", ms(r.plain["large/cold"].nsPerOp), ms(r.subscribed["large/cold"].nsPerOp)), large("cold").nsPerOp <= 100e6)
	row("one Ingress changed → new snapshot published", "≤ 10 ms", "482 ms", ms(large("ingress").nsPerOp), large("ingress").nsPerOp <= 10e6)
	row("one endpoint changed → EDS published", "≤ 2 ms", "a full rebuild", ms(large("endpoint").nsPerOp), large("endpoint").nsPerOp <= 2e6)
	row("live heap after build", "≤ 90 MiB", "180 MiB", fmt.Sprintf("%.1f MiB (%.1f MiB without proxyless, %.1f MiB with every proxyless name asked)", large("cold").liveHeapMiB, r.plain["large/cold"].liveHeapMiB, r.subscribed["large/cold"].liveHeapMiB), large("cold").liveHeapMiB <= 90)
	if t := top(r.loads["plain"]); t.Streams > 0 {
		row(fmt.Sprintf("%d ADS streams, one Ingress change → all have it (p99)", t.Streams), "≤ 1 s", "—", dur(t.Ingress.P99), t.Ingress.P99 <= time.Second)
		row(fmt.Sprintf("fairway RSS with %d streams", t.Streams), "≤ 1 GiB", "—", fmt.Sprintf("%.0f MiB (peak %.0f MiB)", t.RSSMiB, t.PeakRSSMiB), t.RSSMiB <= 1024)
	}
	if t := top(r.loads["tls"]); t.Streams > 0 {
		worst := max(t.Ingress.SotWBytesPerStream, t.Ingress.DeltaBytesPerStream)
		row("TLS workload: one Ingress path change, bytes per stream (SotW / delta)", "≤ 20 KB", "—",
			kb(t.Ingress.SotWBytesPerStream)+" / "+kb(t.Ingress.DeltaBytesPerStream), worst <= 20000)
		row(fmt.Sprintf("TLS workload: %d ADS streams, one Ingress change → all have it (p99)", t.Streams), "≤ 0.5 s", "—", dur(t.Ingress.P99), t.Ingress.P99 <= 500*time.Millisecond)
	}
}

func renderBenches(b *strings.Builder, r results) {
	b.WriteString("\n## Go benchmarks (`go test -bench BenchmarkPublish -benchmem ./xds`)\n\n`tlshost` adds one Ingress with a new host under an existing wildcard certificate. " +
		"`large-gateway` is large's Services with 10k HTTPRoutes on one shared Gateway in place of the Ingresses; `httproute` adds a rule to one of them.\n\n")
	b.WriteString("| scale | step | time/op | B/op | allocs/op | live heap | without proxyless | every proxyless name asked |\n|---|---|---|---|---|---|---|---|\n")
	for _, scale := range []string{"small", "large", "large-tls", "large-gateway"} {
		for _, step := range []string{"cold", "ingress", "httproute", "endpoint", "tlshost"} {
			k := scale + "/" + step
			res, ok := r.benches[k]
			if !ok {
				continue
			}
			heap := ""
			if res.liveHeapMiB > 0 {
				heap = fmt.Sprintf("%.1f MiB", res.liveHeapMiB)
			}
			fmt.Fprintf(b, "| %s | %s | %s | %.0f | %.0f | %s | %s | %s |\n", scale, step, ms(res.nsPerOp), res.bytesPerOp, res.allocsPerOp, heap, variant(r.plain[k]), variant(r.subscribed[k]))
		}
	}
}

// variant is a benchmark's time (and live heap) in another configuration.
func variant(res bench) string {
	out := ms(res.nsPerOp)
	if res.liveHeapMiB > 0 {
		out += fmt.Sprintf(", %.1f MiB", res.liveHeapMiB)
	}
	return out
}

// renderTLSCosts puts what a TLS host costs beside the path change: the
// https listener, which a host added or removed may re-send, and one
// host added, in time and in bytes per stream.
func renderTLSCosts(b *strings.Builder, r results) {
	cold, host := r.benches["large-tls/cold"], r.benches["large-tls/tlshost"]
	fmt.Fprintf(b, "\n## A TLS host at the large scale (large-tls)\n\n- the `https` listener: %.0f bytes (%s)\n- one TLS host added, translated and published: %s\n- one Ingress path change on a TLS host: %s\n\n",
		cold.httpsListenerBytes, kb(cold.httpsListenerBytes), ms(host.nsPerOp), ms(r.benches["large-tls/ingress"].nsPerOp))
	b.WriteString("| streams | TLS host added p50 / p99 / max | bytes per stream (SotW / delta) | path change bytes per stream (SotW / delta) |\n|---|---|---|---|\n")
	for _, l := range r.loads["tls"] {
		fmt.Fprintf(b, "| %d | %s / %s / %s | %.0f / %.0f | %.0f / %.0f |\n", l.Streams,
			dur(l.TLSHost.P50), dur(l.TLSHost.P99), dur(l.TLSHost.Max), l.TLSHost.SotWBytesPerStream, l.TLSHost.DeltaBytesPerStream,
			l.Ingress.SotWBytesPerStream, l.Ingress.DeltaBytesPerStream)
	}
}

func fanOutTable(b *strings.Builder, loads []load.Report) {
	b.WriteString("| streams | Ingress change p50 / p99 / max | bytes per stream (SotW / delta) | endpoint change p50 / p99 / max | bytes per stream (SotW / delta) | fairway RSS (peak) | fairway CPU over the changes |\n|---|---|---|---|---|---|---|\n")
	for _, l := range loads {
		fmt.Fprintf(b, "| %d | %s / %s / %s | %.0f / %.0f | %s / %s / %s | %.0f / %.0f | %.0f MiB (%.0f) | %.1f s |\n", l.Streams,
			dur(l.Ingress.P50), dur(l.Ingress.P99), dur(l.Ingress.Max), l.Ingress.SotWBytesPerStream, l.Ingress.DeltaBytesPerStream,
			dur(l.Endpoint.P50), dur(l.Endpoint.P99), dur(l.Endpoint.Max), l.Endpoint.SotWBytesPerStream, l.Endpoint.DeltaBytesPerStream,
			l.RSSMiB, l.PeakRSSMiB, l.CPUSeconds)
	}
}

// renderHuge sets the 100k figures beside the 10k ones. The goal
// is a cold build that grows no faster than the work (≤ 10×), and an
// Ingress change on a TLS host that costs what it costs at 10k.
func renderHuge(b *strings.Builder, r results) {
	b.WriteString("\n## Huge scale (`make bench SCALE=huge`): 100k Services, 100k Ingresses, 1M endpoints, 5,000 LoadBalancers, 500 namespaces\n\n")
	b.WriteString("| workload | step | 10k | 100k | growth | live heap 10k → 100k |\n|---|---|---|---|---|---|\n")
	for _, w := range [][2]string{{"large", "huge"}, {"large-tls", "huge-tls"}} {
		for _, step := range []string{"cold", "ingress", "endpoint", "tlshost"} {
			small, ok1 := r.benches[w[0]+"/"+step]
			big, ok2 := r.huge[w[1]+"/"+step]
			if !ok1 || !ok2 {
				continue
			}
			heap := ""
			if big.liveHeapMiB > 0 {
				heap = fmt.Sprintf("%.0f → %.0f MiB", small.liveHeapMiB, big.liveHeapMiB)
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %.1f× | %s |\n", w[1], step, ms(small.nsPerOp), ms(big.nsPerOp), big.nsPerOp/small.nsPerOp, heap)
		}
	}
	growth := r.huge["huge/cold"].nsPerOp / r.benches["large/cold"].nsPerOp
	tlsGrowth := r.huge["huge-tls/ingress"].nsPerOp / r.benches["large-tls/ingress"].nsPerOp
	fmt.Fprintf(b, "\n- cold build at 100k / at 10k: %.1f× (goal ≤ 10×): %s\n", growth, verdict(growth <= 10))
	fmt.Fprintf(b, "- an Ingress change on a TLS host at 100k / at 10k: %.1f× (goal: the same cost, ≤ 1.5× allowing for noise): %s\n", tlsGrowth, verdict(tlsGrowth <= 1.5))
	if tls := r.huge["huge-tls/cold"]; tls.httpsListenerBytes > 0 {
		fmt.Fprintf(b, "- the `https` listener at 100k TLS hosts: %s\n", kb(tls.httpsListenerBytes))
	}
}

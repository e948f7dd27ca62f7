package main

import (
	"fmt"
	"strings"

	"github.com/fairwayhq/fairway/tests/load"
)

// chart draws convergence latency (p50 and p99, Ingress and endpoint
// changes) against the number of streams, as SVG; workload names the
// workload in the title.
func chart(loads []load.Report, workload string) string {
	const w, h, left, right, top, bottom = 640, 360, 70, 170, 30, 50
	maxY := 1.0
	maxX := 1
	for _, l := range loads {
		maxY = max(maxY, l.Ingress.P99.Seconds(), l.Endpoint.P99.Seconds())
		maxX = max(maxX, l.Streams)
	}
	maxY *= 1.1
	x := func(n int) float64 { return left + float64(n)/float64(maxX)*float64(w-left-right) }
	y := func(s float64) float64 { return float64(h-bottom) - s/maxY*float64(h-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14">fairway: time until every stream has a change (%s workload)</text>`+"\n", left, workload)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top, left, h-bottom)
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%.2f s</text>`+"\n", left-6, y(v)+4, v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", left, y(v), w-right, y(v))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="red" stroke-dasharray="4 3"/>`+"\n", left, y(1), w-right, y(1))
	fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="red">target p99 1 s</text>`+"\n", w-right+6, y(1)+4)
	for _, l := range loads {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x(l.Streams), h-bottom+18, l.Streams)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">ADS streams</text>`+"\n", (left+w-right)/2, h-10)
	series := []struct {
		name, color, dash string
		v                 func(load.Report) float64
	}{
		{"Ingress p99", "#1f77b4", "", func(l load.Report) float64 { return l.Ingress.P99.Seconds() }},
		{"Ingress p50", "#1f77b4", "5 4", func(l load.Report) float64 { return l.Ingress.P50.Seconds() }},
		{"endpoint p99", "#2ca02c", "", func(l load.Report) float64 { return l.Endpoint.P99.Seconds() }},
		{"endpoint p50", "#2ca02c", "5 4", func(l load.Report) float64 { return l.Endpoint.P50.Seconds() }},
	}
	for i, s := range series {
		var pts []string
		for _, l := range loads {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(l.Streams), y(s.v(l))))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", x(l.Streams), y(s.v(l)), s.color)
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`+"\n", strings.Join(pts, " "), s.color, s.dash)
		ly := top + 20 + i*18
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`+"\n", w-right+6, ly, w-right+30, ly, s.color, s.dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", w-right+34, ly+4, s.name)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

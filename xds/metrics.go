package xds

import (
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/fairwayhq/fairway/translator"
)

// Metrics are fairway's Prometheus metrics, on a registry of their own so
// that tests and several servers in one process do not collide.
type Metrics struct {
	Registry *prometheus.Registry

	TranslationSeconds prometheus.Histogram
	Publications       *prometheus.CounterVec
	Versions           *prometheus.GaugeVec
	Resources          *prometheus.GaugeVec
	Streams            *prometheus.GaugeVec
	Nodes              prometheus.Gauge
	Pushes             *prometheus.CounterVec
	NACKs              *prometheus.CounterVec
	Problems           *prometheus.GaugeVec
	RefusedStreams     *prometheus.CounterVec
}

// NewMetrics creates and registers the metrics, with Go and process
// collectors beside them.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		TranslationSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "fairway_translation_duration_seconds",
			Help:    "Time to translate the cluster state into Envoy resources.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms to 4 s
		}),
		Publications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairway_snapshot_publications_total",
			Help: "Snapshot publications, by result: published, or failed (the last good snapshot stays).",
		}, []string{"result"}),
		Versions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fairway_xds_version_info",
			Help: "The published version of each resource type and snapshot (value 1).",
		}, []string{"snapshot", "type", "version"}),
		Resources: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fairway_xds_resources",
			Help: "Resources in the published snapshot, by snapshot and type.",
		}, []string{"snapshot", "type"}),
		Streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fairway_xds_connected_streams",
			Help: "Open xDS streams, by kind (sotw, delta).",
		}, []string{"kind"}),
		Nodes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fairway_xds_connected_nodes",
			Help: "Distinct node ids with at least one open xDS stream.",
		}),
		Pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairway_xds_pushes_total",
			Help: "xDS responses sent, by resource type.",
		}, []string{"type"}),
		NACKs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairway_xds_nacks_total",
			Help: "Responses that a node rejected, by resource type.",
		}, []string{"type"}),
		Problems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fairway_problems",
			Help: "Current problems with the input objects, by reason.",
		}, []string{"reason"}),
		RefusedStreams: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairway_xds_refused_streams_total",
			Help: "xDS streams refused, by reason: with PermissionDenied no_identity, unknown_identity, group (a node group the identity may not join), secret (SDS for a non-fleet identity); with ResourceExhausted max_streams (over --max-streams).",
		}, []string{"reason"}),
	}
	m.Registry.MustRegister(m.RefusedStreams)
	m.Registry.MustRegister(
		m.TranslationSeconds, m.Publications, m.Versions, m.Resources, m.Streams, m.Nodes, m.Pushes, m.NACKs, m.Problems,
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(heapLive)), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, r := range []string{"published", "failed"} {
		m.Publications.WithLabelValues(r)
	}
	for _, r := range []string{"no_identity", "unknown_identity", "group", "secret", refusedMaxStreams} {
		m.RefusedStreams.WithLabelValues(r)
	}
	for _, k := range []string{"sotw", "delta"} {
		m.Streams.WithLabelValues(k)
	}
	for k := range translator.NumKinds {
		m.Pushes.WithLabelValues(k.String())
		m.NACKs.WithLabelValues(k.String())
	}
	return m
}

// heapLive adds go_gc_heap_live_bytes, the heap the last GC marked live,
// to the Go collector's default series. It is the figure that shows a
// leak: go_memstats_heap_alloc_bytes also counts what was allocated since
// that GC, garbage included, so it moves with whatever ran just before the
// scrape (a heap profile's own copy of its records, for one).
var heapLive = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)}

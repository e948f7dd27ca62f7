package tests

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fairwayhq/fairway/source/kube"
	"github.com/fairwayhq/fairway/xds"
)

// envoyMetrics are the Envoy statistics the dashboard reads, under the
// names Envoy's /stats/prometheus gives them: "envoy_" and the stat name
// with its tags (listener address, connection manager prefix, cluster
// name, response code class) taken out into labels. From Envoy's
// statistics reference: the HTTP connection manager's, the listener's,
// the cluster's, the server's and the xDS subscription's.
var envoyMetrics = map[string]string{
	"envoy_http_downstream_rq_total":             "counter",   // http.<prefix>.downstream_rq_total
	"envoy_http_downstream_rq_xx":                "counter",   // http.<prefix>.downstream_rq_5xx and the other classes
	"envoy_listener_downstream_cx_active":        "gauge",     // listener.<address>.downstream_cx_active
	"envoy_server_total_connections":             "gauge",     // server.total_connections
	"envoy_cluster_upstream_rq_time":             "histogram", // cluster.<name>.upstream_rq_time, in ms
	"envoy_cluster_upstream_cx_connect_fail":     "counter",   // cluster.<name>.upstream_cx_connect_fail
	"envoy_server_memory_heap_size":              "gauge",     // server.memory_heap_size
	"envoy_server_memory_allocated":              "gauge",     // server.memory_allocated
	"envoy_control_plane_connected_state":        "gauge",     // control_plane.connected_state
	"envoy_listener_manager_lds_update_rejected": "counter",   // listener_manager.lds.update_rejected
	"envoy_cluster_manager_cds_update_rejected":  "counter",   // cluster_manager.cds.update_rejected
}

// recorder collects the names of the metrics registered with it.
type recorder map[string]bool

func (r recorder) Register(c prometheus.Collector) error {
	descs := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(descs); close(descs) }()
	name := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		if m := name.FindStringSubmatch(d.String()); m != nil {
			r[m[1]] = true
		}
	}
	return nil
}
func (r recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		r.Register(c)
	}
}
func (r recorder) Unregister(prometheus.Collector) bool { return false }

// fairwayMetrics are the names fairway exports: every collector of the xDS
// metrics and of the Kubernetes side, and what the registry's Go and
// process collectors gather.
func fairwayMetrics(t *testing.T) recorder {
	t.Helper()
	names := recorder{}
	m := xds.NewMetrics()
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		if c, ok := v.Field(i).Interface().(prometheus.Collector); ok && v.Type().Field(i).Name != "Registry" {
			names.Register(c)
		}
	}
	kube.NewMetrics(names)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		names[f.GetName()] = true
	}
	return names
}

var (
	labelMatchers = regexp.MustCompile(`\{[^}]*\}`)
	groupings     = regexp.MustCompile(`\b(by|without)\s*\([^)]*\)`)
	identifiers   = regexp.MustCompile(`\b[a-z_][a-z0-9_]*\b`)
)

// metricNames are the metric names in a PromQL expression: identifiers
// outside label matchers and groupings, with a metric's prefix.
func metricNames(expr string) []string {
	expr = groupings.ReplaceAllString(labelMatchers.ReplaceAllString(expr, ""), "")
	var names []string
	for _, id := range identifiers.FindAllString(expr, -1) {
		for _, p := range []string{"envoy_", "fairway_", "process_", "go_"} {
			if strings.HasPrefix(id, p) {
				names = append(names, id)
			}
		}
	}
	return names
}

// known says whether name exists: as it is, or as a histogram's series.
func known(name string, fairway recorder) bool {
	if fairway[name] || envoyMetrics[name] == "gauge" || envoyMetrics[name] == "counter" {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && (fairway[base] || envoyMetrics[base] == "histogram") {
			return true
		}
	}
	return false
}

type dashboard struct {
	Title  string `json:"title"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// TestGrafanaDashboard: the dashboard parses, every query names only
// metrics that fairway or Envoy export, and it covers what an operator of
// the edge needs: requests, 5xx, upstream time, connections and xDS state.
func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile("../manifests/grafana/fairway-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	fairway := fairwayMetrics(t)
	used := map[string]bool{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			names := metricNames(q.Expr)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no metric", p.Title, q.Expr)
			}
			for _, n := range names {
				used[n] = true
				if !known(n, fairway) {
					t.Errorf("panel %q: %s is neither fairway's nor a known Envoy metric", p.Title, n)
				}
			}
		}
	}
	for area, anyOf := range map[string][]string{
		"requests":      {"envoy_http_downstream_rq_total"},
		"5xx":           {"envoy_http_downstream_rq_xx"},
		"upstream time": {"envoy_cluster_upstream_rq_time_bucket"},
		"connections":   {"envoy_listener_downstream_cx_active", "envoy_server_total_connections"},
		"xDS state":     {"envoy_control_plane_connected_state", "fairway_xds_nacks_total", "fairway_xds_connected_streams"},
	} {
		if !slices.ContainsFunc(anyOf, func(n string) bool { return used[n] }) {
			t.Errorf("no panel covers %s (one of %v)", area, anyOf)
		}
	}
}

// TestMetricNames: the extraction the dashboard test relies on.
func TestMetricNames(t *testing.T) {
	got := metricNames(`sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name!~"x_y"}[5m])) / fairway_nope`)
	if want := []string{"envoy_cluster_upstream_rq_time_bucket", "fairway_nope"}; !slices.Equal(got, want) {
		t.Errorf("names = %v, want %v", got, want)
	}
	if fw := fairwayMetrics(t); !fw["fairway_xds_nacks_total"] || !fw["fairway_leader"] || fw["fairway_nope"] || known("fairway_nope", fw) {
		t.Errorf("fairway's names are wrong: %v", fw)
	}
}

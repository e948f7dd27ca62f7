package kube

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the Kubernetes side's metrics, registered beside the xDS
// ones.
type Metrics struct {
	Leader       prometheus.Gauge
	StatusWrites *prometheus.CounterVec
	Events       *prometheus.CounterVec
	Requests     *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fairway_leader",
			Help: "1 while this replica is the leader, which writes status and Events.",
		}),
		StatusWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairway_status_writes_total",
			Help: "Status writes to Services, Ingresses and the Gateway API's objects, by kind and result (written; conflict: the object changed since it was cached, and the newer version is compared again; failed).",
		}, []string{"kind", "result"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairway_events_total",
			Help: "Kubernetes Events for Problems, by result: recorded, or limited (held back by the rate limit, retried later).",
		}, []string{"result"}),
	}
	m.Requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fairway_kube_requests_total",
		Help: "Requests to the Kubernetes API server, by verb and resource (with subresource, as in services/status).",
	}, []string{"verb", "resource"})
	reg.MustRegister(m.Leader, m.StatusWrites, m.Events, m.Requests)
	return m
}

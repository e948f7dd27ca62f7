package main

import (
	"fmt"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/fairwayhq/fairway/envoy"
)

// Defaults of the fleet's health and stats listeners, and of the heap size
// at which Envoy's overload actions saturate. The ports are high ones, away
// from the LoadBalancer ports a user is likely to claim on a host-network
// fleet (Envoy Gateway uses the same two). The heap is three quarters of the
// fleet's 2 GiB memory limit (manifests/kubernetes/fleet.yaml): the rest is
// allocator overhead, thread stacks and buffers that are not heap.
const (
	DefaultHealthAddress = "0.0.0.0:19003"
	DefaultStatsAddress  = "0.0.0.0:19001"
	DefaultMaxHeap       = "1536Mi"
)

// addEdgeFlags binds the flags of what a fleet member at the edge needs
// beside its xDS connection: where its admin, health and stats endpoints
// are, and the overload manager's limits. The returned check reads the
// ones that need parsing, once the flags are set.
func addEdgeFlags(f *pflag.FlagSet, c *envoy.BootstrapConfig) func() error {
	var maxHeap string
	f.StringVar(&c.AdminAddress, "admin-address", "127.0.0.1:9901", "Envoy admin interface: host:port, or unix:PATH for a unix socket (mode 0600)")
	f.StringVar(&c.HealthAddress, "health-address", DefaultHealthAddress, "host:port of a listener that serves only GET /ready from the admin, for probes (empty: none)")
	f.StringVar(&c.StatsAddress, "stats-address", DefaultStatsAddress, "host:port of a listener that serves only GET /stats/prometheus from the admin, for scraping (empty: none)")
	f.Int64Var(&c.MaxConnections, "max-connections", DefaultMaxConnections, "global cap on downstream connections (overload manager)")
	f.StringVar(&maxHeap, "max-heap", DefaultMaxHeap, "heap size (bytes, or a quantity such as 1536Mi) at which the overload manager's memory actions saturate; keep it below the container's memory limit")
	return func() error {
		if c.MaxConnections < 1 {
			return fmt.Errorf("--max-connections %d: must be at least 1", c.MaxConnections)
		}
		n, err := parseHeapSize(maxHeap)
		if err != nil {
			return fmt.Errorf("--max-heap %q: %w", maxHeap, err)
		}
		c.MaxHeapBytes = n
		return nil
	}
}

// minHeapSize is the smallest --max-heap that leaves Envoy room to run at
// all before its overload actions saturate.
const minHeapSize = 64 << 20

// parseHeapSize reads --max-heap as a Kubernetes quantity, so that it can
// be written the way the container's memory limit is.
func parseHeapSize(s string) (uint64, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	if q.Value() < minHeapSize {
		return 0, fmt.Errorf("must be at least 64Mi")
	}
	return uint64(q.Value()), nil
}

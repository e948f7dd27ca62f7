package main

import (
	"fmt"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"

	"github.com/fairwayhq/fairway/envoy"
)

// staticListenerPaths maps each static listener's address to the one path
// it routes, failing the test if a listener routes anything but a GET of
// one exact path to the admin cluster, or is subject to the connection cap.
func staticListenerPaths(t *testing.T, b *bootstrapv3.Bootstrap) map[string]string {
	t.Helper()
	paths := map[string]string{}
	for _, l := range b.GetStaticResources().GetListeners() {
		a := l.GetAddress().GetSocketAddress()
		addr := fmt.Sprintf("%s:%d", a.GetAddress(), a.GetPortValue())
		if !l.GetIgnoreGlobalConnLimit() || l.GetStatPrefix() != l.GetName() {
			t.Errorf("listener %s: must be exempt from the connection cap and have its name as stat prefix", l.GetName())
		}
		hcm := &hcmv3.HttpConnectionManager{}
		if len(l.GetFilterChains()) != 1 || len(l.GetFilterChains()[0].GetFilters()) != 1 {
			t.Fatalf("listener %s: want one chain with one filter", l.GetName())
		}
		if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
			t.Fatalf("listener %s: %v", l.GetName(), err)
		}
		vhosts := hcm.GetRouteConfig().GetVirtualHosts()
		if len(vhosts) != 1 || len(vhosts[0].GetRoutes()) != 1 {
			t.Fatalf("listener %s: want one route, got %v", l.GetName(), vhosts)
		}
		r := vhosts[0].GetRoutes()[0]
		h := r.GetMatch().GetHeaders()
		if r.GetMatch().GetPath() == "" || r.GetRoute().GetCluster() != envoy.AdminClusterName ||
			len(h) != 1 || h[0].GetName() != ":method" || h[0].GetStringMatch().GetExact() != "GET" {
			t.Errorf("listener %s: route %v, want GET of one exact path to %s", l.GetName(), r, envoy.AdminClusterName)
		}
		paths[addr] = r.GetMatch().GetPath()
	}
	return paths
}

func adminCluster(b *bootstrapv3.Bootstrap) *clusterv3.Cluster {
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() == envoy.AdminClusterName {
			return c
		}
	}
	return nil
}

// TestBootstrapAdminOnUnixSocket: with unix:PATH the admin listens on a
// socket only its user can open, and the health and stats listeners reach
// it through that same socket.
func TestBootstrapAdminOnUnixSocket(t *testing.T) {
	code, out, stderr := runCLI(t, "bootstrap", "--xds-address", "fairway:18000", "--node-id", "n",
		"--admin-address", "unix:///run/envoy/admin.sock", "--health-address", "10.0.0.1:8002")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b := parseBootstrap(t, out, true)
	pipe := b.GetAdmin().GetAddress().GetPipe()
	if pipe.GetPath() != "/run/envoy/admin.sock" || pipe.GetMode() != 0o600 {
		t.Errorf("admin address = %v, want the socket /run/envoy/admin.sock with mode 0600", b.GetAdmin().GetAddress())
	}
	c := adminCluster(b)
	if c == nil {
		t.Fatal("no admin cluster")
	}
	ep := c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress()
	if ep.GetPipe().GetPath() != "/run/envoy/admin.sock" {
		t.Errorf("admin cluster endpoint = %v, want the admin socket", ep)
	}
	if got := staticListenerPaths(t, b); len(got) != 2 || got["10.0.0.1:8002"] != "/ready" {
		t.Errorf("static listeners = %v, want /ready on 10.0.0.1:8002 and the default stats listener", got)
	}
}

// TestBootstrapNoAdminListeners: with both addresses empty no admin path is
// reachable from the network at all, and no admin cluster is left behind.
func TestBootstrapNoAdminListeners(t *testing.T) {
	code, out, stderr := runCLI(t, "bootstrap", "--xds-address", "fairway:18000", "--node-id", "n", "--health-address=", "--stats-address=")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b := parseBootstrap(t, out, true)
	if n := len(b.GetStaticResources().GetListeners()); n != 0 || adminCluster(b) != nil {
		t.Errorf("%d static listeners, admin cluster %v; want none", n, adminCluster(b))
	}
}

// TestBootstrapOverloadHeapActions: --max-heap sets the heap monitor, and
// the actions follow Envoy's edge guidance in order of cost to clients.
func TestBootstrapOverloadHeapActions(t *testing.T) {
	code, out, stderr := runCLI(t, "bootstrap", "--xds-address", "fairway:18000", "--node-id", "n", "--max-heap", "1Gi")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	om := parseBootstrap(t, out, true).GetOverloadManager()
	heap := &fixedheapv3.FixedHeapConfig{}
	for _, m := range om.GetResourceMonitors() {
		if m.GetName() == "envoy.resource_monitors.fixed_heap" {
			if err := m.GetTypedConfig().UnmarshalTo(heap); err != nil {
				t.Fatal(err)
			}
		}
	}
	if heap.GetMaxHeapSizeBytes() != 1<<30 {
		t.Errorf("max heap = %d, want 1Gi", heap.GetMaxHeapSizeBytes())
	}
	want := map[string]string{
		"envoy.overload_actions.reduce_timeouts":          "scaled 0.85..0.95",
		"envoy.overload_actions.reset_high_memory_stream": "scaled 0.90..0.98",
		"envoy.overload_actions.shrink_heap":              "threshold 0.95",
		"envoy.overload_actions.stop_accepting_requests":  "threshold 0.98",
		"envoy.load_shed_points.tcp_listener_accept":      "threshold 0.98",
	}
	got := map[string]string{}
	for _, a := range om.GetActions() {
		got[a.GetName()] = describeTrigger(t, a.GetName(), a.GetTriggers())
	}
	for _, p := range om.GetLoadshedPoints() {
		got[p.GetName()] = describeTrigger(t, p.GetName(), p.GetTriggers())
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("overload actions\n got %v\nwant %v", got, want)
	}
	timers := &overloadv3.ScaleTimersOverloadActionConfig{}
	if err := om.GetActions()[0].GetTypedConfig().UnmarshalTo(timers); err != nil || len(timers.GetTimerScaleFactors()) != 2 {
		t.Errorf("reduce_timeouts scales %v (%v), want the idle connection and idle stream timers", timers, err)
	}
	if om.GetBufferFactoryConfig().GetMinimumAccountToTrackPowerOfTwo() == 0 {
		t.Error("reset_high_memory_stream needs buffer accounting (buffer_factory_config)")
	}
}

func describeTrigger(t *testing.T, name string, triggers []*overloadv3.Trigger) string {
	t.Helper()
	if len(triggers) != 1 || triggers[0].GetName() != "envoy.resource_monitors.fixed_heap" {
		t.Errorf("%s: triggers %v, want one on the heap", name, triggers)
		return ""
	}
	if s := triggers[0].GetScaled(); s != nil {
		return fmt.Sprintf("scaled %.2f..%.2f", s.GetScalingThreshold(), s.GetSaturationThreshold())
	}
	return fmt.Sprintf("threshold %.2f", triggers[0].GetThreshold().GetValue())
}

// TestBootstrapRegexRuntimeLimit: the runtime lets regexes up to the size
// the translator allows, and keeps the admin layer Envoy has by default.
func TestBootstrapRegexRuntimeLimit(t *testing.T) {
	code, out, stderr := runCLI(t, "bootstrap", "--xds-address", "fairway:18000", "--node-id", "n")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	layers := parseBootstrap(t, out, true).GetLayeredRuntime().GetLayers()
	if len(layers) != 2 || layers[1].GetAdminLayer() == nil {
		t.Fatalf("runtime layers %v, want a static layer and the admin layer", layers)
	}
	fields := layers[0].GetStaticLayer().GetFields()
	for _, key := range []string{"re2.max_program_size.error_level", "re2.max_program_size.warn_level"} {
		if got := fields[key].GetNumberValue(); got != envoy.RegexProgramSizeLimit {
			t.Errorf("%s = %v, want %d", key, got, envoy.RegexProgramSizeLimit)
		}
	}
}

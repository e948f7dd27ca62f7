package tests

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	adsclient "github.com/envoyproxy/go-control-plane/pkg/client/sotw/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// TestInitialFetchInADSOrder: an Envoy's first fetch gets every type, each
// answered as asked in ADS order, with the example's resources, and its ACKs
// show in /debug/nodes.
func TestInitialFetchInADSOrder(t *testing.T) {
	f := startFairway(t, manifestDir(t))
	c := newSotW(t, f.xds, "envoy-0")
	got := c.handshake()
	want := map[string][]string{
		resourcev3.ClusterType:  {"shop/api/8080", "shop/cart/50051/h2c", "shop/postgres/5432", "shop/web/80"},
		resourcev3.EndpointType: nil, // checked below by count
		// The examples' Gateway has a listener of its own on 8080 at
		// these (default) Ingress ports.
		resourcev3.ListenerType: {"gateway/shop/shop/8080", "http", "https", "tcp-5432"},
		resourcev3.RouteType:    {"gateway/shop/shop/8080", "http", "https/api.example.com", "https/shop.example.com"},
		resourcev3.SecretType:   {"shop/shop-tls"},
	}
	for typeURL, resp := range got {
		if resp.GetVersionInfo() == "" {
			t.Errorf("%s: empty version", typeURL)
		}
		if w := want[typeURL]; w != nil {
			if n := resourceNames(t, resp); !slices.Equal(n, w) {
				t.Errorf("%s: resources %v, want %v", typeURL, n, w)
			}
		}
	}
	if n := len(got[resourcev3.EndpointType].GetResources()); n != 4 {
		t.Errorf("endpoints: %d assignments, want 4", n)
	}
	versions := f.snapshot().Versions["envoy"]
	f.waitForStream("ACKs recorded in /debug/nodes", func(s streamInfo) bool {
		return s.NodeID == "envoy-0" && s.Group == "fleet" && s.Stream == "sotw" &&
			s.Acked["cluster"] == versions["cluster"] && s.Acked["endpoint"] == versions["endpoint"] &&
			s.Acked["listener"] == versions["listener"] && s.Acked["route"] == versions["route"] && s.Acked["secret"] == versions["secret"]
	})
}

// resourceNames are the names in a response, whatever the type.
func resourceNames(t *testing.T, resp *discoveryv3.DiscoveryResponse) []string {
	t.Helper()
	var out []string
	for _, a := range resp.GetResources() {
		m, err := a.UnmarshalNew()
		if err != nil {
			t.Fatal(err)
		}
		if cla, ok := m.(*endpointv3.ClusterLoadAssignment); ok {
			out = append(out, cla.GetClusterName())
			continue
		}
		out = append(out, m.(interface{ GetName() string }).GetName())
	}
	slices.Sort(out)
	return out
}

// TestEditsPushOnlyWhatChanged: an Ingress edit reaches a connected Envoy
// within 1 s as RDS alone; an endpoint edit is EDS alone; an edit that
// changes no resource sends nothing.
func TestEditsPushOnlyWhatChanged(t *testing.T) {
	dir := manifestDir(t)
	f := startFairway(t, dir)
	c := newSotW(t, f.xds, "envoy-0")
	got := c.handshake()
	routeNames, _ := listenerRefs(t, got[resourcev3.ListenerType])

	start := time.Now()
	editFile(t, filepath.Join(dir, "shop.yaml"), "      - path: /v1\n", "      - path: /v2\n        pathType: Prefix\n        backend:\n          service: {name: api, port: {number: 8080}}\n      - path: /v1\n")
	resp := c.next(time.Second)
	if took := time.Since(start); resp.GetTypeUrl() != resourcev3.RouteType || took > time.Second {
		t.Fatalf("an Ingress edit brought %s after %v; want RDS within 1s", resp.GetTypeUrl(), took)
	}
	if !strings.Contains(resp.String(), "/v2") {
		t.Error("the new route is not in the RDS response")
	}
	c.ack(resp, routeNames)
	if extra := c.quiet(1500 * time.Millisecond); len(extra) != 0 {
		t.Fatalf("an Ingress edit also pushed %s", typesOf(extra))
	}

	editFile(t, filepath.Join(dir, "endpointslices.yaml"), "10.244.2.22", "10.244.2.99")
	resp = c.next(time.Second)
	if resp.GetTypeUrl() != resourcev3.EndpointType || !strings.Contains(resp.String(), "10.244.2.99") {
		t.Fatalf("an endpoint edit brought %s; want EDS with the new address", resp.GetTypeUrl())
	}
	c.ack(resp, edsNames(t, got[resourcev3.ClusterType]))
	if extra := c.quiet(1500 * time.Millisecond); len(extra) != 0 {
		t.Fatalf("an endpoint edit also pushed %s", typesOf(extra))
	}

	editFile(t, filepath.Join(dir, "shop.yaml"), "# A small shop", "# A small, unchanged shop")
	writeFile(t, filepath.Join(dir, "unrelated.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: shop}\n")
	if extra := c.quiet(1500 * time.Millisecond); len(extra) != 0 {
		t.Fatalf("edits that change no resource pushed %s", typesOf(extra))
	}
}

func typesOf(resps []*discoveryv3.DiscoveryResponse) []string {
	var out []string
	for _, r := range resps {
		out = append(out, r.GetTypeUrl())
	}
	return out
}

// TestNACKIsNotResentInALoop uses go-control-plane's own ADS client: after a
// NACK, at most one response of that type comes in the next 2 s, and the
// NACK shows in /debug/nodes and the metrics. A content change then sends
// the new version.
func TestNACKIsNotResentInALoop(t *testing.T) {
	dir := manifestDir(t)
	f := startFairway(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := adsclient.NewADSClient(ctx, &corev3.Node{Id: "nacker", Cluster: "fleet-test"}, resourcev3.ClusterType)
	if err := client.InitConnect(dial(t, f.xds)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Fetch(); err != nil {
		t.Fatal(err)
	}
	if err := client.Nack("cluster rejected by test"); err != nil {
		t.Fatal(err)
	}
	responses := make(chan error, 10)
	go func() {
		for {
			_, err := client.Fetch()
			responses <- err
			if err != nil {
				return
			}
		}
	}()
	count := 0
	for deadline := time.After(2 * time.Second); ; {
		select {
		case err := <-responses:
			if err != nil {
				t.Fatal(err)
			}
			count++
			continue
		case <-deadline:
		}
		break
	}
	if count > 1 {
		t.Fatalf("%d responses in the 2s after a NACK; want at most 1", count)
	}
	f.waitForStream("the NACK in /debug/nodes", func(s streamInfo) bool {
		return s.NodeID == "nacker" && s.LastNACK != nil && s.LastNACK.Type == "cluster" &&
			s.LastNACK.Message == "cluster rejected by test" && s.LastNACK.Version == f.snapshot().Versions["envoy"]["cluster"]
	})
	if _, metrics := f.get("/metrics"); !strings.Contains(metrics, `fairway_xds_nacks_total{type="cluster"} 1`) {
		t.Error("fairway_xds_nacks_total{type=\"cluster\"} is not 1")
	}
	editFile(t, filepath.Join(dir, "shop.yaml"), "    port: 5432\n", "    port: 5433\n")
	select {
	case err := <-responses:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a content change after the NACK did not send the new version")
	}
}

// TestRestartGivesTheSameVersions: fairway restarted over the same files
// publishes the same versions, and an Envoy that reconnects with them gets
// nothing new.
func TestRestartGivesTheSameVersions(t *testing.T) {
	dir := manifestDir(t)
	first := startFairway(t, dir)
	c := newSotW(t, first.xds, "envoy-0")
	before := c.handshake()
	versions := first.snapshot().Versions
	first.stop()

	second := startFairway(t, dir)
	if got := second.snapshot().Versions; !equalVersions(got, versions) {
		t.Fatalf("versions after restart %v, want %v", got, versions)
	}
	again := newSotW(t, second.xds, "envoy-0")
	clusters := before[resourcev3.ClusterType]
	again.send(resourcev3.ClusterType, nil, clusters.GetVersionInfo(), "", "")
	listeners := before[resourcev3.ListenerType]
	again.send(resourcev3.ListenerType, nil, listeners.GetVersionInfo(), "", "")
	if got := again.quiet(1500 * time.Millisecond); len(got) != 0 {
		t.Fatalf("a reconnecting Envoy with current versions got %s", typesOf(got))
	}
	// The resumed watches still see changes.
	editFile(t, filepath.Join(dir, "shop.yaml"), "    port: 5432\n", "    port: 5433\n")
	seen := map[string]bool{}
	for len(seen) < 2 {
		seen[again.next(2*time.Second).GetTypeUrl()] = true
	}
	if !seen[resourcev3.ClusterType] || !seen[resourcev3.ListenerType] {
		t.Fatalf("after a change the resumed stream got %v, want CDS and LDS", seen)
	}
}

func equalVersions(a, b map[string]map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		for typ, v := range av {
			if b[k][typ] != v {
				return false
			}
		}
	}
	return true
}

// TestBrokenYAMLKeepsTheLastGoodConfig: a file that stops parsing keeps its
// objects; nothing is pushed, and the Problem names the file.
func TestBrokenYAMLKeepsTheLastGoodConfig(t *testing.T) {
	dir := manifestDir(t)
	f := startFairway(t, dir)
	c := newSotW(t, f.xds, "envoy-0")
	c.handshake()
	versions := f.snapshot().Versions
	path := filepath.Join(dir, "shop.yaml")
	editFile(t, path, "kind: Ingress\n", "kind: Ingress\nspec: [unclosed\n")
	if extra := c.quiet(1500 * time.Millisecond); len(extra) != 0 {
		t.Fatalf("a broken file pushed %s", typesOf(extra))
	}
	snap := f.snapshot()
	if !equalVersions(snap.Versions, versions) {
		t.Error("versions changed after a broken edit")
	}
	found := false
	for _, p := range snap.Problems {
		found = found || (p.Kind == "File" && p.Name == path && p.Reason == "InvalidManifest")
	}
	if !found {
		t.Fatalf("no InvalidManifest Problem for %s in %+v", path, snap.Problems)
	}
	editFile(t, path, "kind: Ingress\nspec: [unclosed\n", "kind: Ingress\n")
	editFile(t, path, "      - path: /v1\n", "      - path: /v3\n")
	resp := c.next(2 * time.Second)
	if resp.GetTypeUrl() != resourcev3.RouteType {
		t.Fatalf("after the fix got %s, want RDS", resp.GetTypeUrl())
	}
	rc := unpack(t, resp.GetResources(), func() *routev3.RouteConfiguration { return &routev3.RouteConfiguration{} })
	if !strings.Contains(rc[0].String(), "/v3") {
		t.Error("the fixed file's new route is missing")
	}
}

// TestPerTypeServices: an Envoy configured without ADS fetches each type
// from its own service (here CDS and LDS) and appears in /debug/nodes with
// the stream's type.
func TestPerTypeServices(t *testing.T) {
	f := startFairway(t, manifestDir(t))
	conn := dial(t, f.xds)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node := &corev3.Node{Id: "envoy-no-ads", Cluster: "fleet-test"}
	cds, err := clusterservice.NewClusterDiscoveryServiceClient(conn).StreamClusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cds.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	clusters, err := cds.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got := resourceNames(t, clusters); len(got) != 4 {
		t.Errorf("CDS service sent %v", got)
	}
	lds, err := listenerservice.NewListenerDiscoveryServiceClient(conn).StreamListeners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := lds.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ListenerType}); err != nil {
		t.Fatal(err)
	}
	listeners, err := lds.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got := resourceNames(t, listeners); !slices.Equal(got, []string{"gateway/shop/shop/8080", "http", "https", "tcp-5432"}) {
		t.Errorf("LDS service sent %v", got)
	}
	f.waitForStream("the per-type CDS stream", func(s streamInfo) bool {
		return s.NodeID == "envoy-no-ads" && s.Type == "cluster"
	})
}

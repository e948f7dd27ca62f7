package tests

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
)

// deltaClient speaks incremental ADS on a raw stream.
type deltaClient struct {
	t         *testing.T
	node      *corev3.Node
	stream    discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	responses chan *discoveryv3.DeltaDiscoveryResponse
}

func newDelta(t *testing.T, addr, nodeID string) *deltaClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(dial(t, addr)).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &deltaClient{t: t, node: &corev3.Node{Id: nodeID, Cluster: "fleet-test"}, stream: stream, responses: receive(stream.Recv)}
}

func (c *deltaClient) send(req *discoveryv3.DeltaDiscoveryRequest) {
	c.t.Helper()
	req.Node = c.node
	if err := c.stream.Send(req); err != nil {
		c.t.Fatal(err)
	}
}

func (c *deltaClient) next(within time.Duration) *discoveryv3.DeltaDiscoveryResponse {
	c.t.Helper()
	return nextOf(c.t, c.responses, within)
}

func (c *deltaClient) quiet(d time.Duration) []*discoveryv3.DeltaDiscoveryResponse {
	return quietOf(c.responses, d)
}

// subscribe asks for names of a type (none: wildcard), returns the
// response and ACKs it.
func (c *deltaClient) subscribe(typeURL string, names []string) *discoveryv3.DeltaDiscoveryResponse {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResourceNamesSubscribe: names})
	resp := c.next(5 * time.Second)
	if resp.GetTypeUrl() != typeURL {
		c.t.Fatalf("subscribed to %s, got %s", typeURL, resp.GetTypeUrl())
	}
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: resp.GetNonce()})
	return resp
}

func deltaNames(resp *discoveryv3.DeltaDiscoveryResponse) []string {
	var out []string
	for _, r := range resp.GetResources() {
		out = append(out, r.GetName())
	}
	slices.Sort(out)
	return out
}

// TestDeltaStream: the initial fetch over delta xDS, then an endpoint edit
// sends only the changed assignment, and a NACK is not answered by a resend.
func TestDeltaStream(t *testing.T) {
	dir := manifestDir(t)
	f := startFairway(t, dir)
	c := newDelta(t, f.xds, "envoy-delta")
	clusters := c.subscribe(resourcev3.ClusterType, nil)
	if got := deltaNames(clusters); !slices.Equal(got, []string{"shop/api/8080", "shop/cart/50051/h2c", "shop/postgres/5432", "shop/web/80"}) {
		t.Fatalf("clusters %v", got)
	}
	endpoints := c.subscribe(resourcev3.EndpointType, deltaNames(clusters))
	if len(endpoints.GetResources()) != 4 {
		t.Fatalf("endpoints %v", deltaNames(endpoints))
	}
	listeners := c.subscribe(resourcev3.ListenerType, nil)
	if got := deltaNames(listeners); !slices.Equal(got, []string{"gateway/shop/shop/8080", "http", "https", "tcp-5432"}) {
		t.Fatalf("listeners %v", got)
	}
	c.subscribe(resourcev3.RouteType, []string{"http", "https/api.example.com", "https/shop.example.com"})
	c.subscribe(resourcev3.SecretType, []string{"shop/shop-tls"})

	editFile(t, filepath.Join(dir, "endpointslices.yaml"), "10.244.2.22", "10.244.2.99")
	resp := c.next(time.Second)
	if resp.GetTypeUrl() != resourcev3.EndpointType || !slices.Equal(deltaNames(resp), []string{"shop/api/8080"}) {
		t.Fatalf("an endpoint edit sent %s %v; want only the changed assignment shop/api/8080", resp.GetTypeUrl(), deltaNames(resp))
	}
	if !strings.Contains(resp.String(), "10.244.2.99") {
		t.Error("the new address is missing")
	}
	// Reject it: nothing may come back until the content changes again.
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResponseNonce: resp.GetNonce(),
		ErrorDetail: &status.Status{Code: 3, Message: "endpoint rejected by test"}})
	if extra := c.quiet(2 * time.Second); len(extra) > 1 {
		t.Fatalf("%d delta responses in the 2s after a NACK; want at most 1", len(extra))
	}
	f.waitForStream("the delta NACK in /debug/nodes", func(s streamInfo) bool {
		return s.NodeID == "envoy-delta" && s.Stream == "delta" && s.LastNACK != nil && s.LastNACK.Type == "endpoint" &&
			s.LastNACK.Version == f.snapshot().Versions["envoy"]["endpoint"]
	})
}

// TestDeltaResumeAfterRestart: a delta client that reconnects with the
// versions it has (initial_resource_versions) gets nothing new from a
// restarted fairway.
func TestDeltaResumeAfterRestart(t *testing.T) {
	dir := manifestDir(t)
	first := startFairway(t, dir)
	c := newDelta(t, first.xds, "envoy-delta")
	clusters := c.subscribe(resourcev3.ClusterType, nil)
	have := map[string]string{}
	for _, r := range clusters.GetResources() {
		have[r.GetName()] = r.GetVersion()
	}
	first.stop()
	second := startFairway(t, dir)
	again := newDelta(t, second.xds, "envoy-delta")
	again.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.ClusterType, InitialResourceVersions: have})
	// The protocol answers a wildcard subscription even when nothing
	// changed; that answer must carry nothing.
	for _, resp := range again.quiet(1500 * time.Millisecond) {
		if len(resp.GetResources()) != 0 || len(resp.GetRemovedResources()) != 0 {
			t.Fatalf("a resuming delta client got %v, removed %v", deltaNames(resp), resp.GetRemovedResources())
		}
	}
}

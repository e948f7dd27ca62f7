package xds

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

func counterValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// TestNACKRewritesTheVersion: a SotW NACK's version_info becomes the version
// it rejects, which is what keeps the cache from sending it straight back;
// an ACK records the version; a stale NACK is counted but not rewritten.
func TestNACKRewritesTheVersion(t *testing.T) {
	p := newTestPublisher()
	n := NewNodes(p, hclog.NewNullLogger(), p.metrics)
	node := &corev3.Node{Id: "envoy-1", Cluster: "edge"}
	if err := n.OnStreamOpen(nil, 1, ""); err != nil {
		t.Fatal(err)
	}
	cds := resourcev3.ClusterType
	first := &discoveryv3.DiscoveryRequest{Node: node, TypeUrl: cds}
	_ = n.OnStreamRequest(1, first)
	n.OnStreamResponse(nil, 1, first, &discoveryv3.DiscoveryResponse{TypeUrl: cds, VersionInfo: "v1", Nonce: "1"})
	_ = n.OnStreamRequest(1, &discoveryv3.DiscoveryRequest{Node: node, TypeUrl: cds, VersionInfo: "v1", ResponseNonce: "1"})
	n.OnStreamResponse(nil, 1, first, &discoveryv3.DiscoveryResponse{TypeUrl: cds, VersionInfo: "v2", Nonce: "2"})

	nack := &discoveryv3.DiscoveryRequest{Node: node, TypeUrl: cds, VersionInfo: "v1", ResponseNonce: "2", ErrorDetail: &status.Status{Message: "bad cluster"}}
	_ = n.OnStreamRequest(1, nack)
	if nack.VersionInfo != "v2" {
		t.Errorf("NACK version_info = %q, want the rejected v2", nack.VersionInfo)
	}
	streams := n.Streams()
	if len(streams) != 1 || streams[0].Acked["cluster"] != "v1" || streams[0].LastNACK == nil ||
		streams[0].LastNACK.Version != "v2" || streams[0].LastNACK.Message != "bad cluster" || streams[0].Group != FleetGroup {
		t.Fatalf("streams = %+v", streams)
	}
	stale := &discoveryv3.DiscoveryRequest{Node: node, TypeUrl: cds, VersionInfo: "v1", ResponseNonce: "1", ErrorDetail: &status.Status{Message: "old"}}
	_ = n.OnStreamRequest(1, stale)
	if stale.VersionInfo != "v1" {
		t.Error("a NACK of an unknown or superseded nonce must not be rewritten")
	}
	if got := counterValue(t, p.metrics.NACKs.WithLabelValues("cluster")); got != 2 {
		t.Errorf("nacks = %v, want 2", got)
	}
	n.OnStreamClosed(1, node)
	if len(n.Streams()) != 0 || counterValue(t, p.metrics.Streams.WithLabelValues("sotw")) != 0 {
		t.Error("closed stream still listed")
	}
}

func TestGroups(t *testing.T) {
	meta, _ := structpb.NewStruct(map[string]any{ProxylessMetadataKey: true})
	cases := []struct {
		by   GroupBy
		node *corev3.Node
		want string
	}{
		{GroupByNone, &corev3.Node{Id: "a", Cluster: "edge"}, FleetGroup},
		{GroupByCluster, &corev3.Node{Id: "a", Cluster: "edge"}, "fleet/edge"},
		{GroupByCluster, &corev3.Node{Id: "a"}, FleetGroup},
		{GroupByNone, &corev3.Node{Id: "g", UserAgentName: "gRPC Go"}, ProxylessGroup},
		{GroupByCluster, &corev3.Node{Id: "g", Cluster: "apps", UserAgentName: "gRPC Java"}, "proxyless/apps"},
		{GroupByNone, &corev3.Node{Id: "m", Metadata: meta}, ProxylessGroup},
		{GroupByNone, nil, FleetGroup},
	}
	for _, c := range cases {
		if got := (groups{by: c.by}).ID(c.node); got != c.want {
			t.Errorf("group of %v by %q = %q, want %q", c.node, c.by, got, c.want)
		}
	}
}

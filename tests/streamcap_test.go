package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
)

// TestStreamCapOverMTLS: the stream cap in a real fairway serving over
// mTLS, as the install does, where the cap must know a TLS connection by
// its peer. With --max-streams=1 one fleet Envoy is served; a second one,
// on its own connection, gets RESOURCE_EXHAUSTED naming the flag, and its
// connection is closed so that its retry dials again (behind the Service,
// possibly another replica); the first stays connected and served, and
// /metrics counts the refusal.
func TestStreamCapOverMTLS(t *testing.T) {
	f := startMTLSFairway(t, "--max-streams=1")
	held := f.dialAs(t, fleetID)
	first := sotwAs(t, held, envoyNode("edge-0", "edge-a"))
	first.send(resourcev3.ClusterType, nil, "", "", "")
	first.ack(first.next(5*time.Second), nil)

	refusedConn := f.dialAs(t, fleetID)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	second, err := discoveryv3.NewAggregatedDiscoveryServiceClient(refusedConn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = second.Send(&discoveryv3.DiscoveryRequest{Node: envoyNode("edge-1", "edge-a"), TypeUrl: resourcev3.ClusterType})
	_, err = second.Recv()
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "--max-streams") {
		t.Fatalf("a second Envoy over --max-streams=1: %v, want ResourceExhausted naming --max-streams", err)
	}
	for s := refusedConn.GetState(); s == connectivity.Ready; s = refusedConn.GetState() {
		if !refusedConn.WaitForStateChange(ctx, s) {
			t.Fatal("the refused Envoy's connection is still open")
		}
	}
	if s := held.GetState(); s != connectivity.Ready {
		t.Errorf("the served Envoy's connection: %v, want Ready", s)
	}
	if m := f.metricsText(t); !strings.Contains(m, `fairway_xds_refused_streams_total{reason="max_streams"} 1`) {
		t.Errorf("the refusal is not counted:\n%s", grepLines(m, "fairway_xds_refused_streams_total"))
	}
	if nodes := f.nodes(); len(nodes) != 1 {
		t.Errorf("/debug/nodes lists %d streams, want only the served Envoy's", len(nodes))
	}
}

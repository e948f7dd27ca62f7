package xds

import (
	"context"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func startServer(t *testing.T, cfg ServerConfig) (*Publisher, *Server, chan struct{}) {
	t.Helper()
	p := newTestPublisher()
	nodes := NewNodes(p, hclog.NewNullLogger(), p.metrics)
	cfg.Address = "127.0.0.1:0"
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := NewServer(ctx, cfg, p, nodes, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ready) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return p, srv, ready
}

// fetchClusters opens an ADS stream on conn and waits up to d for the
// clusters.
func fetchClusters(conn *grpc.ClientConn, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "n"}, TypeUrl: resourcev3.ClusterType}); err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}

func dialServer(t *testing.T, srv *Server) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(srv.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestServerWaitsForTheFirstSnapshot: xDS is not served until the
// publisher says the first snapshot exists (even if the cache already has
// one); a client that connects early is answered once it does.
func TestServerWaitsForTheFirstSnapshot(t *testing.T) {
	p, srv, ready := startServer(t, ServerConfig{MaxConcurrentStreams: DefaultMaxConcurrentStreams})
	if err := p.Publish(output(t, shop)); err != nil {
		t.Fatal(err)
	}
	conn := dialServer(t, srv)
	if err := fetchClusters(conn, 300*time.Millisecond); err == nil {
		t.Fatal("xDS answered before it was ready")
	}
	close(ready)
	if err := fetchClusters(conn, 5*time.Second); err != nil {
		t.Fatalf("after the first snapshot: %v", err)
	}
}

// TestServerBoundsStreamsPerConnection: past MaxConcurrentStreams a
// connection's next stream waits.
func TestServerBoundsStreamsPerConnection(t *testing.T) {
	p, srv, ready := startServer(t, ServerConfig{MaxConcurrentStreams: 1})
	if err := p.Publish(output(t, shop)); err != nil {
		t.Fatal(err)
	}
	close(ready)
	conn := dialServer(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "a"}, TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := fetchClusters(conn, 500*time.Millisecond); err == nil {
		t.Fatal("a second stream was served on a connection limited to one")
	}
	cancel() // the first stream ends; the slot frees
	if err := fetchClusters(conn, 5*time.Second); err != nil {
		t.Fatalf("after the first stream ended: %v", err)
	}
}

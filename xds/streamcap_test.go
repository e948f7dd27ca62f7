package xds

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
)

// shopWithAPI is shop plus a LoadBalancer Service: one more cluster.
var shopWithAPI = strings.Replace(shop, "services:\n", `services:
- metadata: {name: api, namespace: shop}
  spec: {type: LoadBalancer, ports: [{port: 9000}]}
`, 1)

// TestMaxStreams: with a cap of 3, SotW and delta streams count together;
// a 4th stream, of either kind, is refused with ResourceExhausted naming
// the cap and the flag, and counted, without ever reaching
// go-control-plane's callbacks; the 3 admitted streams keep being served
// (a change after the refusals reaches each); when one ends, its slot
// frees at once, and a per-type stream takes it and counts as well.
func TestMaxStreams(t *testing.T) {
	p, srv, ready := startServer(t, ServerConfig{MaxConcurrentStreams: DefaultMaxConcurrentStreams, MaxStreams: 3})
	e, _ := engineFor(t, shop)
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	close(ready)
	conn := dialServer(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admitted := make([]*adsStream, 3)
	var firstCtx context.Context
	var closeFirst context.CancelFunc
	for i := range admitted {
		sctx := ctx
		if i == 0 {
			firstCtx, closeFirst = context.WithCancel(ctx)
			sctx = firstCtx
		}
		admitted[i] = openStream(sctx, t, conn, i == 1)
		admitted[i].ack(admitted[i].subscribe(resourcev3.ClusterType, nil))
	}
	awaitWatch(t, p.Cache(), resourcev3.ClusterType)
	refusedSotW := sotwCode(ctx, t, conn)
	refusedDelta := deltaCode(ctx, t, conn)
	for kind, err := range map[string]error{"SotW": refusedSotW, "delta": refusedDelta} {
		checkRefusedOverCap(t, kind, err, 3)
	}
	if got := counterValue(t, p.metrics.RefusedStreams.WithLabelValues("max_streams")); got != 2 {
		t.Errorf(`fairway_xds_refused_streams_total{reason="max_streams"} = %v, want 2`, got)
	}
	// Refused before go-control-plane saw them: Nodes registered only the
	// admitted streams (2 SotW, 1 delta).
	sotw, delta := counterValue(t, p.metrics.Streams.WithLabelValues("sotw")), counterValue(t, p.metrics.Streams.WithLabelValues("delta"))
	if sotw != 2 || delta != 1 {
		t.Errorf("streams registered: %v SotW, %v delta; want 2 and 1, the refused ones never opened", sotw, delta)
	}
	_, withAPI := engineFor(t, shopWithAPI)
	e.Sync(withAPI)
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	for i, s := range admitted {
		if r := s.next(5 * time.Second); !slices.Contains(r.names, "shop/api/9000") {
			t.Errorf("admitted stream %d after the refusals: got %v, want the new cluster shop/api/9000", i, r.names)
		}
	}
	closeFirst()
	waitAdmitted(t, srv, 2)
	if err := perTypeCode(ctx, t, conn); err != nil {
		t.Fatalf("a CDS stream after an ADS stream ended: %v, want it admitted", err)
	}
	// The CDS stream above ended with its context; hold one open to fill
	// the freed slot, and the next ADS stream is refused again.
	waitAdmitted(t, srv, 2)
	cds, err := clusterservice.NewClusterDiscoveryServiceClient(conn).StreamClusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cds.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "cds"}, TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	if _, err := cds.Recv(); err != nil {
		t.Fatalf("a held CDS stream: %v", err)
	}
	checkRefusedOverCap(t, "SotW after a CDS stream took the freed slot", sotwCode(ctx, t, conn), 3)
}

// waitAdmitted waits until the server has seen streams end, down to n
// open: a client's cancel reaches it a moment later.
func waitAdmitted(t *testing.T, srv *Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); srv.streams.admitted() > n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %d streams 5 s after some ended, want %d", srv.streams.admitted(), n)
		}
	}
}

func checkRefusedOverCap(t *testing.T, what string, err error, cap int) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "--max-streams") || !strings.Contains(st.Message(), fmt.Sprintf("maximum of %d ", cap)) {
		t.Errorf("%s stream over a cap of %d: %v, want ResourceExhausted naming the cap and --max-streams", what, cap, err)
	}
}

// sotwCode opens an ADS SotW stream, asks for clusters and returns the
// error of its first receive (nil: it was served).
func sotwCode(ctx context.Context, t *testing.T, conn *grpc.ClientConn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	if err := s.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "over"}, TypeUrl: resourcev3.ClusterType}); err != nil {
		_, err = s.Recv() // a send fails once the stream is ended; the status is on Recv
		return err
	}
	_, err = s.Recv()
	return err
}

func deltaCode(ctx context.Context, t *testing.T, conn *grpc.ClientConn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		return err
	}
	if err := s.Send(&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "over"}, TypeUrl: resourcev3.ClusterType}); err != nil {
		_, err = s.Recv()
		return err
	}
	_, err = s.Recv()
	return err
}

func perTypeCode(ctx context.Context, t *testing.T, conn *grpc.ClientConn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := clusterservice.NewClusterDiscoveryServiceClient(conn).StreamClusters(ctx)
	if err != nil {
		return err
	}
	if err := s.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "cds"}, TypeUrl: resourcev3.ClusterType}); err != nil {
		_, err = s.Recv()
		return err
	}
	_, err = s.Recv()
	return err
}

// TestMaxStreamsLogsABurstOnce: refusals are counted one by one but logged
// once per minute at most, with the count since the last line.
func TestMaxStreamsLogsABurstOnce(t *testing.T) {
	var buf bytes.Buffer
	m := NewMetrics()
	c := newStreamCap(1, hclog.New(&hclog.LoggerOptions{Output: &buf}), m)
	now := time.Unix(1_000_000, 0)
	c.now = func() time.Time { return now }
	if !ok(c.acquire("", "/ads")) {
		t.Fatal("the first stream was refused under a cap of 1")
	}
	for range 5 {
		if ok(c.acquire("", "/ads")) {
			t.Fatal("a stream over the cap was admitted")
		}
	}
	now = now.Add(refusalLogEvery)
	for range 3 {
		c.acquire("", "/ads")
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "refused_since_last_log=1") || !strings.Contains(lines[1], "refused_since_last_log=5") {
		t.Errorf("log after 5 refusals, a minute, 3 more: %q, want two lines, counting 1 then the 5 since it (4 + the first of the next minute)", lines)
	}
	if got := counterValue(t, m.RefusedStreams.WithLabelValues("max_streams")); got != 8 {
		t.Errorf("refused counter = %v, want 8", got)
	}
	c.release(nil)
	if !ok(c.acquire("", "/ads")) {
		t.Error("a stream after the only one ended was refused")
	}
}

// TestMaxStreamsClosesARefusedConnection: a connection whose only stream
// was refused is closed, so that the client dials again (behind a Service,
// possibly to another replica); a connection that holds an admitted stream
// stays, and its stream is still served.
func TestMaxStreamsClosesARefusedConnection(t *testing.T) {
	p, srv, ready := startServer(t, ServerConfig{MaxConcurrentStreams: DefaultMaxConcurrentStreams, MaxStreams: 1})
	e, _ := engineFor(t, shop)
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	close(ready)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	holder, refusedConn := dialServer(t, srv), dialServer(t, srv)
	held := openStream(ctx, t, holder, false)
	held.ack(held.subscribe(resourcev3.ClusterType, nil))
	awaitWatch(t, p.Cache(), resourcev3.ClusterType)
	checkRefusedOverCap(t, "SotW on a second connection", sotwCode(ctx, t, refusedConn), 1)
	waitCtx, stop := context.WithTimeout(ctx, 5*time.Second)
	defer stop()
	for s := refusedConn.GetState(); s == connectivity.Ready; s = refusedConn.GetState() {
		if !refusedConn.WaitForStateChange(waitCtx, s) {
			t.Fatal("the connection whose only stream was refused is still open after 5 s")
		}
	}
	if s := holder.GetState(); s != connectivity.Ready {
		t.Errorf("the connection holding the admitted stream: %v, want it still Ready", s)
	}
	_, withAPI := engineFor(t, shopWithAPI)
	e.Sync(withAPI)
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	if r := held.next(5 * time.Second); !slices.Contains(r.names, "shop/api/9000") {
		t.Errorf("the admitted stream after the refusal: got %v, want the new cluster", r.names)
	}
}

// ok is acquire's admission, without its connection.
func ok(_ *cappedConn, admitted bool) bool { return admitted }

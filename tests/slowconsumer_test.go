package tests

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
)

// The slow consumer test's settings.
const (
	// slowBulkEndpoints make one endpoint assignment of about 200 KB,
	// three times the 64 KiB HTTP/2 window the stuck streams allow, so a
	// push to a stream that stops reading blocks in the middle.
	slowBulkEndpoints = 5000
	slowBulkSlices    = 10
	slowEditGap       = 250 * time.Millisecond
	slowBaseEdits     = 20
	slowStuckEdits    = 40
	// slowStuckMeasure and slowBurstFor bound the stuck phase, whatever
	// the edits' latency on a loaded machine: fairway's keepalive closes a
	// connection that has not answered a ping within 40 s, which a stuck
	// one cannot.
	slowStuckMeasure = 10 * time.Second
	slowBurstFor     = 12 * time.Second
	// slowLatencySlack is the bound on pushes to the other streams while
	// one is stuck: p99 within max(3 x the baseline p99, baseline + 200 ms).
	slowLatencyFactor = 3
	slowLatencySlack  = 200 * time.Millisecond
)

// TestSlowConsumer: a SotW and a delta stream stop reading (their
// connections stop reading the socket, so the HTTP/2 window and then TCP
// fill) while endpoint and route edits go on. Pushes to the other streams
// keep their usual latency, fairway holds at most one pending response
// per type for a stuck stream, and a stream that reads again gets that
// one and then the latest version, never every version in between.
func TestSlowConsumer(t *testing.T) {
	if testing.Short() {
		t.Skip("the slow consumer test makes 60 edits a quarter second apart")
	}
	dir := manifestDir(t)
	writeBulk(t, dir, 0)
	writeSlowIngress(t, dir, 0)
	f := startFairway(t, dir)
	normal := openResident(t, f.xds, 3, 3)
	stuck, pausers := openPausable(t, f.xds)

	var edit int
	doEdits := func(n int, budget time.Duration) []time.Duration {
		var latencies []time.Duration
		for end := time.Now().Add(budget); n > 0 && time.Now().Before(end); n-- {
			edit++
			typeURL, t0 := slowEdit(t, dir, edit)
			latencies = append(latencies, pushLatencies(t, normal, typeURL, t0)...)
			time.Sleep(slowEditGap)
		}
		return latencies
	}
	base := p99(doEdits(slowBaseEdits, time.Minute))
	heapBefore := f.settledUsage(t, nil).heap
	for _, p := range pausers {
		p.pause()
	}
	stuckLat := p99(doEdits(slowStuckEdits, slowStuckMeasure))
	// Then a burst of endpoint edits alone, each a new version of the
	// bulk assignment.
	published := `fairway_snapshot_publications_total{result="published"}`
	published0 := f.metric(published)
	for end := time.Now().Add(slowBurstFor); time.Now().Before(end); {
		edit++
		writeBulk(t, dir, edit)
		time.Sleep(slowEditGap)
	}
	heapStuck := f.settledUsage(t, nil).heap
	versions := f.metric(published) - published0
	bound := max(slowLatencyFactor*base, base+slowLatencySlack)
	t.Logf("slow consumer: push p99 to the 6 other streams %v before, %v with 2 streams stuck (bound %v); fairway heap %.1f MiB before, %.1f MiB after %.0f more versions with them stuck",
		base, stuckLat, bound, heapBefore/(1<<20), heapStuck/(1<<20), versions)
	if stuckLat > bound {
		t.Errorf("push p99 with stuck streams %v exceeds the bound %v", stuckLat, bound)
	}
	// Holding every version would hold, per stuck stream, each version of
	// the bulk assignment published while it was stuck (at least once:
	// an encoded response keeps its own copy): the heap must grow by
	// less. One pending response per stream measured about 1 MiB.
	bulk := float64(len(normal[0].state().held[resourcev3.EndpointType]["shop/bulk/9000"].value))
	if limit := float64(len(stuck)) * versions * bulk; bulk == 0 || versions < 10 || heapStuck-heapBefore > limit {
		t.Errorf("fairway's heap grew by %.0f KB while 2 streams were stuck over %.0f versions (limit %.0f KB: every version of the %.0f KB assignment for each)",
			(heapStuck-heapBefore)/1e3, versions, limit/1e3, bulk/1e3)
	}

	resumed := time.Now()
	for _, p := range pausers {
		p.resume()
	}
	time.Sleep(3 * time.Second)
	checkFinalVersions(t, f, append(slices.Clone(normal), stuck...))
	t.Logf("slow consumer: fairway heap %.1f MiB once the stuck streams read again", f.settledUsage(t, nil).heap/(1<<20))
	for _, s := range stuck {
		got := map[string][]string{}
		for _, r := range s.since(resumed) {
			got[r.typeURL] = append(got[r.typeURL], r.version)
		}
		if err := s.failure(); err != nil {
			t.Errorf("stuck %s stream ended: %v", streamKind(s), err)
		}
		t.Logf("stuck %s stream after resuming: %d endpoint and %d route responses", streamKind(s), len(got[resourcev3.EndpointType]), len(got[resourcev3.RouteType]))
		for typeURL, versions := range got {
			if len(versions) > 2 {
				t.Errorf("stuck %s stream got %d %s responses after resuming (%v): want at most the one pending and the latest", streamKind(s), len(versions), typeURL, versions)
			}
		}
		for _, typeURL := range []string{resourcev3.EndpointType, resourcev3.RouteType} {
			if len(got[typeURL]) == 0 {
				t.Errorf("stuck %s stream got no %s after resuming", streamKind(s), typeURL)
			}
		}
	}
}

func streamKind(s *faultStream) string {
	if s.delta {
		return "delta"
	}
	return "SotW"
}

// slowEdit makes the n-th edit: odd ones move an endpoint of the bulk
// Service (EDS), even ones a path of an Ingress (RDS). It returns the type
// that changes and when the file was written.
func slowEdit(t *testing.T, dir string, n int) (string, time.Time) {
	t.Helper()
	t0 := time.Now()
	if n%2 == 1 {
		writeBulk(t, dir, n)
		return resourcev3.EndpointType, t0
	}
	writeSlowIngress(t, dir, n)
	return resourcev3.RouteType, t0
}

// writeBulk writes a LoadBalancer Service with slowBulkEndpoints ready
// endpoints in slowBulkSlices slices; gen moves the first one.
func writeBulk(t *testing.T, dir string, gen int) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`apiVersion: v1
kind: Service
metadata: {name: bulk, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  type: LoadBalancer
  ports: [{name: tcp, port: 9000, targetPort: 9000, protocol: TCP}]
`)
	per := slowBulkEndpoints / slowBulkSlices
	for s := range slowBulkSlices {
		fmt.Fprintf(&b, `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: bulk-%d, namespace: shop, labels: {kubernetes.io/service-name: bulk}}
addressType: IPv4
ports: [{name: tcp, port: 9000, protocol: TCP}]
endpoints:
`, s)
		for i := range per {
			addr := fmt.Sprintf("10.%d.%d.%d", 100+s, i/250, i%250+1)
			if s == 0 && i == 0 {
				addr = fmt.Sprintf("10.99.%d.%d", gen/250, gen%250+1)
			}
			fmt.Fprintf(&b, "- {addresses: [%s], conditions: {ready: true}}\n", addr)
		}
	}
	writeFile(t, filepath.Join(dir, "bulk.yaml"), b.String())
}

// writeSlowIngress writes an Ingress whose path gen names.
func writeSlowIngress(t *testing.T, dir string, gen int) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "slow-ingress.yaml"), fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: slow, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  ingressClassName: fairway
  rules:
  - host: slow.example.com
    http:
      paths:
      - {path: /v%d, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`, gen))
}

// pushLatencies waits until each stream has had a response of typeURL
// after t0, and returns how long after t0 each came.
func pushLatencies(t *testing.T, streams []*faultStream, typeURL string, t0 time.Time) []time.Duration {
	t.Helper()
	deadline := t0.Add(10 * time.Second)
	var out []time.Duration
	for _, s := range streams {
		for {
			i := slices.IndexFunc(s.since(t0), func(r received) bool { return r.typeURL == typeURL })
			if i >= 0 {
				out = append(out, s.since(t0)[i].at.Sub(t0))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("stream %s got no %s within 10 s of an edit", s.node.GetId(), typeURL)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return out
}

func p99(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[min(len(ds)-1, len(ds)*99/100)]
}

// openPausable opens a SotW and a delta stream whose connections can stop
// reading. Their windows are fixed at 64 KiB (no BDP growth), as small as
// HTTP/2 starts, so that fairway's writes block soon after they stop.
func openPausable(t *testing.T, addr string) ([]*faultStream, []*pausableConn) {
	t.Helper()
	var streams []*faultStream
	var conns []*pausableConn
	for i, delta := range []bool{false, true} {
		pc := &pausableConn{}
		pc.cond = sync.NewCond(&pc.mu)
		dialer := func(ctx context.Context, a string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", a)
			if err != nil {
				return nil, err
			}
			pc.Conn = c
			return pc, nil
		}
		conn, err := dialFault(addr, dialer, grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.resume(); conn.Close() })
		s, err := openFault(conn, delta, fmt.Sprint("stuck-", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		streams, conns = append(streams, s), append(conns, pc)
	}
	if err := waitSynced(streams, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return streams, conns
}

// pausableConn is a client connection that stops reading its socket while
// paused, as an Envoy whose event loop is stuck does.
type pausableConn struct {
	net.Conn
	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
}

func (c *pausableConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	for c.paused {
		c.cond.Wait()
	}
	c.mu.Unlock()
	return c.Conn.Read(b)
}

func (c *pausableConn) pause() {
	c.mu.Lock()
	c.paused = true
	c.mu.Unlock()
}

func (c *pausableConn) resume() {
	c.mu.Lock()
	c.paused = false
	c.cond.Broadcast()
	c.mu.Unlock()
}

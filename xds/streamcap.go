package xds

import (
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultMaxStreams is the xDS streams one replica holds by default. At
// the large workload (10k Services, 10k Ingresses) the README's Sizing
// measured about 300 MiB of base plus 2.3 MiB per stream: 300 streams keep
// a replica near 1 GiB (992 MiB steady, 1.3 GiB while all of them fetch at
// once), where 1,000 took 2.6 GiB. See README "Sizing".
const DefaultMaxStreams = 300

// refusalLogEvery bounds how often a run of refusals is logged: a fleet
// retrying against a full replica would otherwise log a line per retry.
const refusalLogEvery = time.Minute

// streamCap holds a replica to at most max open xDS streams, SotW, delta
// and per-type together. It refuses in a gRPC interceptor, before
// go-control-plane's handler runs, so a refused stream opens no watch and
// registers nothing in Nodes: the cap bounds per-stream state, which is
// what grows a replica's memory. Envoy retries a refused stream with
// backoff; behind the Service a new connection may land on another replica.
type streamCap struct {
	max     int // 0: no cap
	log     hclog.Logger
	refused prometheus.Counter
	now     func() time.Time

	mu   sync.Mutex
	open int
	// unlogged counts the refusals since the last log line, written at
	// loggedAt: a burst of refusals is one line, and a fleet that keeps
	// retrying against a full replica one line a minute.
	unlogged int
	loggedAt time.Time
}

func newStreamCap(max int, log hclog.Logger, m *Metrics) *streamCap {
	return &streamCap{max: max, log: log, refused: m.RefusedStreams.WithLabelValues(refusedMaxStreams), now: time.Now}
}

// refusedMaxStreams is the refused-streams reason of the cap.
const refusedMaxStreams = "max_streams"

// intercept admits a stream under the cap and frees its slot as soon as
// the handler returns, whether the client or the server ended it.
func (c *streamCap) intercept(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if !c.acquire(info.FullMethod) {
		return status.Errorf(codes.ResourceExhausted,
			"fairway: this replica holds its maximum of %d xDS streams (--max-streams); retry, or connect to another replica", c.max)
	}
	defer c.release()
	return handler(srv, ss)
}

func (c *streamCap) acquire(method string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.max <= 0 || c.open < c.max {
		c.open++
		return true
	}
	c.refused.Inc()
	c.unlogged++
	if now := c.now(); c.loggedAt.IsZero() || now.Sub(c.loggedAt) >= refusalLogEvery {
		c.log.Warn("refusing xDS streams over the cap: add replicas, or raise --max-streams if memory allows",
			"max_streams", c.max, "method", method, "refused_since_last_log", c.unlogged)
		c.loggedAt, c.unlogged = now, 0
	}
	return false
}

func (c *streamCap) release() {
	c.mu.Lock()
	c.open--
	c.mu.Unlock()
}

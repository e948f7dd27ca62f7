package xds

import (
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
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

// refusedConnCloseAfter is how long a connection that holds no admitted
// stream stays open after a refusal: long enough for the status to be
// written. Envoy's retries back off from 500 ms, jittered, so most come
// after the close and dial again.
const refusedConnCloseAfter = 200 * time.Millisecond

// refusedMaxStreams is the refused-streams reason of the cap.
const refusedMaxStreams = "max_streams"

// streamCap holds a replica to at most max open xDS streams, SotW, delta
// and per-type together. It refuses in a gRPC interceptor, before
// go-control-plane's handler runs, so a refused stream opens no watch and
// registers nothing in Nodes: the cap bounds per-stream state, which is
// what grows a replica's memory.
//
// A client retries a refused stream on the connection it has, which would
// reach this replica again for as long as the connection lives. So a
// connection that holds no admitted stream is closed shortly after a
// refusal: the client dials again, and behind a Service the new connection
// may land on another replica. A connection that carries admitted streams
// (a gRPC client's several targets) is never closed for a refusal.
type streamCap struct {
	max     int
	log     hclog.Logger
	refused prometheus.Counter
	now     func() time.Time

	mu    sync.Mutex
	open  int
	conns map[string]*cappedConn // by remote address
	// unlogged counts the refusals since the last log line, written at
	// loggedAt: a burst of refusals is one line, and a fleet that keeps
	// retrying against a full replica one line a minute.
	unlogged int
	loggedAt time.Time
}

func newStreamCap(max int, log hclog.Logger, m *Metrics) *streamCap {
	return &streamCap{
		max: max, log: log, refused: m.RefusedStreams.WithLabelValues(refusedMaxStreams), now: time.Now,
		conns: map[string]*cappedConn{},
	}
}

// intercept admits a stream under the cap and frees its slot as soon as
// the handler returns, whether the client or the server ended it.
func (c *streamCap) intercept(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	var from string
	if p, ok := peer.FromContext(ss.Context()); ok && p.Addr != nil {
		from = p.Addr.String()
	}
	conn, ok := c.acquire(from, info.FullMethod)
	if !ok {
		return status.Errorf(codes.ResourceExhausted,
			"fairway: this replica holds its maximum of %d xDS streams (--max-streams); retry, or connect to another replica", c.max)
	}
	defer c.release(conn)
	return handler(srv, ss)
}

// acquire takes a slot for a stream from the peer address from, and
// returns the connection it is on (nil when unknown), for release.
func (c *streamCap) acquire(from, method string) (*cappedConn, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	conn := c.conns[from]
	if c.open < c.max {
		c.open++
		if conn != nil {
			conn.admitted++
		}
		return conn, true
	}
	c.refused.Inc()
	c.unlogged++
	if now := c.now(); c.loggedAt.IsZero() || now.Sub(c.loggedAt) >= refusalLogEvery {
		c.log.Warn("refusing xDS streams over the cap: add replicas, or raise --max-streams if memory allows",
			"max_streams", c.max, "method", method, "refused_since_last_log", c.unlogged)
		c.loggedAt, c.unlogged = now, 0
	}
	if conn != nil && conn.admitted == 0 && !conn.closing {
		conn.closing = true
		time.AfterFunc(refusedConnCloseAfter, func() { c.closeIfIdle(conn) })
	}
	return nil, false
}

// release frees a stream's slot. It counts on the connection the stream
// was admitted on, not on whatever holds that address now.
func (c *streamCap) release(conn *cappedConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open--
	if conn != nil {
		conn.admitted--
	}
}

// admitted is the number of open streams.
func (c *streamCap) admitted() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

// closeIfIdle closes a refused client's connection unless a stream was
// admitted on it meanwhile.
func (c *streamCap) closeIfIdle(conn *cappedConn) {
	c.mu.Lock()
	idle := conn.admitted == 0
	conn.closing = false
	c.mu.Unlock()
	if idle {
		conn.Close()
	}
}

// listen wraps the server's listener so that the cap knows each
// connection by the address that gRPC reports as the stream's peer.
func (c *streamCap) listen(l net.Listener) net.Listener { return &capListener{Listener: l, cap: c} }

type capListener struct {
	net.Listener
	cap *streamCap
}

func (l *capListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &cappedConn{Conn: conn, cap: l.cap, from: conn.RemoteAddr().String()}
	l.cap.mu.Lock()
	l.cap.conns[cc.from] = cc
	l.cap.mu.Unlock()
	return cc, nil
}

// cappedConn is a connection with its count of admitted streams.
type cappedConn struct {
	net.Conn
	cap      *streamCap
	from     string
	once     sync.Once
	admitted int  // under cap.mu
	closing  bool // a close is scheduled; under cap.mu
}

func (cc *cappedConn) Close() error {
	cc.once.Do(func() {
		cc.cap.mu.Lock()
		if cc.cap.conns[cc.from] == cc {
			delete(cc.cap.conns, cc.from)
		}
		cc.cap.mu.Unlock()
	})
	return cc.Conn.Close()
}

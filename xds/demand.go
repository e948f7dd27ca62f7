package xds

import (
	"slices"
	"time"

	"github.com/fairwayhq/fairway/translator"
)

// DefaultProxylessGrace is how long a proxyless name stays built after the
// last stream that asked for it went: longer than gRPC's longest reconnect
// backoff (120 s), so that a client that reconnects, or a rolling restart
// of its Deployment, finds its resources still there and never waits for
// them twice; short enough that names asked for once (a job that ran, a
// Service a client stopped dialing) do not stay for the process's life.
const DefaultProxylessGrace = 5 * time.Minute

// demandTracker is the cache's side of proxyless resources on demand: the
// names proxyless streams subscribe to, when each was last seen asked
// for, and the new ones the loop has yet to build. Only the proxyless
// view's listeners, clusters and endpoint assignments are tracked: those
// are what a client names first (its targets), and then what they name.
type demandTracker struct {
	seen map[string]time.Time
	// pending are names handed to the loop and not yet built; a watch
	// that names one waits for them instead of answering "does not
	// exist", which grpc-go would take as final for its listener.
	pending map[string]bool
	queue   []string
	signal  chan struct{}
}

// demandKinds are the types whose names a proxyless stream asks for.
var demandKinds = [translator.NumKinds]bool{translator.KindListener: true, translator.KindCluster: true, translator.KindEndpoint: true}

// TrackDemand turns on demand tracking and returns the channel that
// signals new names (TakeDemands). The loop calls it before the first
// round, when it builds proxyless resources on demand; without it a
// subscription to a name that is not built is answered at once.
func (c *Cache) TrackDemand() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.demand == nil {
		c.demand = &demandTracker{seen: map[string]time.Time{}, pending: map[string]bool{}, signal: make(chan struct{}, 1)}
	}
	return c.demand.signal
}

// noteDemand records the names a proxyless watch subscribes to, queues
// the new ones for the loop, and reports whether the watch must wait for
// them. The caller holds the cache's lock.
func (c *Cache) noteDemand(v *view, ts *typeState, names map[string]struct{}) bool {
	d := c.demand
	if d == nil || v != c.views[proxylessView] || !demandKinds[ts.kind] {
		return false
	}
	now, queued, held := c.now(), false, false
	for name := range names {
		if _, known := d.seen[name]; !known {
			d.pending[name] = true
			d.queue = append(d.queue, name)
			queued = true
		}
		d.seen[name] = now
		held = held || d.pending[name]
	}
	if queued {
		select {
		case d.signal <- struct{}{}:
		default: // already signalled
		}
	}
	return held
}

// waits reports whether a watch of names waits for a pending demand.
func (d *demandTracker) waits(names map[string]struct{}) bool {
	for name := range names {
		if d.pending[name] {
			return true
		}
	}
	return false
}

// TakeDemands returns the names that proxyless streams asked for since the
// last call and that were never asked for before (or were released since).
func (c *Cache) TakeDemands() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.demand == nil {
		return nil
	}
	names := c.demand.queue
	c.demand.queue = nil
	slices.Sort(names)
	return names
}

// Settle marks names as built (or as naming nothing) after the round that
// took them published, and answers the watches that waited for them with
// what there is now.
func (c *Cache) Settle(names []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.demand
	if d == nil || len(names) == 0 {
		return
	}
	for _, name := range names {
		delete(d.pending, name)
	}
	v := c.views[proxylessView]
	defer v.sweepIfDue(c.now)
	for k, ts := range v.types {
		if !demandKinds[k] {
			continue
		}
		for w := range ts.sotw {
			if w.waiting && !d.waits(w.names) {
				w.waiting = false
				if w.respond(v, nil) {
					delete(ts.sotw, w)
				}
			}
		}
		for w := range ts.delta {
			if w.waiting != nil && !d.waits(w.sent.subscribed) {
				names := w.waiting
				w.waiting = nil
				if w.respond(v, slices.Values(names), w.first) {
					delete(ts.delta, w)
				}
			}
		}
	}
}

// Unwanted returns, and forgets, the names that no open proxyless watch
// subscribes to and that no stream asked for within grace: the loop
// releases them. A stream between a response and its next request has no
// open watch for a moment; grace covers that and reconnections.
func (c *Cache) Unwanted(grace time.Duration) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.demand
	if d == nil {
		return nil
	}
	now := c.now()
	v := c.views[proxylessView]
	for k, ts := range v.types {
		if !demandKinds[k] {
			continue
		}
		for w := range ts.sotw {
			d.markSeen(w.names, now)
		}
		for w := range ts.delta {
			d.markSeen(w.sent.subscribed, now)
		}
	}
	var gone []string
	for name, at := range d.seen {
		if !d.pending[name] && now.Sub(at) >= grace {
			gone = append(gone, name)
			delete(d.seen, name)
		}
	}
	slices.Sort(gone)
	return gone
}

func (d *demandTracker) markSeen(names map[string]struct{}, now time.Time) {
	for name := range names {
		if _, known := d.seen[name]; known {
			d.seen[name] = now
		}
	}
}

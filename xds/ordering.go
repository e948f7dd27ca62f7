package xds

import (
	"slices"
	"time"

	"github.com/fairwayhq/fairway/translator"
)

// Make-before-break, as Envoy's xDS protocol asks of a management server:
// what a change adds or updates goes out clusters first, then endpoint
// assignments, secrets, listeners and routes, so that a listener or route
// never reaches a stream before the clusters it names; and what a change
// removes (a cluster, an assignment, a secret, a route table) stays served
// until every stream has accepted listeners and routes that no longer name
// it. Without this, moving an Ingress path from Service A to Service B
// drops A's cluster while Envoy still routes to it, and requests get 503
// until the route table arrives, which at scale takes seconds.
//
// The cache counts rounds (one per Apply that changes a view). Each stream
// that watches listeners or routes is a holder: the cache knows, per
// type, the round as of which the stream's accepted state equals the
// view's. A response is stamped with its round; the stream's ACK (seen by
// Nodes, which knows the nonce) moves the holder to that round. A removal
// made in round r needs only the listeners and routes as they were after
// r, so it waits until every holder has accepted the types' last change at
// or before r. A holder that has not within removalHold (stuck, or
// rejecting every version) stops holding the removal back.

// updateOrder is the order in which a round's additions and updates reach
// the streams: a stream's responses leave on one ordered channel, so a
// cluster arrives before the route that names it.
var updateOrder = [translator.NumKinds]translator.Kind{
	translator.KindCluster, translator.KindEndpoint, translator.KindSecret, translator.KindListener, translator.KindRoute,
}

// removalOrder is the order of a sweep's removals: route tables (no
// longer named by any accepted listener), then clusters, then the
// assignments and secrets that only those named.
var removalOrder = [...]translator.Kind{
	translator.KindRoute, translator.KindCluster, translator.KindEndpoint, translator.KindSecret,
}

// deferred are the kinds whose removals wait for the holders.
var deferred = [translator.NumKinds]bool{
	translator.KindCluster: true, translator.KindEndpoint: true, translator.KindSecret: true, translator.KindRoute: true,
}

// refKinds are the kinds that name other resources, by their index in a
// holder's arrays.
var refKinds = [2]translator.Kind{translator.KindListener, translator.KindRoute}

func refIndex(k translator.Kind) int {
	switch k {
	case translator.KindListener:
		return 0
	case translator.KindRoute:
		return 1
	}
	return -1
}

// removalHold bounds how long one stream can keep removed resources
// served: a stream that has accepted no new listeners or routes by then is
// stuck or rejecting them, and holding every other stream's removals for
// it would grow the config without end.
const removalHold = 2 * time.Minute

// holder is what the cache knows of one stream for ordering.
type holder struct {
	// watching: the stream has asked for listeners / routes.
	watching [2]bool
	// acked is the round as of which the stream's accepted listeners /
	// routes are the view's.
	acked [2]uint64
	// outstanding: a response of the type was handed to the stream and
	// it has not answered yet; rejected: its last answer was a NACK, so
	// what it holds is older than what it was sent.
	outstanding [2]bool
	rejected    [2]bool
	// clusters: the stream has asked for clusters; clusterSeq is the
	// cluster type's seq as of which its clusters are the view's.
	clusters   bool
	clusterSeq uint64
	// held are its listener and route watches that wait for its clusters
	// to catch up.
	held []heldWatch
	// subscribed are, per partial type, the names of its last SotW watch:
	// a request that adds names to them, from a stream up to date on
	// them, is sent the added ones only (sotwWatch.addedSince).
	subscribed [translator.NumKinds]map[string]struct{}
}

// removal is one round's deferred removals: need is, per reference kind,
// the round of the view's last change of that kind up to the removal's.
type removal struct {
	round uint64
	need  [2]uint64
	at    time.Time
}

// ordering is a view's make-before-break state.
type ordering struct {
	round       uint64
	lastChanged [2]uint64
	holders     map[streamKey]*holder
	doomed      [translator.NumKinds]map[string]uint64 // name -> round removed
	pending     []removal
	// sweepDue: a watch found its stream up to date and moved the
	// holder on outside an ACK, so a pending removal may be due; the
	// call that took the lock sweeps before it lets go.
	sweepDue bool
	// stamps are the responses handed out and not yet sent, by request.
	stamps map[any]stamp
}

func newOrdering() *ordering {
	o := &ordering{holders: map[streamKey]*holder{}, stamps: map[any]stamp{}}
	for k := range o.doomed {
		o.doomed[k] = map[string]uint64{}
	}
	return o
}

// stamp ties a response (by its request, which only that response
// carries) to the stream and round it was made for.
type stamp struct {
	key   streamKey
	kind  translator.Kind
	round uint64
}

// bind notes the stream a request came on; Nodes calls it just before the
// server hands the request to the cache.
func (c *Cache) bind(req any, key streamKey) {
	c.mu.Lock()
	c.bound[req] = key
	c.mu.Unlock()
}

// boundStream takes the stream of a request, if Nodes saw it. The caller
// holds the lock.
func (c *Cache) boundStream(req any) (streamKey, bool) {
	key, ok := c.bound[req]
	delete(c.bound, req)
	return key, ok
}

// takeStamp is the round a response was made in, for Nodes to record with
// its nonce; 0 when the response is not tracked.
func (c *Cache) takeStamp(req any) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.views {
		if s, ok := v.order.stamps[req]; ok {
			delete(v.order.stamps, req)
			return s.round
		}
	}
	return 0
}

// answered is a stream's ACK (or NACK) of a response made in round; an
// ACK moves the stream's accepted state to that round.
func (c *Cache) answered(key streamKey, typeURL string, round uint64, ack bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.views {
		if h := v.order.holders[key]; h != nil {
			for i, k := range refKinds {
				if kindURLs[k] != typeURL {
					continue
				}
				h.outstanding[i], h.rejected[i] = false, !ack
				if ack && round > h.acked[i] {
					h.acked[i] = round
				}
			}
		}
		v.sweep(c.now()) // also where removalHold ran out
	}
}

// closed forgets a stream: it holds nothing back any more.
func (c *Cache) closed(key streamKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for req, k := range c.bound {
		if k == key {
			delete(c.bound, req)
		}
	}
	c.sets.closed(key)
	for _, v := range c.views {
		for req, s := range v.order.stamps {
			if s.key == key {
				delete(v.order.stamps, req)
			}
		}
		for k := range translator.NumKinds {
			delete(v.bases, baseKey{key, k})
		}
		if _, ok := v.order.holders[key]; ok {
			delete(v.order.holders, key)
			v.sweep(c.now())
		}
	}
}

// holderFor is the stream's holder, made at its first watch.
func (o *ordering) holderFor(key streamKey) *holder {
	h := o.holders[key]
	if h == nil {
		h = &holder{}
		o.holders[key] = h
	}
	return h
}

// doom defers the removal of names (gone from the translator's set) and
// returns the names of the kind to apply now: those still present, and
// any that were doomed and came back; and whether it deferred any.
func (o *ordering) doom(k translator.Kind, ts *typeState, set *translator.ResourceSet, names []string) ([]string, bool) {
	if !deferred[k] {
		return names, false
	}
	now, doomed := names[:0:0], false
	for _, name := range names {
		if set.Get(k, name) == nil && ts.entries[name] != nil {
			o.doomed[k][name] = o.round
			doomed = true
			continue
		}
		delete(o.doomed[k], name)
		now = append(now, name)
	}
	return now, doomed
}

// settled reports whether every holder has accepted listeners and routes
// at least as new as a removal needs.
func (o *ordering) settled(r removal, now time.Time) bool {
	if now.Sub(r.at) >= removalHold {
		return true
	}
	for _, h := range o.holders {
		for i := range refKinds {
			if h.watching[i] && h.acked[i] < r.need[i] {
				return false
			}
		}
	}
	return true
}

// sweep carries out the pending removals whose holders have all moved
// on. Their needs only grow with the round, so the settled ones are a
// prefix. A removal answers watches, which can move holders on in turn,
// so it sweeps again until nothing more is due.
func (v *view) sweep(now time.Time) {
	o := v.order
	for {
		o.sweepDue = false
		n := 0
		for n < len(o.pending) && o.settled(o.pending[n], now) {
			n++
		}
		if n == 0 {
			return
		}
		upTo := o.pending[n-1].round
		o.pending = slices.Delete(o.pending, 0, n)
		v.removeDoomed(upTo)
	}
}

// sweepIfDue sweeps when a watch moved a holder on since the last sweep.
// Without it, a removal whose last holder caught up by a request that
// needed no response (an Envoy dropping its last route name) waited for
// the next unrelated ACK, or for removalHold.
// It takes the clock, not the time, so that a watch with nothing due
// reads no clock.
func (v *view) sweepIfDue(now func() time.Time) {
	if v.order.sweepDue {
		v.sweep(now())
	}
}

// removeDoomed removes, in removalOrder, the names doomed up to a round.
func (v *view) removeDoomed(upTo uint64) {
	o := v.order
	for _, k := range removalOrder {
		var gone []string
		for name, r := range o.doomed[k] {
			if r <= upTo {
				gone = append(gone, name)
				delete(o.doomed[k], name)
			}
		}
		if len(gone) == 0 {
			continue
		}
		slices.Sort(gone)
		ts := v.types[k]
		ts.remove(gone)
		ts.notify(v, gone)
	}
}

// clustersBehind reports whether a stream's clusters lag the view's: then
// its listeners and routes wait, since they may name clusters it lacks.
func (h *holder) clustersBehind(v *view) bool {
	return h != nil && h.clusters && h.clusterSeq != v.types[translator.KindCluster].seq
}

// heldWatch is a listener or route watch, SotW or delta, that waits for
// its stream's clusters.
type heldWatch interface {
	// release answers the watch if it is still open.
	release(v *view)
}

// holdsBack reports whether a watch of kind k must wait for the stream's
// clusters, and then keeps it to be released when they catch up.
func (h *holder) holdsBack(v *view, k translator.Kind, w heldWatch) bool {
	if refIndex(k) < 0 || !h.clustersBehind(v) {
		return false
	}
	if !slices.Contains(h.held, w) {
		h.held = append(h.held, w)
	}
	return true
}

// releaseHeld answers a holder's listener and route watches that waited
// for its clusters, once they caught up. The caller holds the lock.
func (v *view) releaseHeld(h *holder) {
	if h == nil || h.clustersBehind(v) {
		return
	}
	held := h.held
	h.held = nil
	for _, w := range held {
		w.release(v)
	}
}

func (w *sotwWatch) release(v *view) {
	if _, open := w.ts.sotw[w]; open && w.respond(v, nil) {
		delete(w.ts.sotw, w)
	}
}

func (w *deltaWatch) release(v *view) {
	if _, open := w.ts.delta[w]; open && w.respond(v, w.allCandidates(), w.first) {
		delete(w.ts.delta, w)
	}
}

// upToDate notes that a stream's open watch has, for its names, what the
// view has now (it was sent nothing, as nothing differs).
func (h *holder) upToDate(v *view, k translator.Kind) {
	if h == nil || h.clustersCaughtUp(v, k) {
		return
	}
	if i := refIndex(k); i >= 0 && !h.outstanding[i] && !h.rejected[i] && h.acked[i] < v.order.round {
		h.acked[i] = v.order.round
		v.order.sweepDue = true
	}
}

// clustersCaughtUp notes, for a cluster watch, that the stream's clusters
// are the view's now (sent, or nothing to send), and releases what waited
// for them. It reports whether k was the cluster kind.
func (h *holder) clustersCaughtUp(v *view, k translator.Kind) bool {
	if k != translator.KindCluster {
		return false
	}
	h.clusterSeq = v.types[k].seq
	v.releaseHeld(h)
	return true
}

// sent notes a response handed to the stream, stamped by its request.
func (h *holder) sent(v *view, key streamKey, k translator.Kind, req any) {
	if h == nil || h.clustersCaughtUp(v, k) {
		return
	}
	if i := refIndex(k); i >= 0 {
		h.outstanding[i] = true
		v.order.stamps[req] = stamp{key: key, kind: k, round: v.order.round}
	}
}

// watch registers a stream's watch of a type with its holder.
func (o *ordering) watch(key streamKey, k translator.Kind) *holder {
	h := o.holderFor(key)
	if k == translator.KindCluster {
		h.clusters = true
	}
	if i := refIndex(k); i >= 0 {
		h.watching[i] = true
	}
	return h
}

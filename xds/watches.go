package xds

import (
	"cmp"
	"iter"
	"slices"
	"strconv"

	"github.com/cespare/xxhash/v2"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/fairwayhq/fairway/translator"
)

// sotwWatch is one SotW stream's open request for one type.
type sotwWatch struct {
	req *cachev3.Request
	ch  chan cachev3.Response
	ts  *typeState
	// names is the subscription's name set (nil: every resource of the
	// type). The server makes a new set per request and never changes it,
	// so the watch reads it in place rather than copying ten thousand
	// endpoint names per Envoy.
	names map[string]struct{}
	// fullGen is ts.gen+1 when names were last found to cover every
	// resource; then the watch's version is the type's.
	fullGen uint64
	// nacked: the request rejected the last response, so the stream holds
	// older resources than its version says, and the next response sends
	// everything it asks for, not only what changed.
	nacked bool
	// h is the stream's holder (nil when Nodes did not see the request).
	h   *holder
	key streamKey
	// waiting: it names a proxyless resource being built on demand, and
	// is answered when that is done (Cache.Settle), not before.
	waiting bool
}

// partialTypes are the types whose SotW responses may carry only what
// changed: for them, the xDS protocol says a resource left out is not
// deleted (only listeners and clusters must be sent whole). An Envoy that
// watches ten thousand endpoint assignments gets the one that changed.
var partialTypes = [translator.NumKinds]bool{translator.KindEndpoint: true, translator.KindRoute: true, translator.KindSecret: true}

// CreateWatch answers a SotW request now if the node's version differs
// from what it asks for, or holds it until that changes.
func (c *Cache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.viewFor(req.GetNode())
	defer v.sweepIfDue(c.now)
	ts := typeFor(v, req.GetTypeUrl())
	key, tracked := c.boundStream(req)
	if ts == nil {
		return nil, nil // a type fairway does not serve: never answered
	}
	w := &sotwWatch{req: trimmed(req), ch: ch, ts: ts, nacked: req.GetErrorDetail() != nil, key: key}
	if tracked {
		w.h = v.order.watch(key, ts.kind)
	}
	var added []string
	if !sub.IsWildcard() {
		w.names = c.sets.resolve(sub.SubscribedResources())
		added = w.addedSince()
	}
	w.waiting = c.noteDemand(v, ts, w.names)
	if c.ready && !w.waiting && w.respond(v, added) {
		return nil, nil
	}
	ts.sotw[w] = struct{}{}
	return func() {
		c.mu.Lock()
		delete(ts.sotw, w)
		delete(v.order.stamps, w.req)
		c.mu.Unlock()
	}, nil
}

// addedSince returns the names the watch adds to the stream's last
// subscription of a partial type, when the stream is up to date on that
// subscription (its version is the sum over those names as they are now)
// and did not reject the last response: then the added resources are all
// it lacks. An Envoy whose listener gained a chain asks for the route
// tables again with one name more, and gets that table, not ten thousand.
// Otherwise nil: it gets everything it asks for.
func (w *sotwWatch) addedSince() []string {
	if w.h == nil || !partialTypes[w.ts.kind] {
		return nil
	}
	prev := w.h.subscribed[w.ts.kind]
	w.h.subscribed[w.ts.kind] = w.names
	if prev == nil || w.nacked || len(w.names) <= len(prev) {
		return nil
	}
	var sum uint64
	n := 0
	for name := range prev {
		if _, kept := w.names[name]; !kept {
			return nil
		}
		if e := w.ts.entries[name]; e != nil {
			sum += e.contrib
			n++
		}
	}
	if versionString(sum, n) != w.req.GetVersionInfo() {
		return nil
	}
	added := make([]string, 0, len(w.names)-len(prev))
	for name := range w.names {
		if _, had := prev[name]; !had {
			added = append(added, name)
		}
	}
	return added
}

// respond sends the watch its resources if their version differs from the
// node's: all of them, or, given the names that just changed under an open
// watch (whose node was up to date until then), only those where the type
// allows it. Listeners and routes wait while the stream's clusters lag.
// The caller holds the cache's lock; the server's channel has room for one
// response per type.
func (w *sotwWatch) respond(v *view, changed []string) bool {
	version := w.version()
	if version == w.req.GetVersionInfo() {
		w.h.upToDate(v, w.ts.kind)
		return false
	}
	if w.h.holdsBack(v, w.ts.kind, w) {
		return false
	}
	var resources []*anypb.Any
	if changed != nil && partialTypes[w.ts.kind] && !w.nacked {
		resources = w.only(changed)
	} else {
		resources = w.resources()
	}
	w.ch <- &cachev3.PassthroughResponse{
		Request:           w.req,
		DiscoveryResponse: &discoveryv3.DiscoveryResponse{VersionInfo: version, Resources: resources, TypeUrl: w.ts.url},
	}
	w.h.sent(v, w.key, w.ts.kind, w.req)
	return true
}

// full reports whether the watch asks for every resource of the type.
func (w *sotwWatch) full() bool {
	ts := w.ts
	if w.names == nil || w.fullGen == ts.gen+1 {
		return true
	}
	if len(w.names) != len(ts.entries) {
		return false
	}
	var sum uint64
	for name := range w.names {
		sum += xxhash.Sum64String(name)
	}
	if sum != ts.nameSum {
		return false
	}
	w.fullGen = ts.gen + 1
	return true
}

// version is the type's version for a watch of everything, else the sum
// over the resources it names.
func (w *sotwWatch) version() string {
	if w.full() {
		return w.ts.version
	}
	var sum uint64
	n := 0
	for name := range w.names {
		if e := w.ts.entries[name]; e != nil {
			sum += e.contrib
			n++
		}
	}
	return versionString(sum, n)
}

// resources are all the watch's resources, sorted by name: the type's
// shared list when it asks for everything.
func (w *sotwWatch) resources() []*anypb.Any {
	if w.full() {
		return w.ts.sortedAnys()
	}
	var found []*entry
	for name := range w.names {
		if e := w.ts.entries[name]; e != nil {
			found = append(found, e)
		}
	}
	return sortedAnys(found)
}

// only are the changed resources the watch asks for.
func (w *sotwWatch) only(changed []string) []*anypb.Any {
	var found []*entry
	for _, name := range changed {
		if _, asked := w.names[name]; asked || w.names == nil {
			if e := w.ts.entries[name]; e != nil {
				found = append(found, e)
			}
		}
	}
	return sortedAnys(found)
}

func sortedAnys(found []*entry) []*anypb.Any {
	slices.SortFunc(found, func(a, b *entry) int { return cmp.Compare(a.res.Name, b.res.Name) })
	anys := make([]*anypb.Any, len(found))
	for i, e := range found {
		anys[i] = e.any
	}
	return anys
}

// concerns reports whether a change to names can change what the watch
// gets.
func (w *sotwWatch) concerns(changed []string) bool {
	if w.names == nil || w.fullGen == w.ts.gen+1 {
		return true
	}
	for _, name := range changed {
		if _, ok := w.names[name]; ok {
			return true
		}
	}
	return false
}

// deltaWatch is one delta stream's open request for one type.
type deltaWatch struct {
	req *cachev3.DeltaRequest
	sub cachev3.Subscription
	ch  chan cachev3.DeltaResponse
	ts  *typeState
	// first: a wildcard subscription's first request from a client that
	// holds nothing, answered even with nothing (Envoy's initial fetch
	// waits for it). A client that resumes, naming what it holds in
	// initial_resource_versions, is sent only what differs: after a
	// restart of fairway with the same state, nothing.
	first bool
	h     *holder
	key   streamKey
	// waiting are the names to answer about once the proxyless resources
	// it asked for are built (Cache.Settle); nil when it does not wait.
	waiting []string
	// sent is what the stream has been sent; tracked streams (Nodes saw
	// the request) share a base with the stream's node group.
	sent    *sent
	tracked bool
}

// CreateDeltaWatch sends what the node lacks or has stale, and what it has
// that is gone, now or as soon as there is any.
//
// The stream's map of returned versions (sub.ReturnedResources) is updated
// in place and handed back as the next version map, instead of copied for
// every response. That is safe because the server touches the map only
// while no watch of the type is open: it cancels the watch (which takes
// the cache's lock) before applying a request's subscription changes, and
// this cache touches the map only under that lock while the watch is open.
// Once it has grown large, a response hands back a small new map over a
// base the stream shares (see sent.go).
func (c *Cache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, ch chan cachev3.DeltaResponse) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.viewFor(req.GetNode())
	defer v.sweepIfDue(c.now)
	ts := typeFor(v, req.GetTypeUrl())
	key, tracked := c.boundStream(req)
	added := c.sets.takeAdded(req)
	if ts == nil {
		return nil, nil // a type fairway does not serve: never answered
	}
	w := &deltaWatch{req: trimmedDelta(req), sub: sub, ch: ch, ts: ts, key: key, tracked: tracked,
		first: sub.IsWildcard() && req.GetResponseNonce() == "" && len(req.GetInitialResourceVersions()) == 0,
		sent:  &sent{own: sub.ReturnedResources(), sub: sub, subscribed: c.sets.resolve(sub.SubscribedResources())}}
	if tracked {
		w.h = v.order.watch(key, ts.kind)
		w.sent.streamBase = v.bases[baseKey{key, ts.kind}]
		w.sent.follow(added)
		v.bases[baseKey{key, ts.kind}] = w.sent.streamBase
	}
	if req.GetErrorDetail() != nil {
		// What the stream holds is older than its version map says: the
		// next response (at the next change, not now: that would loop)
		// sends every resource it subscribes to.
		w.sent.own[resendKey] = "1"
	}
	candidates := w.candidates(req, added)
	if c.noteDemand(v, ts, w.sent.subscribed) {
		w.waiting = slices.Collect(candidates)
	} else if c.ready && w.respond(v, candidates, w.first) {
		return nil, nil
	}
	ts.delta[w] = struct{}{}
	return func() {
		c.mu.Lock()
		delete(ts.delta, w)
		delete(v.order.stamps, w.req)
		c.mu.Unlock()
	}, nil
}

// syncedKey is the key, in a stream's map of returned versions, under
// which this cache notes the seq of the type that the stream is up to date
// with. No resource can have this name (a NUL byte); the server only ever
// touches keys that a request names.
const syncedKey = "\x00fairway-synced"

// resendKey marks, in the same map, a stream that rejected a response: its
// next response carries everything it subscribes to.
const resendKey = "\x00fairway-resend"

// candidates are the names that may differ between the node and the
// cache: with the stream up to date as of a logged seq, what changed since
// and what the request newly subscribes; otherwise everything.
func (w *deltaWatch) candidates(req *cachev3.DeltaRequest, added []string) iter.Seq[string] {
	ts := w.ts
	if slices.Contains(req.GetResourceNamesSubscribe(), "*") {
		return w.allCandidates() // a turn to wildcard wants every name
	}
	if at, err := strconv.ParseUint(w.sent.own[syncedKey], 10, 64); err == nil {
		if changed, ok := ts.changedSince(at); ok {
			names := append(slices.Clone(changed), added...)
			names = append(names, req.GetResourceNamesUnsubscribe()...)
			slices.Sort(names)
			return slices.Values(slices.Compact(names))
		}
	}
	return w.allCandidates()
}

// allCandidates are every name the node may have or want, each once and
// without a list of them (a stream's first fetch goes through all): the
// resources, and the names the stream has that are gone.
func (w *deltaWatch) allCandidates() iter.Seq[string] {
	entries, own, base := w.ts.entries, w.sent.own, w.sent.base.entries()
	return func(yield func(string) bool) {
		for name := range entries {
			if !yield(name) {
				return
			}
		}
		for name := range own {
			if _, ok := entries[name]; !ok && !yield(name) {
				return
			}
		}
		for name := range base {
			_, inEntries := entries[name]
			_, inOwn := own[name]
			if !inEntries && !inOwn && !yield(name) {
				return
			}
		}
	}
}

// respond sends the resources among names that the node lacks or has
// stale, and the ones it has that are gone or unsubscribed; with force it
// sends even when there are none. After a NACK, a response sends every
// resource the stream subscribes to. Listeners and routes wait while the
// stream's clusters lag. It reports whether it sent.
func (w *deltaWatch) respond(v *view, names iter.Seq[string], force bool) bool {
	if w.h.holdsBack(v, w.ts.kind, w) {
		return false
	}
	ts := w.ts
	upd, removed := w.diff(names)
	if len(upd) == 0 && len(removed) == 0 && !force {
		w.h.upToDate(v, ts.kind)
		return false
	}
	if _, resend := w.sent.own[resendKey]; resend {
		delete(w.sent.own, resendKey)
		upd = w.everySubscribed()
	}
	next := w.sent.record(ts, upd, removed, w.tracked)
	if w.tracked {
		v.bases[baseKey{w.key, ts.kind}] = w.sent.streamBase
	}
	if len(upd) == len(ts.entries) && len(upd) > 0 {
		upd = ts.sortedDeltaResources() // the whole type: the shared list
	} else {
		slices.SortFunc(upd, func(a, b *discoveryv3.Resource) int { return cmp.Compare(a.Name, b.Name) })
	}
	slices.Sort(removed)
	w.ch <- &cachev3.DeltaPassthroughResponse{
		DeltaRequest:   w.req,
		NextVersionMap: next,
		DeltaDiscoveryResponse: &discoveryv3.DeltaDiscoveryResponse{
			SystemVersionInfo: ts.version, Resources: upd, RemovedResources: removed, TypeUrl: ts.url,
		},
	}
	w.h.sent(v, w.key, ts.kind, w.req)
	return true
}

// diff finds, among names (each once), what the node lacks or has stale
// and what it has that is gone or unsubscribed. When that is the whole
// type and nothing gone (a first fetch), it is the type's shared list,
// found by counting first: no list per stream is made.
func (w *deltaWatch) diff(names iter.Seq[string]) (upd []*discoveryv3.Resource, removed []string) {
	ts := w.ts
	w.sent.own[syncedKey] = strconv.FormatUint(ts.seq, 10)
	updates, removals := 0, 0
	w.compare(names, func(*discoveryv3.Resource) { updates++ }, func(string) { removals++ })
	if removals == 0 && updates == len(ts.entries) && updates > 0 {
		return ts.sortedDeltaResources(), nil
	}
	w.compare(names, func(d *discoveryv3.Resource) { upd = append(upd, d) }, func(name string) { removed = append(removed, name) })
	return upd, removed
}

// compare calls update for each of names the node lacks or has stale, and
// remove for each it has that is gone or unsubscribed.
func (w *deltaWatch) compare(names iter.Seq[string], update func(*discoveryv3.Resource), remove func(string)) {
	ts, s := w.ts, w.sent
	for name := range names {
		if internal(name) {
			continue
		}
		e := ts.entries[name]
		have, had := s.get(name)
		switch {
		case e != nil && s.wanted(name):
			if d := e.deltaResource(); !had || have != d.GetVersion() {
				update(d)
			}
		case had:
			remove(name)
		}
	}
}

// everySubscribed is every resource the stream subscribes to, as sent.
func (w *deltaWatch) everySubscribed() []*discoveryv3.Resource {
	var upd []*discoveryv3.Resource
	for name, e := range w.ts.entries {
		if w.sent.wanted(name) {
			upd = append(upd, e.deltaResource())
		}
	}
	return upd
}

// trimmed keeps what a response needs of a request: not the thousands of
// resource names an Envoy lists, which the server keeps in its own set.
func trimmed(req *cachev3.Request) *cachev3.Request {
	return &discoveryv3.DiscoveryRequest{Node: req.GetNode(), TypeUrl: req.GetTypeUrl(), VersionInfo: req.GetVersionInfo(), ResponseNonce: req.GetResponseNonce()}
}

func trimmedDelta(req *cachev3.DeltaRequest) *cachev3.DeltaRequest {
	return &discoveryv3.DeltaDiscoveryRequest{Node: req.GetNode(), TypeUrl: req.GetTypeUrl(), ResponseNonce: req.GetResponseNonce()}
}

// notify answers the open watches of the type that changed names concern;
// a watch waiting for a demand is answered once it is settled, with all
// it asked for.
func (ts *typeState) notify(v *view, names []string) {
	for w := range ts.sotw {
		if w.waiting {
			continue
		}
		if !w.concerns(names) {
			w.h.upToDate(v, ts.kind)
		} else if w.respond(v, names) {
			delete(ts.sotw, w)
		}
	}
	// Delta responses compare each name once.
	unique := slices.Compact(slices.Sorted(slices.Values(names)))
	for w := range ts.delta {
		if w.waiting != nil {
			continue
		}
		if w.respond(v, slices.Values(unique), false) {
			delete(ts.delta, w)
		}
	}
}

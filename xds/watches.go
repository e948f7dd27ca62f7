package xds

import (
	"cmp"
	"maps"
	"slices"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// sotwWatch is one SotW stream's open request for one type.
type sotwWatch struct {
	req   *cachev3.Request
	ch    chan cachev3.Response
	ts    *typeState
	names []string // nil: every resource of the type
	// fullGen is ts.gen+1 when names were last found to cover every
	// resource; then the watch's version is the type's.
	fullGen uint64
}

// CreateWatch answers a SotW request now if the node's version differs
// from what it asks for, or holds it until that changes.
func (c *Cache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := typeFor(c.viewFor(req.GetNode()), req.GetTypeUrl())
	if ts == nil {
		return nil, nil // a type fairway does not serve: never answered
	}
	w := &sotwWatch{req: req, ch: ch, ts: ts}
	if !sub.IsWildcard() {
		w.names = slices.Collect(maps.Keys(sub.SubscribedResources()))
	}
	if c.ready && w.respond() {
		return nil, nil
	}
	ts.sotw[w] = struct{}{}
	return func() {
		c.mu.Lock()
		delete(ts.sotw, w)
		c.mu.Unlock()
	}, nil
}

// respond sends the watch its resources if their version differs from the
// node's. The caller holds the cache's lock; the server's channel has room
// for one response per type.
func (w *sotwWatch) respond() bool {
	version, resources := w.state()
	if version == w.req.GetVersionInfo() {
		return false
	}
	w.ch <- &cachev3.PassthroughResponse{
		Request:           w.req,
		DiscoveryResponse: &discoveryv3.DiscoveryResponse{VersionInfo: version, Resources: resources, TypeUrl: w.ts.url},
	}
	return true
}

// state is the watch's version and resources: the type's for a wildcard
// request or one that names everything, else those of the named ones.
func (w *sotwWatch) state() (string, []*anypb.Any) {
	ts := w.ts
	if w.names == nil || w.fullGen == ts.gen+1 {
		return ts.version, ts.sortedAnys()
	}
	var sum uint64
	found := make([]*entry, 0, len(w.names))
	for _, name := range w.names {
		if e := ts.entries[name]; e != nil {
			sum += e.contrib
			found = append(found, e)
		}
	}
	if len(found) == len(ts.entries) {
		w.fullGen = ts.gen + 1
		return ts.version, ts.sortedAnys()
	}
	slices.SortFunc(found, func(a, b *entry) int { return cmp.Compare(a.res.Name, b.res.Name) })
	anys := make([]*anypb.Any, len(found))
	for i, e := range found {
		anys[i] = e.any
	}
	return versionString(sum, len(found)), anys
}

// concerns reports whether a change to names can change what the watch
// gets.
func (w *sotwWatch) concerns(changed map[string]bool) bool {
	if w.names == nil || w.fullGen == w.ts.gen+1 {
		return true
	}
	for _, name := range w.names {
		if changed[name] {
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
func (c *Cache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, ch chan cachev3.DeltaResponse) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := typeFor(c.viewFor(req.GetNode()), req.GetTypeUrl())
	if ts == nil {
		return nil, nil // a type fairway does not serve: never answered
	}
	w := &deltaWatch{req: req, sub: sub, ch: ch, ts: ts}
	if c.ready {
		names := slices.Collect(maps.Keys(ts.entries))
		names = append(names, slices.Collect(maps.Keys(sub.SubscribedResources()))...)
		names = append(names, slices.Collect(maps.Keys(sub.ReturnedResources()))...)
		// A wildcard subscription is answered at once, even with nothing.
		if w.respond(names, sub.IsWildcard() && req.GetResponseNonce() == "") {
			return nil, nil
		}
	}
	ts.delta[w] = struct{}{}
	return func() {
		c.mu.Lock()
		delete(ts.delta, w)
		c.mu.Unlock()
	}, nil
}

// respond sends the resources among names that the node lacks or has
// stale, and the ones it has that are gone or unsubscribed; with force it
// sends even when there are none. It reports whether it sent.
func (w *deltaWatch) respond(names []string, force bool) bool {
	ts, returned := w.ts, w.sub.ReturnedResources()
	subscribed := w.sub.SubscribedResources()
	var upd []*discoveryv3.Resource
	var removed []string
	for _, name := range names {
		e := ts.entries[name]
		_, wanted := subscribed[name]
		have, had := returned[name]
		switch {
		case e != nil && (wanted || w.sub.IsWildcard()):
			if d := e.deltaResource(); !had || have != d.GetVersion() {
				upd = append(upd, d)
				returned[name] = d.GetVersion()
			}
		case had:
			removed = append(removed, name)
			delete(returned, name)
		}
	}
	if len(upd) == 0 && len(removed) == 0 && !force {
		return false
	}
	slices.SortFunc(upd, func(a, b *discoveryv3.Resource) int { return cmp.Compare(a.Name, b.Name) })
	slices.Sort(removed)
	w.ch <- &cachev3.DeltaPassthroughResponse{
		DeltaRequest:   w.req,
		NextVersionMap: returned,
		DeltaDiscoveryResponse: &discoveryv3.DeltaDiscoveryResponse{
			SystemVersionInfo: ts.version, Resources: upd, RemovedResources: removed, TypeUrl: ts.url,
		},
	}
	return true
}

// notify answers the open watches of the type that changed names concern.
func (ts *typeState) notify(names []string) {
	changed := make(map[string]bool, len(names))
	for _, n := range names {
		changed[n] = true
	}
	for w := range ts.sotw {
		if w.concerns(changed) && w.respond() {
			delete(ts.sotw, w)
		}
	}
	for w := range ts.delta {
		if w.respond(slices.Clone(names), false) {
			delete(ts.delta, w)
		}
	}
}

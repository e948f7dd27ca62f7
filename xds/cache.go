package xds

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/fairwayhq/fairway/translator"
)

// Cache serves the translator's encoded resources to go-control-plane's
// server, in place of its snapshot cache, for three reasons:
//
//   - Each resource is wrapped in one Any when it changes, and that Any
//     (and, per version, the sorted list of them) is what every stream
//     sends: nothing is encoded per stream or per response.
//   - Versions are content hashes kept up to date per change: a type's
//     version is an order-independent sum over its resources, and a named
//     SotW request's version is the same sum over just the names it asks
//     for, so a change it did not ask about sends it nothing, a NACKed
//     version (see Nodes) and a version a reconnecting node already has are
//     held, and no per-stream map is needed.
//   - Delta watches look at what changed, not at every resource.
//
// Envoys and proxyless clients see separate views; within a view every
// node group has the same resources.
type Cache struct {
	groups groups
	lists  lists
	// names are the resource names, for the codec to decode requests
	// into (see intern.go).
	names internTable

	mu    sync.Mutex
	views [2]*view
	ready bool
	// bound maps a request to the stream it came on, from Nodes to the
	// watch the server then creates for it.
	bound map[any]streamKey
	now   func() time.Time
	// demand tracks proxyless names for resources built on demand
	// (demand.go); nil when everything is built.
	demand *demandTracker
	// sets are the name sets streams subscribe to (see namesets.go).
	sets nameSets
}

const (
	envoyView = iota
	proxylessView
)

type view struct {
	types [translator.NumKinds]*typeState
	order *ordering
	// bases are the delta streams' shared records of what they were
	// sent (see sent.go).
	bases map[baseKey]streamBase
}

// typeState is one resource type of one view.
type typeState struct {
	kind    translator.Kind
	url     string
	entries map[string]*entry
	sum     uint64 // of the entries' contributions
	// nameSum is the sum of the entries' name hashes: a request whose
	// names add up to it (and are as many) names every resource.
	nameSum uint64
	version string
	// gen counts changes to the set of names, so a watch that asked for
	// every name knows when it may have stopped doing so.
	gen uint64
	// seq counts publications that changed the type; log holds the names
	// each of the last ones changed, so a delta stream that is up to date
	// as of some seq is brought up to date by looking at those alone.
	seq    uint64
	log    []changeLog
	sorted []*anypb.Any // all entries by name; nil when stale
	// sortedDelta is the same as delta Resources, for first fetches.
	sortedDelta []*discoveryv3.Resource
	sotw        map[*sotwWatch]struct{}
	delta       map[*deltaWatch]struct{}
	lists       *lists
	names       *internTable
	// versionBase is the latest base made (see sent.go).
	versionBase *versionBase
}

type changeLog struct {
	seq   uint64
	names []string
}

// changeLogLen bounds the log: a stream further behind gets a full scan.
const changeLogLen = 64

// changedSince returns the names changed after seq, and whether the log
// reaches back that far.
func (ts *typeState) changedSince(seq uint64) ([]string, bool) {
	if seq == ts.seq {
		return nil, true
	}
	if len(ts.log) == 0 || seq+1 < ts.log[0].seq || seq > ts.seq {
		return nil, false
	}
	var names []string
	for _, l := range ts.log {
		if l.seq > seq {
			names = append(names, l.names...)
		}
	}
	return names, true
}

// entry is one resource as it is sent.
type entry struct {
	res     *translator.Resource
	any     *anypb.Any
	contrib uint64
	// delta is the entry as delta responses carry it, shared by every
	// stream; made at the first delta send (a fleet may use only SotW).
	delta *discoveryv3.Resource
}

// deltaResource is the entry as delta responses carry it; its version is
// the resource's content hash. Callers hold the cache's lock.
func (e *entry) deltaResource() *discoveryv3.Resource {
	if e.delta == nil {
		e.delta = &discoveryv3.Resource{Name: e.res.Name, Version: strconv.FormatUint(e.res.Hash, 16), Resource: e.any}
	}
	return e.delta
}

// typeName is the short name of a type URL ("cluster"), for labels; the
// URL itself when fairway does not serve the type.
func typeName(url string) string {
	for k, u := range kindURLs {
		if u == url {
			return translator.Kind(k).String()
		}
	}
	return url
}

// kindURLs maps the translator's kinds to xDS type URLs.
var kindURLs = [translator.NumKinds]string{
	translator.KindCluster:  resourcev3.ClusterType,
	translator.KindEndpoint: resourcev3.EndpointType,
	translator.KindListener: resourcev3.ListenerType,
	translator.KindRoute:    resourcev3.RouteType,
	translator.KindSecret:   resourcev3.SecretType,
}

// NewCache creates an empty cache; it answers nothing before the first
// Apply.
func NewCache(by GroupBy) *Cache {
	c := &Cache{groups: groups{by: by}, bound: map[any]streamKey{}, sets: newNameSets(), now: time.Now}
	for v := range c.views {
		c.views[v] = &view{order: newOrdering(), bases: map[baseKey]streamBase{}}
		for k := range translator.NumKinds {
			ts := &typeState{kind: k, url: kindURLs[k], entries: map[string]*entry{},
				sotw: map[*sotwWatch]struct{}{}, delta: map[*deltaWatch]struct{}{}, lists: &c.lists, names: &c.names}
			ts.version = versionString(0, 0)
			c.views[v].types[k] = ts
		}
	}
	return c
}

func versionString(sum uint64, n int) string {
	return strconv.FormatUint(sum, 16) + "-" + strconv.Itoa(n)
}

// contribution mixes a resource's name into its hash, so that the sum over
// a set changes with any name or content, in any order.
func contribution(name string, hash uint64) uint64 {
	return (xxhash.Sum64String(name) ^ hash) * 0x9e3779b97f4a7c15
}

func (c *Cache) viewFor(node *corev3.Node) *view {
	if IsProxyless(node) {
		return c.views[proxylessView]
	}
	return c.views[envoyView]
}

func typeFor(v *view, url string) *typeState {
	for _, ts := range v.types {
		if ts.url == url {
			return ts
		}
	}
	return nil
}

// Apply stores what changed in the engine's resource sets, and answers the
// watches that the changes concern, in make-before-break order (see
// ordering.go): removals of what listeners and routes may name wait. The
// sets are read under the cache's lock; the engine must not change them
// meanwhile.
func (c *Cache) Apply(envoy, proxyless *translator.ResourceSet, envoyChanges, proxylessChanges translator.Changes) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for _, u := range []struct {
		v       *view
		set     *translator.ResourceSet
		changes translator.Changes
	}{{c.views[envoyView], envoy, envoyChanges}, {c.views[proxylessView], proxyless, proxylessChanges}} {
		if c.ready && !anyChange(u.changes) {
			continue
		}
		u.v.apply(u.set, u.changes, !c.ready, now)
	}
	c.ready = true
}

// apply is one round of a view: updates in order, removals deferred.
func (v *view) apply(set *translator.ResourceSet, changes translator.Changes, first bool, now time.Time) {
	o := v.order
	o.round++
	doomedAny := false
	for _, k := range updateOrder {
		names := changes[k]
		if !first && len(names) == 0 {
			continue
		}
		ts := v.types[k]
		names, doomed := o.doom(k, ts, set, names)
		doomedAny = doomedAny || doomed
		if !first && len(names) == 0 {
			continue
		}
		ts.update(set, names)
		if i := refIndex(k); i >= 0 {
			o.lastChanged[i] = o.round
		}
		ts.notify(v, names)
	}
	if doomedAny {
		o.pending = append(o.pending, removal{round: o.round, need: o.lastChanged, at: now})
	}
	v.sweep(now)
}

func anyChange(changes translator.Changes) bool {
	for _, names := range changes {
		if len(names) > 0 {
			return true
		}
	}
	return false
}

// update brings the entries of the named resources in line with set.
func (ts *typeState) update(set *translator.ResourceSet, names []string) {
	ts.logChange(names)
	for _, name := range names {
		ts.put(name, set.Get(ts.kind, name))
	}
	ts.version = versionString(ts.sum, len(ts.entries))
}

// remove drops the named entries (deferred removals whose time came).
func (ts *typeState) remove(names []string) {
	ts.logChange(names)
	for _, name := range names {
		ts.put(name, nil)
	}
	ts.version = versionString(ts.sum, len(ts.entries))
}

func (ts *typeState) logChange(names []string) {
	ts.seq++
	ts.log = append(ts.log, changeLog{seq: ts.seq, names: names})
	if len(ts.log) > changeLogLen {
		ts.log = slices.Delete(ts.log, 0, len(ts.log)-changeLogLen)
	}
}

// put sets the entry of name to r, or removes it when r is nil.
func (ts *typeState) put(name string, r *translator.Resource) {
	old := ts.entries[name]
	if old != nil {
		if r == old.res {
			return
		}
		ts.sum -= old.contrib
		if r == nil {
			ts.nameSum -= xxhash.Sum64String(name)
			delete(ts.entries, name)
			ts.names.remove(name)
			ts.gen++
			ts.invalidate()
			return
		}
	}
	if r == nil {
		return
	}
	if old == nil {
		ts.gen++
		ts.nameSum += xxhash.Sum64String(name)
		ts.names.add(name)
	}
	e := &entry{res: r, any: &anypb.Any{TypeUrl: ts.url, Value: r.Bytes}, contrib: contribution(name, r.Hash)}
	ts.entries[name] = e
	ts.sum += e.contrib
	ts.invalidate()
}

// invalidate drops the sorted lists of the previous version.
func (ts *typeState) invalidate() {
	if ts.sorted != nil {
		ts.lists.remove(ts.sorted)
		ts.sorted = nil
	}
	if ts.sortedDelta != nil {
		ts.lists.removeDelta(ts.sortedDelta)
		ts.sortedDelta = nil
	}
}

// sortedDeltaResources is every resource of the type as delta Resources,
// by name, shared by every delta response that sends the type whole.
func (ts *typeState) sortedDeltaResources() []*discoveryv3.Resource {
	if ts.sortedDelta == nil {
		anys := ts.sortedAnys()
		ts.sortedDelta = make([]*discoveryv3.Resource, 0, len(anys))
		for _, name := range slices.Sorted(maps.Keys(ts.entries)) {
			ts.sortedDelta = append(ts.sortedDelta, ts.entries[name].deltaResource())
		}
		ts.lists.addDelta(ts.sortedDelta)
	}
	return ts.sortedDelta
}

// sortedAnys is every resource of the type by name, shared by every
// response of this version (and registered for the shared codec).
func (ts *typeState) sortedAnys() []*anypb.Any {
	if ts.sorted == nil {
		names := make([]string, 0, len(ts.entries))
		for name := range ts.entries {
			names = append(names, name)
		}
		slices.Sort(names)
		ts.sorted = make([]*anypb.Any, len(names))
		for i, name := range names {
			ts.sorted[i] = ts.entries[name].any
		}
		ts.lists.add(ts.sorted)
	}
	return ts.sorted
}

// Fetch is for REST xDS, which fairway does not serve.
func (c *Cache) Fetch(context.Context, *cachev3.Request) (cachev3.Response, error) {
	return nil, errors.New("fairway serves xDS over gRPC streams only")
}

// Resources returns the current resources of a view (envoy or proxyless)
// by kind, sorted by name, for the debug endpoint.
func (c *Cache) Resources(proxyless bool) [translator.NumKinds][]*translator.Resource {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resources(proxyless)
}

func (c *Cache) resources(proxyless bool) [translator.NumKinds][]*translator.Resource {
	v := c.views[envoyView]
	if proxyless {
		v = c.views[proxylessView]
	}
	var out [translator.NumKinds][]*translator.Resource
	for k, ts := range v.types {
		for _, e := range ts.entries {
			out[k] = append(out[k], e.res)
		}
		slices.SortFunc(out[k], func(a, b *translator.Resource) int { return cmp.Compare(a.Name, b.Name) })
	}
	return out
}

// Versions are the current versions by view and type.
func (c *Cache) Versions() map[string]map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.versions()
}

// Snapshot is Resources of both views and Versions read at once: a
// publish cannot fall between them, so the versions are those of the
// resources.
func (c *Cache) Snapshot() (envoy, proxyless [translator.NumKinds][]*translator.Resource, versions map[string]map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resources(false), c.resources(true), c.versions()
}

func (c *Cache) versions() map[string]map[string]string {
	out := map[string]map[string]string{}
	for i, name := range []string{"envoy", "proxyless"} {
		out[name] = map[string]string{}
		for _, ts := range c.views[i].types {
			out[name][ts.kind.String()] = ts.version
		}
	}
	return out
}

// counts are the numbers of resources by view and type.
func (c *Cache) counts() map[string]map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]map[string]int{}
	for i, name := range []string{"envoy", "proxyless"} {
		out[name] = map[string]int{}
		for _, ts := range c.views[i].types {
			out[name][ts.kind.String()] = len(ts.entries)
		}
	}
	return out
}

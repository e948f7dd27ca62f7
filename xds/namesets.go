package xds

import (
	"slices"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
)

// The names a stream subscribes to are, in go-control-plane, a map per
// stream and type, built from the request's list: 0.5 MB for an Envoy
// that watches ten thousand endpoint assignments, the same on every Envoy
// of a node group, plus the request's ten thousand freshly decoded
// strings. fairway holds each distinct set of names once: Nodes, which
// sees every request before the server does, swaps the request's list for
// one token naming the shared set, so go-control-plane's map holds that
// token alone, and the cache resolves it when it makes the watch. The
// set's strings are the cache's own resource names where it has them.
//
// A SotW request names the whole set each time; a delta request names
// what it adds and drops, and Nodes keeps the stream's set to apply that
// to. A delta request that drops a name is also made to subscribe it
// first, so that go-control-plane treats the drop as it would have (under
// a wildcard subscription it marks the name for a resend, else it forgets
// what it sent of it).

// nameSet is one distinct set of subscribed names; never changed once
// made, so watches read it without a lock.
type nameSet struct {
	token string
	sum   uint64 // of the names' hashes, as typeState.nameSum
	names map[string]struct{}
	refs  int
}

// tokenPrefix starts every token; no resource name starts with a NUL.
const tokenPrefix = "\x00fairway-names-"

// internal reports whether a name is one of the cache's own markers or
// tokens, never a resource.
func internal(name string) bool { return strings.HasPrefix(name, "\x00fairway") }

// minSharedNames is the smallest SotW list that is shared: below it the
// map go-control-plane makes is smaller than the bookkeeping.
const minSharedNames = 16

// nameSets is the registry of shared sets, under the cache's lock.
type nameSets struct {
	bySum   map[uint64][]*nameSet
	byToken map[string]*nameSet
	next    uint64
	// held is each stream's current set per type.
	held map[heldKey]*nameSet
	// added are the names a rewritten delta request newly subscribes, by
	// request, for the watch the server then creates for it (dropped with
	// the stream if the server refuses the request instead).
	added map[any]addedNames
}

type addedNames struct {
	stream streamKey
	names  []string
}

type heldKey struct {
	stream  streamKey
	typeURL string
}

func newNameSets() nameSets {
	return nameSets{bySum: map[uint64][]*nameSet{}, byToken: map[string]*nameSet{}, held: map[heldKey]*nameSet{}, added: map[any]addedNames{}}
}

// shareSotW swaps a SotW request's names for its set's token.
func (c *Cache) shareSotW(key streamKey, req *discoveryv3.DiscoveryRequest) {
	names, wildcard := withoutWildcard(req.GetResourceNames())
	if len(names) < minSharedNames {
		c.mu.Lock()
		c.sets.hold(heldKey{key, req.GetTypeUrl()}, nil)
		c.mu.Unlock()
		return
	}
	var sum uint64
	for _, name := range names {
		sum += xxhash.Sum64String(name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Every ACK lists the names again: the set is found without a map.
	s := c.sets.find(sum, names)
	if s != nil {
		s.refs++
	} else {
		set := make(map[string]struct{}, len(names))
		for _, name := range names {
			set[name] = struct{}{}
		}
		s = c.sets.acquire(c.typeURLNames(req.GetTypeUrl()), set)
	}
	c.sets.hold(heldKey{key, req.GetTypeUrl()}, s)
	listed := req.ResourceNames
	req.ResourceNames = withWildcard([]string{s.token}, wildcard)
	// The server reads only the new list from here on, and nothing else
	// holds the decoded one: it goes back for the next request.
	recycleNames(listed)
}

// find is the registered set that is exactly the listed names (sum is
// their hashes' sum; the list is taken to hold each name once, as a set
// of as many names with the same sum that holds them all must be it).
func (ns *nameSets) find(sum uint64, names []string) *nameSet {
	for _, s := range ns.bySum[sum] {
		if len(s.names) != len(names) {
			continue
		}
		all := true
		for _, name := range names {
			if _, ok := s.names[name]; !ok {
				all = false
				break
			}
		}
		if all {
			return s
		}
	}
	return nil
}

// shareDelta applies a delta request's changes to the stream's set and
// swaps them for the new set's token.
func (c *Cache) shareDelta(key streamKey, req *discoveryv3.DeltaDiscoveryRequest) {
	subs, subWildcard := withoutWildcard(req.GetResourceNamesSubscribe())
	unsubs, unsubWildcard := withoutWildcard(req.GetResourceNamesUnsubscribe())
	if len(subs) == 0 && len(unsubs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	hk := heldKey{key, req.GetTypeUrl()}
	old := c.sets.held[hk]
	added, dropped := deltaChange(old.members(), subs, unsubs)
	var s *nameSet
	subscribe, unsubscribe := dropped, unsubs
	if size := len(old.members()) + len(added) - len(dropped); size > 0 {
		if s = c.sets.findChanged(old, added, dropped, size); s != nil {
			s.refs++
		} else {
			s = c.sets.acquire(c.typeURLNames(req.GetTypeUrl()), changedSet(old.members(), added, dropped))
		}
		subscribe = append([]string{s.token}, dropped...)
	}
	if old != nil {
		unsubscribe = append([]string{old.token}, unsubs...)
	}
	c.sets.hold(hk, s)
	req.ResourceNamesSubscribe = withWildcard(subscribe, subWildcard)
	req.ResourceNamesUnsubscribe = withWildcard(unsubscribe, unsubWildcard)
	c.sets.added[req] = addedNames{key, added}
}

// deltaChange are the names a delta request adds to a set and the names
// it drops from it. A list is taken to name each once, as Envoy's do (a
// name listed twice only makes findChanged miss, and changedSet counts it
// once).
func deltaChange(set map[string]struct{}, subs, unsubs []string) (added, dropped []string) {
	if len(set) == 0 && len(unsubs) == 0 {
		return subs, nil // a first subscription adds all it names
	}
	added = make([]string, 0, len(subs))
	unsub := make(map[string]bool, len(unsubs))
	for _, name := range unsubs {
		if _, ok := set[name]; ok && !unsub[name] {
			dropped = append(dropped, name)
		}
		unsub[name] = true
	}
	for _, name := range subs {
		if _, ok := set[name]; !ok && !unsub[name] {
			added = append(added, name)
		}
	}
	return added, dropped
}

func changedSet(old map[string]struct{}, added, dropped []string) map[string]struct{} {
	set := make(map[string]struct{}, len(old)+len(added))
	for name := range old {
		set[name] = struct{}{}
	}
	for _, name := range added {
		set[name] = struct{}{}
	}
	for _, name := range dropped {
		delete(set, name)
	}
	return set
}

// findChanged is the registered set that is old with added and without
// dropped (size names), found without making that set.
func (ns *nameSets) findChanged(old *nameSet, added, dropped []string, size int) *nameSet {
	sum := old.sumOf()
	for _, name := range added {
		sum += xxhash.Sum64String(name)
	}
	for _, name := range dropped {
		sum -= xxhash.Sum64String(name)
	}
	for _, s := range ns.bySum[sum] {
		if len(s.names) == size && holdsAll(s.names, added) && holdsKept(s.names, old, dropped) {
			return s
		}
	}
	return nil
}

func (s *nameSet) sumOf() uint64 {
	if s == nil {
		return 0
	}
	return s.sum
}

func holdsAll(set map[string]struct{}, names []string) bool {
	for _, name := range names {
		if _, ok := set[name]; !ok {
			return false
		}
	}
	return true
}

// holdsKept reports whether set holds every name of old that dropped
// does not drop.
func holdsKept(set map[string]struct{}, old *nameSet, dropped []string) bool {
	var drop map[string]bool
	if len(dropped) > 8 {
		drop = make(map[string]bool, len(dropped))
		for _, name := range dropped {
			drop[name] = true
		}
	}
	for name := range old.members() {
		if drop[name] || (drop == nil && slices.Contains(dropped, name)) {
			continue
		}
		if _, ok := set[name]; !ok {
			return false
		}
	}
	return true
}

func (s *nameSet) members() map[string]struct{} {
	if s == nil {
		return nil
	}
	return s.names
}

func withoutWildcard(names []string) ([]string, bool) {
	for i, name := range names {
		if name == "*" {
			rest := append(names[:i:i], names[i+1:]...)
			rest, _ = withoutWildcard(rest)
			return rest, true
		}
	}
	return names, false
}

func withWildcard(names []string, wildcard bool) []string {
	if wildcard {
		return append(names, "*")
	}
	return names
}

// typeURLNames are the resource names the cache has of a type, in either
// view, for the sets to share their strings with.
func (c *Cache) typeURLNames(typeURL string) []map[string]*entry {
	var out []map[string]*entry
	for _, v := range c.views {
		if ts := typeFor(v, typeURL); ts != nil {
			out = append(out, ts.entries)
		}
	}
	return out
}

// acquire finds or makes the shared set equal to set, and counts one more
// holder of it.
func (ns *nameSets) acquire(entries []map[string]*entry, set map[string]struct{}) *nameSet {
	var sum uint64
	for name := range set {
		sum += xxhash.Sum64String(name)
	}
	for _, s := range ns.bySum[sum] {
		if sameNames(s.names, set) {
			s.refs++
			return s
		}
	}
	shared := make(map[string]struct{}, len(set))
	for name := range set {
		shared[canonical(entries, name)] = struct{}{}
	}
	ns.next++
	s := &nameSet{token: tokenPrefix + strconv.FormatUint(ns.next, 10), sum: sum, names: shared, refs: 1}
	ns.bySum[sum] = append(ns.bySum[sum], s)
	ns.byToken[s.token] = s
	return s
}

// canonical is the cache's own copy of a resource name, when it has one.
func canonical(entries []map[string]*entry, name string) string {
	for _, m := range entries {
		if e := m[name]; e != nil {
			return e.res.Name
		}
	}
	return name
}

func sameNames(a, b map[string]struct{}) bool {
	if len(a) != len(b) {
		return false
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			return false
		}
	}
	return true
}

// hold makes s the stream's set of the type, releasing the one before.
func (ns *nameSets) hold(k heldKey, s *nameSet) {
	if old := ns.held[k]; old != nil && old != s {
		ns.release(old)
	} else if old == s && s != nil {
		s.refs-- // acquired again by the same stream
	}
	if s == nil {
		delete(ns.held, k)
		return
	}
	ns.held[k] = s
}

func (ns *nameSets) release(s *nameSet) {
	s.refs--
	if s.refs > 0 {
		return
	}
	delete(ns.byToken, s.token)
	list := ns.bySum[s.sum]
	for i, x := range list {
		if x == s {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(ns.bySum, s.sum)
	} else {
		ns.bySum[s.sum] = list
	}
}

// closed releases a stream's sets.
func (ns *nameSets) closed(key streamKey) {
	for k, s := range ns.held {
		if k.stream == key {
			ns.release(s)
			delete(ns.held, k)
		}
	}
	for req, a := range ns.added {
		if a.stream == key {
			delete(ns.added, req)
		}
	}
}

// resolve is a subscription's names: the shared set its token names,
// with any names go-control-plane holds beside it.
func (ns *nameSets) resolve(m map[string]struct{}) map[string]struct{} {
	var sets []*nameSet
	for name := range m {
		if s := ns.byToken[name]; s != nil {
			sets = append(sets, s)
		}
	}
	if len(sets) == 1 && len(m) == 1 {
		return sets[0].names
	}
	if len(sets) == 0 {
		return m
	}
	out := map[string]struct{}{}
	for name := range m {
		if !internal(name) {
			out[name] = struct{}{}
		}
	}
	for _, s := range sets {
		for name := range s.names {
			out[name] = struct{}{}
		}
	}
	return out
}

// takeAdded is the names a delta request newly subscribes: as Nodes
// noted them when it rewrote the request, or as the request says.
func (ns *nameSets) takeAdded(req *discoveryv3.DeltaDiscoveryRequest) []string {
	if added, ok := ns.added[req]; ok {
		delete(ns.added, req)
		return added.names
	}
	subs, _ := withoutWildcard(req.GetResourceNamesSubscribe())
	return subs
}

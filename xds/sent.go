package xds

import (
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/fairwayhq/fairway/translator"
)

// What a delta stream has been sent is, for go-control-plane, a map of
// resource name to version per stream and type: 20k entries, 1.2 MB, for
// an Envoy that watches every cluster and endpoint assignment, and the
// same on every Envoy of a node group. fairway keeps that map small: it
// holds only where the stream differs from a shared record of the type's
// versions as of some change (a versionBase), which every stream that
// was up to date at that change shares.
//
// After every response the cache makes, the stream holds exactly the
// type's current version of each resource it wants (the invariant the
// cache's synced marker already rests on: a response brings every
// candidate up to date). So when a stream's own map would grow past a
// fraction of its base, it is replaced by an empty one over the type's
// current base (see record): the stream then holds base ∩ what it wants,
// which is what it was sent. A name it subscribes to later is marked as
// not held until it is sent (see follow).

// versionBase is a type's resource versions as of one change (seq),
// shared by every stream that rebased there; never changed once made.
type versionBase struct {
	seq      uint64
	versions map[string]string
}

// base is the type's versions now, made at most once per change.
func (ts *typeState) base() *versionBase {
	if ts.versionBase == nil || ts.versionBase.seq != ts.seq {
		m := make(map[string]string, len(ts.entries))
		for name, e := range ts.entries {
			m[name] = e.deltaResource().GetVersion()
		}
		ts.versionBase = &versionBase{seq: ts.seq, versions: m}
	}
	return ts.versionBase
}

// gone marks, in a stream's own map, a resource of its base that the
// stream does not have (no version starts with a NUL byte).
const gone = "\x00gone"

// baseKey finds a delta stream's base: by stream and type.
type baseKey struct {
	stream streamKey
	kind   translator.Kind
}

// streamBase is a stream's base, and whether the stream was a wildcard
// one when it took it (then it was sent every resource of the base).
type streamBase struct {
	base     *versionBase
	wildcard bool
}

// sent is one delta stream's record for one type: go-control-plane's map
// (own) over the shared base. Only the cache's lock guards it.
type sent struct {
	own map[string]string
	streamBase
	sub cachev3.Subscription
	// subscribed are the names the stream subscribes to, resolved.
	subscribed map[string]struct{}
}

// follow keeps the record exact across a request's subscription changes,
// which go-control-plane has applied (added are the names it newly
// subscribes): a name newly subscribed was not
// sent, though the base has it; a stream that turns wildcard was sent
// only what it named, so its base is spelt out in its own map.
func (s *sent) follow(added []string) {
	if s.base == nil {
		return
	}
	if s.sub.IsWildcard() && !s.wildcard {
		newly := map[string]bool{}
		for _, name := range added {
			newly[name] = true
		}
		for name, v := range s.base.versions {
			if _, own := s.own[name]; !own && !newly[name] && s.named(name) {
				s.own[name] = v
			}
		}
		s.streamBase = streamBase{}
		return
	}
	if s.sub.IsWildcard() {
		return
	}
	for _, name := range added {
		if _, own := s.own[name]; !own {
			if _, inBase := s.base.versions[name]; inBase {
				s.own[name] = gone
			}
		}
	}
}

func (s *sent) named(name string) bool {
	_, ok := s.subscribed[name]
	return ok
}

// wanted reports whether the stream subscribes to name.
func (s *sent) wanted(name string) bool {
	return s.sub.IsWildcard() || s.named(name)
}

// get is the version the stream has of name, if any. A base entry counts
// only while the stream wants the resource: go-control-plane forgets an
// unsubscribed name by deleting it from the stream's own map.
func (s *sent) get(name string) (string, bool) {
	if v, ok := s.own[name]; ok {
		return v, v != gone
	}
	if s.base == nil || !s.wanted(name) {
		return "", false
	}
	v, ok := s.base.versions[name]
	return v, ok
}

// set records that the stream was sent version of name.
func (s *sent) set(name, version string) {
	if v, ok := s.base.lookup(name); ok && v == version && s.wanted(name) {
		delete(s.own, name)
		return
	}
	s.own[name] = version
}

// drop records that the stream was told name is gone.
func (s *sent) drop(name string) {
	if _, inBase := s.base.lookup(name); inBase && s.wanted(name) {
		s.own[name] = gone
		return
	}
	delete(s.own, name)
}

func (b *versionBase) lookup(name string) (string, bool) {
	if b == nil {
		return "", false
	}
	v, ok := b.versions[name]
	return v, ok
}

// rebaseAt is how large a stream's own map may grow over a base of n
// resources before it is replaced by the type's current base: a sixteenth
// keeps the own maps small against the base, and rebasing rarely enough
// that few bases are alive at once.
func rebaseAt(n int) int { return 64 + n/16 }

// record notes a response's updates and removals, and returns the map
// the stream holds now. A response is made only once the stream is up to
// date, so when the own map would grow large a stream that may rebase
// (rebasing) is moved onto the type's current base instead, without
// writing a name: the response of a first fetch leaves nothing per name.
func (s *sent) record(ts *typeState, upd []*discoveryv3.Resource, removed []string, rebasing bool) map[string]string {
	if !rebasing || len(s.own)+len(upd)+len(removed) <= rebaseAt(len(s.base.entries())) {
		for _, d := range upd {
			s.set(d.GetName(), d.GetVersion())
		}
		for _, name := range removed {
			s.drop(name)
		}
		return s.own
	}
	s.streamBase = streamBase{base: ts.base(), wildcard: s.sub.IsWildcard()}
	own := make(map[string]string, 2)
	for _, k := range []string{syncedKey, resendKey} {
		if v, ok := s.own[k]; ok {
			own[k] = v
		}
	}
	s.own = own
	return own
}

func (b *versionBase) entries() map[string]string {
	if b == nil {
		return nil
	}
	return b.versions
}

package translator

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
	"google.golang.org/protobuf/proto"
)

// Kind is an Envoy resource type.
type Kind int

// The kinds fairway serves, in the order Envoy wants them over ADS.
const (
	KindCluster Kind = iota
	KindEndpoint
	KindListener
	KindRoute
	KindSecret
	NumKinds
)

var kindNames = [NumKinds]string{"cluster", "endpoint", "listener", "route", "secret"}

func (k Kind) String() string { return kindNames[k] }

// Resource is one Envoy resource in the form it is hashed, versioned and
// sent: deterministic protobuf. Keeping bytes instead of message trees is
// most of fairway's memory saving; encoding once per change is most of its
// speed.
type Resource struct {
	Name  string
	Bytes []byte
	// Hash is xxhash64 of Bytes: cheap enough to compute on every change,
	// and what the per-type content versions are made of.
	Hash uint64
	// Refs are the resources this one names, for consistency checks.
	Refs []Ref
	// Parts are resources it was composed of (a route table's virtual
	// hosts), whose Refs are its own too.
	Parts []*Resource
}

// Ref names a resource of a kind.
type Ref struct {
	Kind Kind
	Name string
}

var marshalOptions = proto.MarshalOptions{Deterministic: true}

// encode validates m with its generated ValidateAll and serializes it.
// (Result.Validate, which the tests and the fuzzer run, also unpacks every
// Any; that costs reflection per field, too much for every rebuild.)
func encode(name string, m proto.Message, references []Ref) (*Resource, error) {
	if v, ok := m.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			return nil, fmt.Errorf("%T %q: %w", m, name, err)
		}
	}
	b, err := marshalOptions.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %T %q: %w", m, name, err)
	}
	return newResource(name, b, references), nil
}

func newResource(name string, b []byte, references []Ref) *Resource {
	return &Resource{Name: name, Bytes: b, Hash: xxhash.Sum64(b), Refs: references}
}

// sameOr is prev when next has its bytes, else next. A host's virtual
// host re-encoded with the same bytes (a path changed that its plain side
// does not show, or another host of the same Ingress changed) then keeps
// its Resource, so a route table whose parts are all the same Resources
// is not composed again.
func sameOr(prev, next *Resource) *Resource {
	if prev != nil && next != nil && prev.Hash == next.Hash && string(prev.Bytes) == string(next.Bytes) {
		return prev
	}
	return next
}

// ResourceSet holds the resources of one snapshot (Envoy's or proxyless
// clients'), by kind and name, and what changed since it was last taken.
type ResourceSet struct {
	byKind [NumKinds]map[string]*Resource
	// changed are the names put or removed, repeats included.
	changed [NumKinds][]string
	// refs counts the references to each resource from the others, and
	// missing holds the referenced ones that are not there: kept up to
	// date as resources come and go, so Check costs nothing.
	refs    map[Ref]int
	missing map[Ref]bool
}

func newResourceSet() *ResourceSet {
	s := &ResourceSet{refs: map[Ref]int{}, missing: map[Ref]bool{}}
	for k := range NumKinds {
		s.byKind[k] = map[string]*Resource{}
	}
	return s
}

// put stores r, noting a change only if its bytes differ.
func (s *ResourceSet) put(k Kind, r *Resource) {
	old, ok := s.byKind[k][r.Name]
	if ok && old.Hash == r.Hash && string(old.Bytes) == string(r.Bytes) {
		return
	}
	s.byKind[k][r.Name] = r
	s.changed[k] = append(s.changed[k], r.Name)
	delete(s.missing, Ref{k, r.Name})
	s.count(r, old)
}

func (s *ResourceSet) remove(k Kind, name string) {
	old, ok := s.byKind[k][name]
	if !ok {
		return
	}
	delete(s.byKind[k], name)
	s.changed[k] = append(s.changed[k], name)
	if s.refs[Ref{k, name}] > 0 {
		s.missing[Ref{k, name}] = true
	}
	s.count(nil, old)
}

// count moves the reference counts from old's references to next's. Of
// composed resources, only the parts that differ are counted again.
func (s *ResourceSet) count(next, old *Resource) {
	var oldParts map[*Resource]bool
	if old != nil {
		s.unref(old.Refs)
		oldParts = make(map[*Resource]bool, len(old.Parts))
		for _, p := range old.Parts {
			oldParts[p] = true
		}
	}
	if next != nil {
		s.ref(next.Refs)
		for _, p := range next.Parts {
			if oldParts[p] {
				delete(oldParts, p)
			} else {
				s.ref(p.Refs)
			}
		}
	}
	for p := range oldParts {
		s.unref(p.Refs)
	}
}

func (s *ResourceSet) ref(refs []Ref) {
	for _, r := range refs {
		s.refs[r]++
		if s.byKind[r.Kind][r.Name] == nil {
			s.missing[r] = true
		}
	}
}

func (s *ResourceSet) unref(refs []Ref) {
	for _, r := range refs {
		if s.refs[r]--; s.refs[r] <= 0 {
			delete(s.refs, r)
			delete(s.missing, r)
		}
	}
}

// Get returns a resource, or nil.
func (s *ResourceSet) Get(k Kind, name string) *Resource { return s.byKind[k][name] }

// Len is the number of resources of a kind.
func (s *ResourceSet) Len(k Kind) int { return len(s.byKind[k]) }

// Sorted lists the resources of a kind by name.
func (s *ResourceSet) Sorted(k Kind) []*Resource {
	out := make([]*Resource, 0, len(s.byKind[k]))
	for _, r := range s.byKind[k] {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Resource) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Changes are the names of a kind put or removed since the last
// TakeChanges; a removed name is no longer in the set.
type Changes [NumKinds][]string

// TakeChanges returns and clears what changed.
func (s *ResourceSet) TakeChanges() Changes {
	var c Changes
	for k := range NumKinds {
		c[k] = slices.Compact(slices.Sorted(slices.Values(s.changed[k])))
		s.changed[k] = nil
	}
	return c
}

// Check reports a reference to a missing resource: the consistency that
// Envoy needs (every RDS, cluster, EDS and SDS name it is given exists).
// It is the last line of defence, since the translator never emits a
// reference it does not satisfy; when it fires anyway, the error names
// who refers to what and the Kubernetes object behind it, so an operator
// can find the object without reading resource dumps.
func (s *ResourceSet) Check() error {
	if len(s.missing) == 0 {
		return nil
	}
	missing := slices.SortedFunc(maps.Keys(s.missing), func(a, b Ref) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	r := missing[0]
	return fmt.Errorf("%s %q%s is referenced by %s but not there (%d missing in all)",
		r.Kind, r.Name, sourceObject(r), s.referrer(r), len(missing))
}

// referrer names the first resource (and part: a virtual host) that
// refers to r. It walks the whole set, which only a failed Check does.
func (s *ResourceSet) referrer(r Ref) string {
	for k := range NumKinds {
		for _, res := range s.Sorted(k) {
			if slices.Contains(res.Refs, r) {
				return fmt.Sprintf("%s %q", k, res.Name)
			}
			for _, part := range res.Parts {
				if slices.Contains(part.Refs, r) {
					return fmt.Sprintf("%s %q (part %q)", k, res.Name, part.Name)
				}
			}
		}
	}
	return "a resource no longer present"
}

// sourceObject names the Kubernetes object a resource is built from, when
// its name says: a cluster or assignment is a Service port
// (<namespace>/<service>/<port>[/udp]), a secret a Secret.
func sourceObject(r Ref) string {
	parts := strings.Split(r.Name, "/")
	switch {
	case (r.Kind == KindCluster || r.Kind == KindEndpoint) && len(parts) >= 3:
		return fmt.Sprintf(" (Service %s/%s port %s)", parts[0], parts[1], strings.Join(parts[2:], "/"))
	case r.Kind == KindSecret && len(parts) == 2:
		return fmt.Sprintf(" (Secret %s)", r.Name)
	}
	return ""
}

// checkAll is Check done the long way, for tests of the counting.
func (s *ResourceSet) checkAll() error {
	for k := range NumKinds {
		for _, r := range s.byKind[k] {
			for _, part := range append([]*Resource{r}, r.Parts...) {
				for _, ref := range part.Refs {
					if s.byKind[ref.Kind][ref.Name] == nil {
						return fmt.Errorf("%s %q references %s %q, which is not there", k, r.Name, ref.Kind, ref.Name)
					}
				}
			}
		}
	}
	return nil
}

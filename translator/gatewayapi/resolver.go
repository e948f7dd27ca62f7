package gatewayapi

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Resolver is Resolve with a memory: it keeps each HTTPRoute's and
// GRPCRoute's lowered rules, and the rules it placed on each listener,
// from one call to the next, so that a change of one route among
// thousands lowers that route alone. Lowering is the front end's costly
// part (filters, matches, backends, field names); attaching, the
// cross-route rules (HostnameConflict, attachedRoutes, precedence) and
// the status are decided anew on every call, from the whole input, so
// they need no invalidation. Its Models equal Resolve's for the same
// input (TestResolverEqualsResolve); the back end may compare the
// HTTPRules of two Models by pointer before it compares their content.
type Resolver struct {
	// grants are the ReferenceGrants the memo was lowered under; any
	// change of them drops the memo, since a cross-namespace backendRef
	// of any route may read them.
	grants []*gatewayv1.ReferenceGrant
	routes map[any]*lowered
	epoch  uint64
	// last is the Gateways' resolution the routes attach to, and stage
	// counts its renewals: a route attached under another stage attaches
	// again.
	last  *stage
	stage uint64
	// sorted are the HTTP rules of each listener, in precedence order,
	// as the last resolve gave them.
	sorted map[listenerKey][]*HTTPRule
}

// stage is what resolving the Gateways read, and what it gave. It is
// reused while the GatewayClasses, Gateways and Namespaces are the same
// objects, the Secrets their listeners read the same, and the options
// the same (CertificateError is taken to be one function for the life
// of a Resolver).
type stage struct {
	classes    []*gatewayv1.GatewayClass
	gateways   []*gatewayv1.Gateway
	namespaces []*corev1.Namespace
	controller string
	dedicated  bool
	secrets    []secretRead
	resolved   []*gateway
	byName     map[types.NamespacedName]*gateway
}

type secretRead struct {
	key    types.NamespacedName
	secret *corev1.Secret
}

// lowered is what attaching and lowering one route object gave, and
// what it read.
type lowered struct {
	// stage is the Resolver's stage the route was attached under, and
	// st what attaching and lowering gave (no parents: no Gateway of
	// fairway's); finished its status, once made from those parents.
	stage    uint64
	st       routeState
	finished *finishedRoute
	// didLower: rules, resolved and unsupported are the route's lowering
	// (a route is lowered once it has parents).
	didLower              bool
	rules                 []loweredRule
	resolved, unsupported *refProblem
	// services are the Services lowering looked up, as it found them
	// (nil: missing): the memo holds while each lookup finds the same.
	services []serviceRead
	// placed are the HTTPRules made of rules for one listener and
	// hostnames, reused while the route is unchanged.
	placed []placedSet
	seen   uint64
}

type serviceRead struct {
	key types.NamespacedName
	svc *corev1.Service
}

// NewResolver returns a Resolver with an empty memory.
func NewResolver() *Resolver { return &Resolver{routes: map[any]*lowered{}} }

// Resolve is the package's Resolve, reusing what the earlier calls
// lowered for the route objects in that are the same (by pointer: an
// informer's objects are never changed in place) and read the same
// Services and ReferenceGrants.
func (rv *Resolver) Resolve(in Input, opts Options) *Model {
	if !slices.Equal(rv.grants, in.ReferenceGrants) {
		rv.grants = slices.Clone(in.ReferenceGrants)
		clear(rv.routes)
		rv.last = nil
	}
	rv.epoch++
	r := newResolver(in, opts)
	r.memo = rv
	return r.run()
}

// sweep forgets the routes this resolve did not see, and the placements
// it did not use, noting their rules as gone.
func (r *resolver) sweep() {
	if r.memo == nil {
		return
	}
	for k, l := range r.memo.routes {
		if l.seen != r.memo.epoch {
			r.dropPlaced(l)
			delete(r.memo.routes, k)
			continue
		}
		if !slices.ContainsFunc(l.placed, func(p placedSet) bool { return p.used != r.memo.epoch }) {
			continue
		}
		l.placed = slices.DeleteFunc(l.placed, func(p placedSet) bool {
			if p.used != r.memo.epoch {
				r.noteGone(p.rules)
				return true
			}
			return false
		})
	}
}

// route attaches and lowers one HTTPRoute or GRPCRoute through the
// memo: what the memo holds for the object while what it read is the
// same, else anew, recorded. The routeState is new on every call.
func (r *resolver) route(key any, kind string, o metav1.Object, parents []gatewayv1.ParentReference, hostnames []gatewayv1.Hostname, lower func(*routeState) []loweredRule) pendingRoute {
	var m *lowered
	if r.memo != nil {
		if m = r.memo.routes[key]; m != nil && !r.sameServices(m.services) {
			r.dropPlaced(m)
			m = nil
		}
	}
	if m != nil && m.stage == r.memo.stage {
		m.seen = r.memo.epoch
		return pendingRoute{&m.st, m} // crossServing changes a copy
	}
	st := r.attach(kind, o, parents, hostnames, true)
	if m == nil {
		m = &lowered{}
	}
	if len(st.parents) > 0 && !m.didLower {
		r.reads = r.reads[:0]
		m.rules, m.didLower = lower(st), true
		m.resolved, m.unsupported = st.resolved, st.unsupported
		m.services = slices.Clone(r.reads)
	}
	st.resolved, st.unsupported = m.resolved, m.unsupported
	m.st, m.finished = *st, nil
	if r.memo != nil {
		m.stage, m.seen = r.memo.stage, r.memo.epoch
		r.memo.routes[key] = m
	}
	return pendingRoute{st, m}
}

// sameServices reports whether the Services a kept route read look up
// the same; only those the input names as changed can differ.
func (r *resolver) sameServices(reads []serviceRead) bool {
	changed := r.in.ChangedServices
	if changed != nil && len(changed) == 0 {
		return true
	}
	for _, s := range reads {
		if changed != nil && !changed[s.key] {
			continue
		}
		if r.lookupService(s.key) != s.svc {
			return false
		}
	}
	return true
}

// service looks a backend's Service up, recording the read for the memo.
func (r *resolver) service(key types.NamespacedName) *corev1.Service {
	svc := r.lookupService(key)
	if r.memo != nil {
		r.reads = append(r.reads, serviceRead{key, svc})
	}
	return svc
}

func (r *resolver) lookupService(key types.NamespacedName) *corev1.Service {
	if r.in.LookupService != nil {
		return r.in.LookupService(key)
	}
	return r.services[key]
}

// secret looks a certificate's Secret up, recording the read for the
// memo.
func (r *resolver) secret(key types.NamespacedName) *corev1.Secret {
	s := r.lookupSecret(key)
	if r.memo != nil {
		r.secretReads = append(r.secretReads, secretRead{key, s})
	}
	return s
}

func (r *resolver) lookupSecret(key types.NamespacedName) *corev1.Secret {
	if r.in.LookupSecret != nil {
		return r.in.LookupSecret(key)
	}
	return r.secrets[key]
}

// reuseStage takes the last resolve's Gateways when nothing they read
// changed, with their listeners' route counts and Models emptied; it
// reports whether it did.
func (r *resolver) reuseStage() bool {
	if r.memo == nil || r.memo.last == nil {
		return false
	}
	k := r.memo.last
	if !slices.Equal(k.classes, r.in.GatewayClasses) || !slices.Equal(k.gateways, r.in.Gateways) ||
		!slices.Equal(k.namespaces, r.in.Namespaces) || k.controller != r.opts.ControllerName || k.dedicated != r.opts.Dedicated {
		return false
	}
	for _, s := range k.secrets {
		if r.lookupSecret(s.key) != s.secret {
			return false
		}
	}
	r.gateways, r.byName = k.resolved, k.byName
	for _, gw := range r.gateways {
		for _, l := range gw.listeners {
			l.attached = 0
			if l.model != nil {
				m := *l.model
				m.HTTP, m.Streams = nil, nil
				if n := len(r.memo.sorted[keyOf(l)]); n > 0 {
					// As many as last time, and room for a change's
					// few more, so that placing 10k routes does not
					// grow the list a dozen times.
					m.HTTP = make([]*HTTPRule, 0, n+n/64+16)
				}
				l.model = &m
			}
		}
	}
	return true
}

// keepStage records the Gateways just resolved, and what they read.
func (r *resolver) keepStage() {
	if r.memo == nil {
		return
	}
	r.memo.stage++
	r.memo.last = &stage{
		classes: slices.Clone(r.in.GatewayClasses), gateways: slices.Clone(r.in.Gateways), namespaces: slices.Clone(r.in.Namespaces),
		controller: r.opts.ControllerName, dedicated: r.opts.Dedicated, secrets: slices.Clone(r.secretReads),
		resolved: r.gateways, byName: r.byName,
	}
}

package gatewayapi

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
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
}

// lowered is what lowering one route object gave, and what it read.
type lowered struct {
	rules                 []loweredRule
	resolved, unsupported *refProblem
	// services are the Services lowering looked up, as it found them
	// (nil: missing): the memo holds while each lookup finds the same.
	services []serviceRead
	// placed are the HTTPRules made of rules for one listener and
	// hostnames, reused while the route is unchanged.
	placed map[placement][]*HTTPRule
	seen   uint64
}

type serviceRead struct {
	key types.NamespacedName
	svc *corev1.Service
}

// placement is where a route's rules are placed: a listener of a
// Gateway, with the hostnames the route has there.
type placement struct {
	gateway types.NamespacedName
	name    gatewayv1.SectionName
	hosts   string
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
	}
	rv.epoch++
	r := newResolver(in, opts)
	r.memo = rv
	m := r.run()
	for k, l := range rv.routes {
		if l.seen != rv.epoch {
			delete(rv.routes, k)
		}
	}
	return m
}

// lower is lowering of one route through the memo: the memo's result
// when the route and what it read are unchanged, else a new lowering,
// recorded.
func (r *resolver) lower(key any, st *routeState, lower func() []loweredRule) *lowered {
	if r.memo == nil {
		return &lowered{rules: lower()}
	}
	if l := r.memo.routes[key]; l != nil && r.sameServices(l.services) {
		l.seen = r.memo.epoch
		st.resolved, st.unsupported = l.resolved, l.unsupported
		return l
	}
	r.reads = r.reads[:0]
	l := &lowered{rules: lower(), seen: r.memo.epoch}
	l.resolved, l.unsupported = st.resolved, st.unsupported
	l.services = slices.Clone(r.reads)
	r.memo.routes[key] = l
	return l
}

func (r *resolver) sameServices(reads []serviceRead) bool {
	for _, s := range reads {
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

func (r *resolver) secret(key types.NamespacedName) *corev1.Secret {
	if r.in.LookupSecret != nil {
		return r.in.LookupSecret(key)
	}
	return r.secrets[key]
}

// placedRules are the HTTPRules of a route's lowered rules on one
// listener with hostnames hosts: the memo's when the route was placed
// there before, else new ones. Each rule has slices of its own, so that
// the back end may sort them; the policy is shared, and only read.
func (l *lowered) placedRules(obj Object, on *listener, hosts []string) []*HTTPRule {
	key := placement{nn(on.gw.obj.Namespace, on.gw.obj.Name), on.spec.Name, strings.Join(hosts, "\x00")}
	if len(hosts) == 0 && hosts != nil {
		key.hosts = "\x01" // no hostnames, which is not nil (any)
	}
	if out, ok := l.placed[key]; ok {
		return out
	}
	out := make([]*HTTPRule, 0, len(l.rules))
	for _, lr := range l.rules {
		out = append(out, &HTTPRule{
			Route: obj, Rule: lr.rule, Match: lr.match, Hostnames: slices.Clone(hosts),
			Path: lr.path, Request: lr.request, Policy: lr.policy,
			Backends: slices.Clone(lr.backends.valid), Invalid: lr.backends.invalid, GRPC: lr.grpc,
		})
	}
	if l.placed == nil {
		l.placed = map[placement][]*HTTPRule{}
	}
	l.placed[key] = out
	return out
}

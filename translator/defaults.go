package translator

import (
	"slices"
)

// defaultState is the cluster-wide default backend: the oldest served
// Ingress's spec.defaultBackend. It ends every virtual host's routes.
type defaultState struct {
	route   *httpRoute
	service nsName // the Service it names, for invalidation
	// authService is the Service its auth-url names, if any: the route
	// answers 503 until that Service exists (extauth_cluster.go).
	authService nsName
	clusters    []clusterUse
}

// recomputeDefaults picks the default backend and reports whether its
// route changed (then every virtual host must be encoded again).
func (e *Engine) recomputeDefaults() bool {
	var candidates []*ingressState
	for _, st := range e.ingresses {
		if st.served && st.hasDefault() {
			candidates = append(candidates, st)
		}
	}
	slices.SortFunc(candidates, func(a, b *ingressState) int { return compareAge(&a.obj.ObjectMeta, &b.obj.ObjectMeta) })
	t := e.scope()
	next := defaultState{}
	for i, st := range candidates {
		if i > 0 {
			t.problems.add(st.ref, DefaultBackendConflict, "spec.defaultBackend is ignored: Ingress %s, which is older, already sets the default backend", next.route.origin.NamespacedName())
			continue
		}
		next.route = &httpRoute{match: pathMatch{path: "/"}, origin: st.ref, field: fieldPath{isDefault: true}, policy: st.policy}
		next.route.cluster, next.route.plain = t.resolveBackend(st.ref, next.route.field.backend(), st.obj.Namespace, *st.obj.Spec.DefaultBackend, st.policy)
		t.resolveAuth(st, next.route)
		if st.policy != nil && st.policy.ExtAuth != nil {
			u := st.policy.ExtAuth.URL
			next.authService = nsName{u.Namespace, u.Service}
		}
		if b := st.obj.Spec.DefaultBackend.Service; b != nil {
			next.service = nsName{st.obj.Namespace, b.Name}
		}
	}
	next.clusters = t.clusters
	e.setProblems(slot{piece: slotDefaults}, t.problems)
	prev := e.defaults
	e.clusters.release(prev.clusters)
	e.clusters.acquire(next.clusters)
	e.defaults = next
	return !sameRoute(prev.route, next.route)
}

func sameRoute(a, b *httpRoute) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.canary, y.canary = nil, nil // rebuilt with the route: compared by value
	return x == y && sameCanary(a.canary, b.canary)
}

package translator

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// claimsState is the outcome of the port claims: who holds which port, the
// listeners that follow, and who is admitted.
type claimsState struct {
	lbServices map[nsName]bool
	specs      map[string]listenerSpec // listener name -> what it was built from
	clusters   map[clusterKey]string
	httpWon    bool
	httpsWon   bool
	services   []ServiceAdmission
	ingresses  []ObjectRef
	problems   []Problem
}

// recomputeClaims settles the port claims of LoadBalancer ports and the
// Ingress listeners, and updates the listeners that depend on them (the
// https listener comes with TLS).
func (e *Engine) recomputeClaims() error {
	t := e.scope()
	handled := e.handledServices(t)
	lbPorts := t.loadBalancerPorts(handled)
	oldest, oldestTLS := e.oldestServed()
	httpClaim := ingressClaim(oldest, e.opts.HTTPPort, envoy.HTTPListenerName)
	httpsClaim := ingressClaim(oldestTLS, e.opts.HTTPSPort, envoy.HTTPSListenerName)
	claims := make([]*portClaim, 0, len(lbPorts)+2)
	for _, p := range lbPorts {
		if p.claim != nil {
			claims = append(claims, p.claim)
		}
	}
	for _, c := range []*portClaim{httpClaim, httpsClaim} {
		if c != nil {
			claims = append(claims, c)
		}
	}
	settleClaims(claims)
	specs, admitted := t.layer4(lbPorts)
	next := claimsState{
		lbServices: make(map[nsName]bool, len(handled)),
		specs:      make(map[string]listenerSpec, len(specs)+1),
		httpWon:    httpClaim != nil && httpClaim.won(),
		httpsWon:   httpsClaim != nil && httpsClaim.won(),
		services:   admitted,
	}
	for _, svc := range handled {
		next.lbServices[keyOf(&svc.ObjectMeta)] = true
	}
	next.ingresses = e.admitIngresses(t, httpClaim, httpsClaim, next.httpWon, next.httpsWon)
	if next.httpWon {
		specs = append(specs, listenerSpec{name: envoy.HTTPListenerName, port: uint32(e.opts.HTTPPort)})
	}
	for _, s := range specs {
		next.specs[s.name] = s
	}
	next.problems, next.clusters = t.problems, t.clusters
	err := e.replaceListeners(e.claims.specs, next.specs)
	e.clusters.release(e.claims.clusters)
	e.clusters.acquire(next.clusters)
	e.claims = next
	return err
}

// ingressClaim is an Ingress listener's claim, dated by the oldest Ingress
// that needs it; no such Ingress, no claim, so the port is free.
func ingressClaim(oldest *networkingv1.Ingress, port int32, listener string) *portClaim {
	if oldest == nil {
		return nil
	}
	return &portClaim{
		port: port, protocol: corev1.ProtocolTCP, since: &oldest.ObjectMeta,
		ref:  ObjectRef{Kind: "Ingress", Namespace: oldest.Namespace, Name: oldest.Name},
		what: "the Ingress " + listener + " listener",
	}
}

// admitIngresses admits the served Ingresses that got a listener and gives
// the others a PortConflict.
func (e *Engine) admitIngresses(t *translation, httpClaim, httpsClaim *portClaim, httpWon, httpsWon bool) []ObjectRef {
	var admitted []ObjectRef
	for _, st := range e.ingresses {
		if !st.served {
			continue
		}
		if !httpWon {
			t.problems.add(st.ref, PortConflict, "%s", httpClaim.conflictMessage())
		}
		if st.hasTLS() && !httpsWon {
			t.problems.add(st.ref, PortConflict, "%s", httpsClaim.conflictMessage())
		}
		if httpWon || (st.hasTLS() && httpsWon) {
			admitted = append(admitted, st.ref)
		}
	}
	return admitted
}

// replaceListeners updates the listeners built from specs, encoding only
// those whose spec changed.
func (e *Engine) replaceListeners(prev, next map[string]listenerSpec) error {
	for name := range prev {
		if _, ok := next[name]; !ok {
			e.envoy.remove(KindListener, name)
		}
	}
	for name, spec := range next {
		if old, ok := prev[name]; ok && old == spec && e.envoy.Get(KindListener, name) != nil {
			continue
		}
		r, err := spec.encode()
		if err != nil {
			return err
		}
		e.envoy.put(KindListener, r)
	}
	return nil
}

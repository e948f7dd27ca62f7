package translator

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// claimsState is the outcome of the port claims: who holds which port, the
// listeners that follow, and which Services are admitted. (Ingresses are
// admitted by the outcome of the two Ingress claims; see Output.Admitted.)
type claimsState struct {
	lbServices map[nsName]bool
	specs      map[string]listenerSpec // listener name -> what it was built from
	clusters   []clusterUse
	httpClaim  *portClaim
	httpsClaim *portClaim
	httpWon    bool
	httpsWon   bool
	services   []ServiceAdmission
	// oldestTLS dates the https claim; a change to another Ingress leaves
	// the claims as they are. (The http claim is dated by an IngressClass.)
	oldestTLS *networkingv1.Ingress
}

// recomputeClaims settles the port claims of LoadBalancer ports and the
// Ingress listeners, and updates the listeners that depend on them (the
// https listener comes with TLS).
func (e *Engine) recomputeClaims() error {
	t := e.scope()
	handled := e.handledServices(t)
	gwAddressed := e.gatewayAddressings(e.gw.ports)
	lbPorts := t.loadBalancerPorts(handled, t.addressServices(handled, gwAddressed))
	gwClaims, gwFailed := gatewayClaims(e.gw.ports, gwAddressed)
	e.gw.failed = gwFailed
	oldestTLS := e.oldestServedTLS()
	httpClaim := e.httpClaim()
	httpsClaim := e.httpsClaim(oldestTLS)
	claims := make([]*portClaim, 0, len(lbPorts)+len(gwClaims)+2)
	for _, p := range lbPorts {
		claims = append(claims, p.claims...)
	}
	claims = append(claims, gwClaims...)
	for _, c := range []*portClaim{httpClaim, httpsClaim} {
		if c != nil {
			claims = append(claims, c)
		}
	}
	settleClaims(claims)
	if httpClaim != nil && !httpClaim.won() {
		// The claimant itself says so, even while it serves no Ingress.
		t.problems.add(httpClaim.ref, PortConflict, "%s", httpClaim.conflictMessage())
	}
	specs, admitted := t.layer4(lbPorts)
	next := claimsState{
		lbServices: make(map[nsName]bool, len(handled)),
		specs:      make(map[string]listenerSpec, len(specs)+1),
		httpClaim:  httpClaim,
		httpsClaim: httpsClaim,
		httpWon:    httpClaim != nil && httpClaim.won(),
		httpsWon:   httpsClaim != nil && httpsClaim.won(),
		services:   admitted,
		oldestTLS:  oldestTLS,
	}
	for _, svc := range handled {
		next.lbServices[keyOf(&svc.ObjectMeta)] = true
	}
	if next.httpWon {
		specs = append(specs, listenerSpec{name: envoy.HTTPListenerName, port: uint32(e.opts.HTTPPort)})
	}
	for _, s := range specs {
		next.specs[s.name] = s
	}
	next.clusters = t.clusters
	e.setProblems(slot{piece: slotClaims}, t.problems)
	err := e.replaceListeners(e.claims.specs, next.specs)
	e.clusters.release(e.claims.clusters)
	e.clusters.acquire(next.clusters)
	e.claims = next
	return err
}

// httpClaim is the http listener's claim, dated by the oldest of
// fairway's IngressClasses: while fairway has a class, a request for a
// host nobody routes gets Envoy's 404 rather than a refused connection
// (an Ingress of another class must answer 404). No class, no claim.
func (e *Engine) httpClaim() *portClaim {
	var oldest *networkingv1.IngressClass
	for name := range e.ours.ours {
		c := e.classes[name]
		if c != nil && (oldest == nil || compareAge(&c.ObjectMeta, &oldest.ObjectMeta) < 0) {
			oldest = c
		}
	}
	gw := e.gw.sharedSince // a Gateway whose HTTP listeners it serves (gatewayshared.go)
	switch {
	case gw != nil && (oldest == nil || compareAge(&gw.ObjectMeta, &oldest.ObjectMeta) < 0):
		return &portClaim{
			port: e.opts.HTTPPort, protocol: corev1.ProtocolTCP, since: &gw.ObjectMeta,
			ref:  gatewayRef(gw.Namespace, gw.Name),
			what: "the Ingress " + envoy.HTTPListenerName + " listener",
		}
	case oldest == nil:
		return nil
	}
	return &portClaim{
		port: e.opts.HTTPPort, protocol: corev1.ProtocolTCP, since: &oldest.ObjectMeta,
		ref:  ObjectRef{Kind: "IngressClass", Name: oldest.Name},
		what: "the Ingress " + envoy.HTTPListenerName + " listener",
	}
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

// admitted reports whether a served Ingress holds a listener.
func (c *claimsState) admitted(st *ingressState) bool {
	return c.httpWon || (st.hasTLS() && c.httpsWon)
}

// ingressConflicts are the PortConflicts of the served Ingresses whose
// listener claim lost; none while the claims hold, the usual case.
func (e *Engine) ingressConflicts() []Problem {
	c := &e.claims
	if (c.httpClaim == nil || c.httpWon) && (c.httpsClaim == nil || c.httpsWon) {
		return nil
	}
	var ps problems
	for _, st := range e.ingresses {
		if !st.served {
			continue
		}
		if c.httpClaim != nil && !c.httpWon {
			ps.add(st.ref, PortConflict, "%s", c.httpClaim.conflictMessage())
		}
		if st.hasTLS() && c.httpsClaim != nil && !c.httpsWon {
			ps.add(st.ref, PortConflict, "%s", c.httpsClaim.conflictMessage())
		}
	}
	return ps
}

// claimsAffected reports whether a change of one Ingress, from prev to
// next, can move the https claim: it was, or becomes, the oldest with TLS.
// Any other Ingress leaves the claims alone; the http claim follows the
// IngressClasses (classesChanged).
func (e *Engine) claimsAffected(prev, next *ingressState) bool {
	c := &e.claims
	if prev != nil && prev.served && prev.obj == c.oldestTLS {
		return true
	}
	if next == nil || !next.served || !next.hasTLS() {
		return false
	}
	return c.oldestTLS == nil || compareAge(&next.obj.ObjectMeta, &c.oldestTLS.ObjectMeta) <= 0
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
		r, err := spec.encode(&e.opts, e.logs)
		if err != nil {
			return err
		}
		e.envoy.put(KindListener, r)
	}
	return nil
}

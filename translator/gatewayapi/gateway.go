package gatewayapi

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// gateway is one of fairway's Gateways while Resolve decides about it.
type gateway struct {
	obj        Object
	generation int64
	// unaccepted says why the Gateway as a whole is not served ("" when
	// it is), and with which reason.
	unaccepted gatewayv1.GatewayConditionReason
	message    string
	listeners  []*listener
}

func nn(ns, name string) types.NamespacedName { return types.NamespacedName{Namespace: ns, Name: name} }

// resolveGateways checks each Gateway of an accepted class of fairway's
// and its listeners. Gateways of other classes are not fairway's: they
// get no status and serve nothing.
func (r *resolver) resolveGateways(classes map[string]bool) {
	for _, g := range r.in.Gateways {
		if !classes[string(g.Spec.GatewayClassName)] {
			continue
		}
		gw := &gateway{obj: objectOf(kindGateway, g), generation: g.Generation}
		for i := range g.Spec.Listeners {
			l := r.newListener(gw, &g.Spec.Listeners[i])
			l.index = i
			gw.listeners = append(gw.listeners, l)
		}
		if g.Spec.TLS != nil {
			refuseGatewayTLS(gw.listeners)
		}
		gw.unaccepted, gw.message = unsupportedSpec(g)
		conflictsWithin(gw.listeners)
		r.gateways = append(r.gateways, gw)
		r.byName[nn(gw.obj.Namespace, gw.obj.Name)] = gw
	}
	slices.SortFunc(r.gateways, func(a, b *gateway) int { return compareAge(a.obj, b.obj) })
	var claimed []*listener
	for _, gw := range r.gateways {
		for _, l := range gw.listeners {
			if gw.unaccepted != "" || !l.valid() {
				continue
			}
			if !r.opts.Dedicated && conflictsAcross(l, claimed) {
				continue
			}
			claimed = append(claimed, l)
			l.model = &Listener{
				Gateway: gw.obj, Name: string(l.spec.Name), Port: l.spec.Port, Protocol: l.spec.Protocol,
				Hostname: string(deref(l.spec.Hostname, "")), TLS: l.tls, Dedicated: r.opts.Dedicated,
			}
		}
		if gw.unaccepted == "" && !slices.ContainsFunc(gw.listeners, func(l *listener) bool { return l.model != nil }) {
			gw.unaccepted = gatewayv1.GatewayReasonListenersNotValid
			gw.message = "no listener is valid: " + invalidListeners(gw)
		}
	}
}

// unsupportedSpec is why a Gateway cannot be accepted at all, whatever
// its listeners: an address of a type fairway cannot bind (only IP
// addresses: the fleet's listeners bind IPs, and a Hostname would need
// a DNS record fairway does not write), or infrastructure parameters it
// does not read (refused rather than ignored, as a GatewayClass's).
// Whether an IP address can be had is the engine's to settle, with the
// pools (Programmed). Infrastructure labels and annotations are for the
// resources an implementation creates per Gateway; fairway creates none,
// so they change nothing.
func unsupportedSpec(g *gatewayv1.Gateway) (gatewayv1.GatewayConditionReason, string) {
	for i, a := range g.Spec.Addresses {
		if a.Type != nil && *a.Type != gatewayv1.IPAddressType {
			return gatewayv1.GatewayReasonUnsupportedAddress,
				fmt.Sprintf("spec.addresses[%d]: type %q is not supported: fairway binds IPAddress addresses only", i, *a.Type)
		}
	}
	if inf := g.Spec.Infrastructure; inf != nil && inf.ParametersRef != nil {
		return gatewayv1.GatewayReasonInvalidParameters,
			fmt.Sprintf("spec.infrastructure.parametersRef (%s %s): fairway reads no Gateway parameters yet", inf.ParametersRef.Kind, inf.ParametersRef.Name)
	}
	return "", ""
}

// refuseGatewayTLS refuses every listener of a Gateway with spec.tls:
// fairway neither checks client certificates (frontend validation, which
// guards access) nor presents one to backends yet, and serving the
// listeners without what the Gateway asks would be silent.
func refuseGatewayTLS(ls []*listener) {
	for _, l := range ls {
		if l.accepted.ok() {
			l.accepted = verdict{gatewayv1.ListenerReasonUnsupportedValue,
				"spec.tls (frontend client certificate validation, backend client certificates) is not supported yet"}
		}
	}
}

func (l *listener) valid() bool {
	return l.accepted.ok() && l.resolved.ok() && l.conflicted.ok()
}

// transport is the socket a protocol binds: UDP listeners never conflict
// with TCP-based ones on the same port number.
func transport(p gatewayv1.ProtocolType) string {
	if p == gatewayv1.UDPProtocolType {
		return "udp"
	}
	return "tcp"
}

// family groups the protocols that can share one port: HTTPS and TLS
// listeners are told apart by SNI on one TLS listener, as Envoy Gateway
// does; HTTP, TCP and UDP each need the port to themselves.
func family(p gatewayv1.ProtocolType) string {
	if p == gatewayv1.HTTPSProtocolType || p == gatewayv1.TLSProtocolType {
		return "tls"
	}
	return string(p)
}

// protocolsConflict says whether two listeners on one port cannot share
// it: other families, or TLS listeners of both modes (Terminate and
// Passthrough) while fairway does not claim TLSRouteModeMixed, as the
// conformance suite asks.
func protocolsConflict(a, b *gatewayv1.Listener) bool {
	if family(a.Protocol) != family(b.Protocol) {
		return true
	}
	return a.Protocol == gatewayv1.TLSProtocolType && b.Protocol == gatewayv1.TLSProtocolType &&
		tlsMode(a) != tlsMode(b) && !supports(features.SupportTLSRouteModeMixed)
}

func describeProtocol(l *gatewayv1.Listener) string {
	if l.Protocol == gatewayv1.TLSProtocolType {
		return fmt.Sprintf("%s (%s)", l.Protocol, tlsMode(l))
	}
	return string(l.Protocol)
}

// conflictsWithin marks the listeners of one Gateway that cannot be told
// apart, whatever else is wrong with them (distinctness is a matter of
// port, protocol and hostname alone). As the spec asks, every listener of a conflicting set is
// refused, none picked as a winner: protocols that cannot share a port
// (ProtocolConflict), or one port and protocol family with the same
// hostname (HostnameConflict; TCP and UDP have no hostname, so two of
// them on one port always conflict).
func conflictsWithin(ls []*listener) {
	for i, a := range ls {
		for j, b := range ls {
			if i == j || !knownProtocol(a.spec.Protocol) || !knownProtocol(b.spec.Protocol) || a.spec.Port != b.spec.Port ||
				transport(a.spec.Protocol) != transport(b.spec.Protocol) {
				continue
			}
			switch {
			case protocolsConflict(a.spec, b.spec):
				a.conflicted = verdict{gatewayv1.ListenerReasonProtocolConflict,
					fmt.Sprintf("port %d: protocol %s cannot share the port with listener %s, %s", a.spec.Port, describeProtocol(a.spec), b.spec.Name, describeProtocol(b.spec))}
			case strings.EqualFold(string(deref(a.spec.Hostname, "")), string(deref(b.spec.Hostname, ""))) &&
				a.conflicted.reason != gatewayv1.ListenerReasonProtocolConflict:
				a.conflicted = verdict{gatewayv1.ListenerReasonHostnameConflict,
					fmt.Sprintf("port %d: listener %s has the same protocol family and hostname %q", a.spec.Port, b.spec.Name, deref(b.spec.Hostname, ""))}
			}
		}
	}
}

// conflictsAcross marks a listener of a newer Gateway that wants a port
// an older Gateway's listener holds, when the fleet is shared (no address
// pool): another protocol family on the port, or the same one with
// hostnames that overlap. The oldest Gateway keeps the port, so a new
// Gateway never takes traffic from one that serves already.
func conflictsAcross(l *listener, claimed []*listener) bool {
	for _, c := range claimed {
		if c.gw == l.gw || c.spec.Port != l.spec.Port || transport(c.spec.Protocol) != transport(l.spec.Protocol) {
			continue
		}
		owner := fmt.Sprintf("listener %s of the older Gateway %s/%s", c.spec.Name, c.gw.obj.Namespace, c.gw.obj.Name)
		if protocolsConflict(c.spec, l.spec) {
			l.conflicted = verdict{gatewayv1.ListenerReasonProtocolConflict,
				fmt.Sprintf("port %d is held by %s with protocol %s", l.spec.Port, owner, describeProtocol(c.spec))}
			return true
		}
		if overlap(string(deref(c.spec.Hostname, "")), string(deref(l.spec.Hostname, ""))) {
			l.conflicted = verdict{gatewayv1.ListenerReasonHostnameConflict,
				fmt.Sprintf("port %d: hostname %q overlaps %q of %s", l.spec.Port, deref(l.spec.Hostname, ""), deref(c.spec.Hostname, ""), owner)}
			return true
		}
	}
	return false
}

func invalidListeners(gw *gateway) string {
	var out []string
	for _, l := range gw.listeners {
		if l.model == nil {
			out = append(out, string(l.spec.Name)+" ("+string(l.firstProblem().reason)+")")
		}
	}
	return strings.Join(out, ", ")
}

// firstProblem is the verdict that keeps the listener from serving.
func (l *listener) firstProblem() verdict {
	for _, v := range []verdict{l.conflicted, l.accepted, l.resolved} {
		if !v.ok() {
			return v
		}
	}
	if l.gw.unaccepted != "" {
		return verdict{gatewayv1.ListenerReasonInvalid, "the Gateway is not accepted: " + l.gw.message}
	}
	return verdict{}
}

// status is the Gateway's status: Accepted and Programmed, then each
// listener's four conditions in the order of spec.listeners.
// status.addresses stay empty: the translator's engine fills them with
// where the Gateway is reachable.
func (gw *gateway) status() GatewayStatus {
	st := GatewayStatus{Namespace: gw.obj.Namespace, Name: gw.obj.Name}
	accepted := condition(string(gatewayv1.GatewayConditionAccepted), true, string(gatewayv1.GatewayReasonAccepted), "", gw.generation)
	programmed := condition(string(gatewayv1.GatewayConditionProgrammed), true, string(gatewayv1.GatewayReasonProgrammed), "", gw.generation)
	if gw.unaccepted != "" {
		accepted = condition(string(gatewayv1.GatewayConditionAccepted), false, string(gw.unaccepted), gw.message, gw.generation)
		programmed = condition(string(gatewayv1.GatewayConditionProgrammed), false, string(gatewayv1.GatewayReasonInvalid), "the Gateway is not accepted", gw.generation)
	} else if bad := invalidListeners(gw); bad != "" {
		// The spec's ListenersNotValid with Accepted true: the Gateway
		// serves its valid listeners and names the others.
		accepted.Reason, accepted.Message = string(gatewayv1.GatewayReasonListenersNotValid), "some listeners are not valid: "+bad
	}
	st.Status.Conditions = []metav1.Condition{accepted, programmed}
	for _, l := range gw.listeners {
		st.Status.Listeners = append(st.Status.Listeners, l.status())
	}
	return st
}

func (l *listener) status() gatewayv1.ListenerStatus {
	gen := l.gw.generation
	cond := func(t gatewayv1.ListenerConditionType, v verdict, good gatewayv1.ListenerConditionReason) metav1.Condition {
		if v.ok() {
			return condition(string(t), t != gatewayv1.ListenerConditionConflicted, string(good), "", gen)
		}
		return condition(string(t), t == gatewayv1.ListenerConditionConflicted, string(v.reason), v.msg, gen)
	}
	accepted := l.conflicted // a conflicted listener is not accepted, for that reason first
	if accepted.ok() {
		accepted = l.accepted
	}
	programmed := verdict{}
	if l.model == nil {
		programmed = l.firstProblem()
		if p := programmed.reason; p != gatewayv1.ListenerReasonHostnameConflict && p != gatewayv1.ListenerReasonProtocolConflict {
			programmed.reason = gatewayv1.ListenerReasonInvalid
		}
	}
	return gatewayv1.ListenerStatus{
		Name:           l.spec.Name,
		SupportedKinds: l.kinds,
		AttachedRoutes: l.attached,
		Conditions: []metav1.Condition{
			cond(gatewayv1.ListenerConditionAccepted, accepted, gatewayv1.ListenerReasonAccepted),
			cond(gatewayv1.ListenerConditionResolvedRefs, l.resolved, gatewayv1.ListenerReasonResolvedRefs),
			cond(gatewayv1.ListenerConditionProgrammed, programmed, gatewayv1.ListenerReasonProgrammed),
			cond(gatewayv1.ListenerConditionConflicted, l.conflicted, gatewayv1.ListenerReasonNoConflicts),
		},
	}
}

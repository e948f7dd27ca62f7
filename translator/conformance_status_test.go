package translator

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// confStatus is one status assertion of a conformance test, checked
// against the translator's status output (Result.Gateway); the API
// server half of the check is the status writer's.
type confStatus struct {
	// kind and name ("namespace/name"; a GatewayClass's name alone) are
	// the object whose status it reads.
	kind, name string
	// listener picks a Gateway's listener ("*" is every listener; "" the
	// Gateway's own conditions); parent picks a route's parent entries,
	// those of the Gateway "namespace/name" (a "/section" after it says
	// which listener the test means; the suite does not compare it).
	listener, parent string
	cond             string
	status           metav1.ConditionStatus
	reason           string // "" admits any reason
	// attached checks a listener's attachedRoutes instead of a
	// condition; kinds its supportedKinds (the route kinds it must list;
	// none at all when empty).
	attached *int32
	kinds    []string
	// listeners checks that the Gateway's status lists exactly these
	// listeners, as the suite's GatewayStatusMustHaveListeners does.
	listeners []string
	// addressed: the Gateway's status gives it an address; addresses:
	// exactly these IPAddress values.
	addressed bool
	addresses []string
	// noAcceptedParent: the route has no parent entry that accepts it.
	noAcceptedParent bool
	// exact: the parent entry's parentRef must be written out (group,
	// kind, and the namespace across namespaces), as the suite's
	// RouteMustHaveParents compares it; its <Kind>RouteMustHaveCondition
	// reads the conditions only.
	exact bool
	// generation is the object's metadata.generation the conditions must
	// have observed: 1 unless a step changed the object's spec.
	generation int64
}

// recorder is a reporter that keeps what the checks report.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func routeCond(kind, route, parent, cond string, status metav1.ConditionStatus, reason string) confStatus {
	return confStatus{kind: kind, name: route, parent: parent, cond: cond, status: status, reason: reason}
}

// routeAccepted is the suite's RoutesAndParentMustBeAccepted for one
// route and parent: Accepted with reason Accepted.
func routeAccepted(kind, route, parent string) confStatus {
	c := routeCond(kind, route, parent, "Accepted", metav1.ConditionTrue, "Accepted")
	c.exact = true
	return c
}

// refsResolved is the suite's ...MustHaveResolvedRefsConditionsTrue.
func refsResolved(kind, route, parent string) confStatus {
	return routeCond(kind, route, parent, "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
}

// listenersReady are the listener conditions the suite asks of a Gateway
// whose routes it then sends requests through: ResolvedRefs, Accepted and
// Programmed true on every listener (or the named ones).
func listenersReady(gateway string, listeners ...string) []confStatus {
	if len(listeners) == 0 {
		listeners = []string{"*"}
	}
	var out []confStatus
	for _, l := range listeners {
		for _, c := range []string{"ResolvedRefs", "Accepted", "Programmed"} {
			out = append(out, confStatus{kind: "Gateway", name: gateway, listener: l, cond: c, status: metav1.ConditionTrue})
		}
	}
	return out
}

func gatewayCond(gateway, cond string, status metav1.ConditionStatus, reason string) confStatus {
	return confStatus{kind: "Gateway", name: gateway, cond: cond, status: status, reason: reason}
}

func listenerCond(gateway, listener, cond string, status metav1.ConditionStatus, reason string) confStatus {
	return confStatus{kind: "Gateway", name: gateway, listener: listener, cond: cond, status: status, reason: reason}
}

func attachedRoutes(gateway, listener string, n int32) confStatus {
	return confStatus{kind: "Gateway", name: gateway, listener: listener, attached: &n}
}

// checkStatus finds the status the assertion reads and checks it.
func checkStatus(t reporter, res Result, s confStatus) {
	t.Helper()
	ns, name, _ := strings.Cut(s.name, "/")
	switch s.kind {
	case "GatewayClass":
		for _, c := range res.Gateway.GatewayClasses {
			if c.Name == s.name {
				checkCondition(t, "GatewayClass "+s.name, c.Status.Conditions, s)
				return
			}
		}
	case "Gateway":
		for _, g := range res.Gateway.Gateways {
			if g.Namespace == ns && g.Name == name {
				checkGatewayStatus(t, g.Status, s)
				return
			}
		}
	default:
		for _, r := range res.Gateway.Routes {
			if r.Kind == s.kind && r.Namespace == ns && r.Name == name {
				checkRouteParents(t, r.Parents, s)
				return
			}
		}
		if s.noAcceptedParent {
			return
		}
	}
	t.Errorf("%s %s: no status in the Result", s.kind, s.name)
}

func checkGatewayStatus(t reporter, st gatewayv1.GatewayStatus, s confStatus) {
	t.Helper()
	if s.addressed {
		if len(st.Addresses) == 0 {
			t.Errorf("Gateway %s: no address in status", s.name)
		}
		return
	}
	if s.addresses != nil {
		var got []string
		for _, a := range st.Addresses {
			if a.Type != nil && *a.Type != gatewayv1.IPAddressType {
				t.Errorf("Gateway %s: address %s of type %s, want IPAddress", s.name, a.Value, *a.Type)
			}
			got = append(got, a.Value)
		}
		if !slices.Equal(got, s.addresses) {
			t.Errorf("Gateway %s: addresses %v in status, want %v", s.name, got, s.addresses)
		}
		return
	}
	if s.listeners != nil {
		var got []string
		for _, l := range st.Listeners {
			got = append(got, string(l.Name))
		}
		if !sameSet(got, s.listeners) {
			t.Errorf("Gateway %s: listeners %v in status, want %v", s.name, got, s.listeners)
		}
		return
	}
	if s.listener == "" {
		checkCondition(t, "Gateway "+s.name, st.Conditions, s)
		return
	}
	found := false
	for _, l := range st.Listeners {
		if s.listener != "*" && string(l.Name) != s.listener {
			continue
		}
		found = true
		what := "Gateway " + s.name + " listener " + string(l.Name)
		if s.kinds != nil {
			var got []string
			for _, k := range l.SupportedKinds {
				got = append(got, string(k.Kind))
			}
			// As the suite compares them: each kind it names is there, and
			// none is when it names none.
			missing := slices.ContainsFunc(s.kinds, func(k string) bool { return !slices.Contains(got, k) })
			if missing || (len(s.kinds) == 0 && len(got) > 0) {
				t.Errorf("%s: supportedKinds %v, want %v", what, got, s.kinds)
			}
			continue
		}
		if s.attached != nil {
			if l.AttachedRoutes != *s.attached {
				t.Errorf("%s: attachedRoutes %d, want %d", what, l.AttachedRoutes, *s.attached)
			}
			continue
		}
		checkCondition(t, what, l.Conditions, s)
	}
	if !found {
		t.Errorf("Gateway %s: no status for listener %q", s.name, s.listener)
	}
}

func checkRouteParents(t reporter, parents []gatewayv1.RouteParentStatus, s confStatus) {
	t.Helper()
	routeNS, _, _ := strings.Cut(s.name, "/")
	if s.noAcceptedParent {
		if len(parents) > 1 {
			t.Errorf("%s %s: %d parent entries, want at most one, not accepted", s.kind, s.name, len(parents))
		}
		for _, p := range parents {
			for _, c := range p.Conditions {
				if c.Type == "Accepted" && c.Status == metav1.ConditionTrue {
					t.Errorf("%s %s: accepted by %s, want no parent to accept it", s.kind, s.name, p.ParentRef.Name)
				}
			}
		}
		return
	}
	if s.parent == "" && s.cond == "*" {
		if len(parents) == 0 {
			t.Errorf("%s %s: no parent status", s.kind, s.name)
		}
		for _, p := range parents {
			checkCondition(t, s.kind+" "+s.name+" parent "+string(p.ParentRef.Name), p.Conditions, s)
		}
		return
	}
	gw, gwName, _ := strings.Cut(s.parent, "/")
	gwName, _, _ = strings.Cut(gwName, "/") // the suite matches parents without their section
	var matched []gatewayv1.RouteParentStatus
	for _, p := range parents {
		ref := p.ParentRef
		ns := routeNS
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if ns != gw || string(ref.Name) != gwName {
			continue
		}
		if p.ControllerName != DefaultGatewayController {
			t.Errorf("%s %s parent %s: controllerName %q", s.kind, s.name, s.parent, p.ControllerName)
		}
		if s.exact && !fullParentRef(ref, routeNS != gw) {
			t.Errorf("%s %s parent %s: parentRef %s/%s/%s in status, want group gateway.networking.k8s.io, kind Gateway and, across namespaces, the namespace",
				s.kind, s.name, s.parent, refText(ref.Group), refText(ref.Kind), refText(ref.Namespace))
		}
		matched = append(matched, p)
	}
	checkParentsCondition(t, matched, s)
}

// fullParentRef: the parentRef in status names its group and kind, and
// its namespace when the route is in another, as the suite's
// RouteMustHaveParents compares them.
func fullParentRef(ref gatewayv1.ParentReference, crossNamespace bool) bool {
	return refText(ref.Group) == gatewayv1.GroupName && refText(ref.Kind) == "Gateway" && (!crossNamespace || ref.Namespace != nil)
}

func refText[T ~string](p *T) string {
	if p == nil {
		return "<nil>"
	}
	return string(*p)
}

// checkParentsCondition: one of the route's entries for the Gateway has
// the condition (the suite matches parents by Gateway, not by section).
func checkParentsCondition(t reporter, matched []gatewayv1.RouteParentStatus, s confStatus) {
	t.Helper()
	what := s.kind + " " + s.name + " parent " + s.parent
	switch {
	case len(matched) == 0:
		t.Errorf("%s %s: no parent status for %s", s.kind, s.name, s.parent)
	case len(matched) == 1:
		checkCondition(t, what, matched[0].Conditions, s)
	default:
		for _, p := range matched {
			var rec recorder
			checkCondition(&rec, what, p.Conditions, s)
			if len(rec.errs) == 0 {
				return
			}
		}
		t.Errorf("%s: no entry of %d has %s %s (%s)", what, len(matched), s.cond, s.status, orZero(s.reason, "any reason"))
	}
}

// checkCondition: the condition is there with the status and reason,
// observed at the object's generation.
func checkCondition(t reporter, what string, conds []metav1.Condition, s confStatus) {
	t.Helper()
	gen := orZero(s.generation, 1)
	if s.cond == "*" {
		if len(conds) == 0 {
			t.Errorf("%s: no conditions", what)
		}
		for _, c := range conds {
			if c.ObservedGeneration != gen {
				t.Errorf("%s: %s observedGeneration %d, want %d", what, c.Type, c.ObservedGeneration, gen)
			}
		}
		return
	}
	for _, c := range conds {
		if c.Type != s.cond {
			continue
		}
		if (s.status != "" && c.Status != s.status) || (s.reason != "" && c.Reason != s.reason) {
			t.Errorf("%s: %s is %s (%s: %s), want %s (%s)", what, s.cond, c.Status, c.Reason, c.Message, s.status, orZero(s.reason, "any reason"))
		}
		if c.ObservedGeneration != gen {
			t.Errorf("%s: %s observedGeneration %d, want %d", what, s.cond, c.ObservedGeneration, gen)
		}
		return
	}
	t.Errorf("%s: no %s condition (have %v)", what, s.cond, conds)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func supportedKinds(gateway, listener string, kinds ...string) confStatus {
	return confStatus{kind: "Gateway", name: gateway, listener: listener, kinds: append([]string{}, kinds...)}
}

// listenerState is one entry of the suite's GatewayStatusMustHaveListeners:
// the listener's supportedKinds, attachedRoutes and conditions ("Type",
// "True|False", "Reason" or "" for any, in threes).
func listenerState(gateway, listener string, attached int32, kinds []string, conds ...string) []confStatus {
	out := []confStatus{supportedKinds(gateway, listener, kinds...), attachedRoutes(gateway, listener, attached)}
	for i := 0; i+2 < len(conds); i += 3 {
		out = append(out, listenerCond(gateway, listener, conds[i], metav1.ConditionStatus(conds[i+1]), conds[i+2]))
	}
	return out
}

func listenerNames(gateway string, names ...string) confStatus {
	return confStatus{kind: "Gateway", name: gateway, listeners: append([]string{}, names...)}
}

// latest is the suite's <Kind>MustHaveLatestConditions: every condition
// observed the object's generation.
func latest(kind, name string, generation int64) confStatus {
	return confStatus{kind: kind, name: name, cond: "*", generation: generation}
}

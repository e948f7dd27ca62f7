package gatewayapi

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// routeState is one route while Resolve decides where it attaches and
// whether it is valid.
type routeState struct {
	obj        Object
	generation int64
	parents    []parentResult
	// resolved is the first backendRef that does not resolve; the route
	// is still served, that reference's share answered 500.
	resolved *refProblem
	// unsupported is the first thing in the route fairway cannot honour;
	// the route is then not served at all (fail closed, as an Ingress
	// with a refused annotation), and not accepted.
	unsupported *refProblem
}

// parentResult is one parentRef that names one of fairway's Gateways:
// the listeners it attaches to, or why it attaches to none.
type parentResult struct {
	ref      gatewayv1.ParentReference
	attached []attachment
	reason   gatewayv1.RouteConditionReason
	msg      string
}

// attachment is a route on one listener, with the hostnames it is
// served for there (nil: any).
type attachment struct {
	l     *listener
	hosts []string
}

func (s *routeState) refProblem(p *refProblem) {
	if s.resolved == nil {
		s.resolved = p
	}
}

func (s *routeState) reject(reason gatewayv1.RouteConditionReason, msg string) {
	if s.unsupported == nil {
		s.unsupported = &refProblem{reason, msg}
	}
}

// attach decides, for each parentRef of a route that names one of
// fairway's Gateways, which listeners take the route. parentRefs to other
// controllers' Gateways, to missing Gateways or to other kinds get no
// entry: fairway cannot know they are its own. withHosts: the kind has
// hostnames (HTTPRoute, GRPCRoute, TLSRoute) that must meet the
// listener's.
func (r *resolver) attach(kind string, o metav1.Object, parents []gatewayv1.ParentReference, hostnames []gatewayv1.Hostname, withHosts bool) *routeState {
	st := &routeState{obj: objectOf(kind, o), generation: o.GetGeneration()}
	hosts := make([]string, 0, len(hostnames))
	for _, h := range hostnames {
		hosts = append(hosts, string(h))
	}
	for _, ref := range parents {
		if string(deref(ref.Group, groupName)) != groupName || string(deref(ref.Kind, kindGateway)) != kindGateway {
			continue
		}
		gw := r.byName[nn(string(deref(ref.Namespace, gatewayv1.Namespace(o.GetNamespace()))), string(ref.Name))]
		if gw == nil {
			continue
		}
		st.parents = append(st.parents, r.attachParent(st, gw, ref, hosts, withHosts))
	}
	return st
}

// statusRef is the parentRef as the route's status echoes it: as written,
// with the group and kind the API server defaults, so that an object read
// from a YAML file gets the status it would get in a cluster.
func statusRef(ref gatewayv1.ParentReference) gatewayv1.ParentReference {
	if ref.Group != nil && ref.Kind != nil {
		return ref
	}
	// Both defaults in one allocation: every route of 10k gets them.
	d := &struct {
		group gatewayv1.Group
		kind  gatewayv1.Kind
	}{groupName, kindGateway}
	if ref.Group == nil {
		ref.Group = &d.group
	}
	if ref.Kind == nil {
		ref.Kind = &d.kind
	}
	return ref
}

// attachParent applies the spec's steps in order, each with its reason:
// sectionName and port select listeners (NoMatchingParent), which must
// admit the route's kind and namespace (NotAllowedByListeners) and share
// a hostname with it (NoMatchingListenerHostname). The listeners' own
// state does not matter: the spec counts a route as attached (accepted,
// in attachedRoutes) even to a listener that is not accepted or whose
// refs do not resolve; it is served only where the listener serves.
func (r *resolver) attachParent(st *routeState, gw *gateway, ref gatewayv1.ParentReference, hosts []string, withHosts bool) parentResult {
	p := parentResult{ref: statusRef(ref)}
	var selected []*listener
	for _, l := range gw.listeners {
		if (ref.SectionName == nil || *ref.SectionName == l.spec.Name) && (ref.Port == nil || *ref.Port == l.spec.Port) {
			selected = append(selected, l)
		}
	}
	if len(selected) == 0 {
		p.reason, p.msg = gatewayv1.RouteReasonNoMatchingParent, "no listener of the Gateway matches "+describeRef(ref)
		return p
	}
	allowed := false
	for _, l := range selected {
		if !containsKind(l.kinds, gatewayv1.Kind(st.obj.Kind)) || l.namespaces == nil || !l.namespaces(st.obj.Namespace) {
			continue
		}
		allowed = true
		got, ok := []string(nil), true
		if withHosts {
			got, ok = IntersectHostnames(string(deref(l.spec.Hostname, "")), hosts)
		}
		if ok {
			p.attached = append(p.attached, attachment{l: l, hosts: got})
		}
	}
	switch {
	case !allowed:
		p.reason, p.msg = gatewayv1.RouteReasonNotAllowedByListeners,
			fmt.Sprintf("no listener of %s admits %ss from namespace %s", describeRef(ref), st.obj.Kind, st.obj.Namespace)
	case len(p.attached) == 0:
		p.reason, p.msg = gatewayv1.RouteReasonNoMatchingListenerHostname,
			fmt.Sprintf("no listener of %s has a hostname that meets the route's hostnames %v", describeRef(ref), hosts)
	}
	return p
}

func describeRef(ref gatewayv1.ParentReference) string {
	s := "parentRef " + string(ref.Name)
	if ref.SectionName != nil {
		s += " sectionName " + string(*ref.SectionName)
	}
	if ref.Port != nil {
		s += fmt.Sprintf(" port %d", *ref.Port)
	}
	return s
}

// finish records the route's status and, when it is accepted somewhere,
// counts it on each listener it attaches to. It returns the attachments
// the route's rules are to be served on: those on listeners that serve,
// and none when the route holds something fairway cannot honour.
func (r *resolver) finish(st *routeState, controller string) []attachment {
	f := finished(st, controller)
	if f == nil {
		return nil
	}
	r.count(f)
	return f.served
}

// count records a finished route's status and counts it on its
// listeners.
func (r *resolver) count(f *finishedRoute) {
	for _, l := range f.counted {
		l.attached++
	}
	r.routes = append(r.routes, f.status)
}

// finishedRoute is a route's status, the listeners it counts on, and the
// attachments it is served on; nil for a route without parents of
// fairway's.
type finishedRoute struct {
	status  RouteStatus
	counted []*listener
	served  []attachment
}

func finished(st *routeState, controller string) *finishedRoute {
	if len(st.parents) == 0 {
		return nil
	}
	f := &finishedRoute{status: RouteStatus{Kind: st.obj.Kind, Namespace: st.obj.Namespace, Name: st.obj.Name}}
	seen := map[*listener]bool{}
	resolved := condition(string(gatewayv1.RouteConditionResolvedRefs), true, string(gatewayv1.RouteReasonResolvedRefs), "", st.generation)
	if st.resolved != nil {
		resolved = condition(string(gatewayv1.RouteConditionResolvedRefs), false, string(st.resolved.reason), st.resolved.msg, st.generation)
	}
	for _, p := range st.parents {
		accepted := condition(string(gatewayv1.RouteConditionAccepted), true, string(gatewayv1.RouteReasonAccepted), "", st.generation)
		switch {
		case p.reason != "":
			accepted = condition(string(gatewayv1.RouteConditionAccepted), false, string(p.reason), p.msg, st.generation)
		case st.unsupported != nil:
			accepted = condition(string(gatewayv1.RouteConditionAccepted), false, string(st.unsupported.reason), st.unsupported.msg+"; the route is not served", st.generation)
		default:
			for _, a := range p.attached {
				// Two parentRefs may select one listener: the route
				// is served, and counted, there once. It is served
				// only where the listener serves.
				if seen[a.l] {
					continue
				}
				seen[a.l] = true
				f.counted = append(f.counted, a.l)
				if a.l.model != nil {
					f.served = append(f.served, a)
				}
			}
		}
		f.status.Parents = append(f.status.Parents, gatewayv1.RouteParentStatus{
			ParentRef:      p.ref,
			ControllerName: gatewayv1.GatewayController(controller),
			Conditions:     []metav1.Condition{accepted, resolved},
		})
	}
	return f
}

package gatewayapi

import (
	"fmt"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/policy"
)

// refProblem is why a backendRef does not resolve; the first one of a
// route sets its ResolvedRefs condition.
type refProblem struct {
	reason gatewayv1.RouteConditionReason
	msg    string
}

// routeRef is the route a reference is made from: what a ReferenceGrant
// must name.
type routeRef struct {
	kind, namespace string
}

// backend resolves one backendRef of a route: a Service (group "", the
// default kind) whose port the reference names, in the route's namespace
// or in one whose ReferenceGrant admits the route's kind from the route's
// namespace. Anything else is a problem: the route stays accepted, and
// the reference's share of the requests is answered 500, never sent on.
func (r *resolver) backend(from routeRef, ref gatewayv1.BackendObjectReference, weight *int32, field string) (policy.Backend, *refProblem) {
	group, kind := string(deref(ref.Group, "")), string(deref(ref.Kind, "Service"))
	ns := string(deref(ref.Namespace, gatewayv1.Namespace(from.namespace)))
	b := policy.Backend{Namespace: ns, Name: string(ref.Name), Port: deref(ref.Port, 0), Weight: deref(weight, 1)}
	if group != "" || kind != "Service" {
		return b, &refProblem{gatewayv1.RouteReasonInvalidKind,
			fmt.Sprintf("%s: %s/%s %s is not a Service (group \"\", kind Service)", field, group, kind, ref.Name)}
	}
	if !r.grants.allows(reference{groupName, from.kind, from.namespace, "", "Service", ns, b.Name}) {
		return b, &refProblem{gatewayv1.RouteReasonRefNotPermitted,
			fmt.Sprintf("%s: Service %s/%s is in another namespace and no ReferenceGrant there admits %ss from %s", field, ns, b.Name, from.kind, from.namespace)}
	}
	svc := r.service(nn(ns, b.Name))
	if svc == nil {
		return b, &refProblem{gatewayv1.RouteReasonBackendNotFound, fmt.Sprintf("%s: Service %s/%s does not exist", field, ns, b.Name)}
	}
	if ref.Port == nil {
		return b, &refProblem{gatewayv1.RouteReasonBackendNotFound, fmt.Sprintf("%s: a Service reference needs a port", field)}
	}
	for _, p := range svc.Spec.Ports {
		if p.Port == *ref.Port {
			return b, nil
		}
	}
	return b, &refProblem{gatewayv1.RouteReasonBackendNotFound, fmt.Sprintf("%s: Service %s/%s has no port %d", field, ns, b.Name, *ref.Port)}
}

// backendSet is a rule's weighted backends: those that resolve, and the
// summed weight of those that do not.
type backendSet struct {
	valid   []policy.Backend
	invalid int32
}

func (r *resolver) addBackend(set *backendSet, st *routeState, from routeRef, ref gatewayv1.BackendRef, field string, headers *policy.BackendHeaders) {
	b, problem := r.backend(from, ref.BackendObjectReference, ref.Weight, field)
	if problem != nil {
		st.refProblem(problem)
		set.invalid += b.Weight
		return
	}
	b.Headers = headers
	set.valid = append(set.valid, b)
}

// backendFilter is a filter on one backendRef, of an HTTPRoute or a
// GRPCRoute: their filter types differ, their header modifiers do not.
type backendFilter struct {
	typ               string
	request, response *gatewayv1.HTTPHeaderFilter
}

func httpBackendRef(b gatewayv1.HTTPBackendRef) (gatewayv1.BackendRef, []backendFilter) {
	out := make([]backendFilter, len(b.Filters))
	for i, f := range b.Filters {
		out[i] = backendFilter{string(f.Type), f.RequestHeaderModifier, f.ResponseHeaderModifier}
	}
	return b.BackendRef, out
}

func grpcBackendRef(b gatewayv1.GRPCBackendRef) (gatewayv1.BackendRef, []backendFilter) {
	out := make([]backendFilter, len(b.Filters))
	for i, f := range b.Filters {
		out[i] = backendFilter{string(f.Type), f.RequestHeaderModifier, f.ResponseHeaderModifier}
	}
	return b.BackendRef, out
}

// backendHeaders lowers a backendRef's filters: its header modifiers
// become the backend's own edits, made only on what is sent to it and
// what it answers. Any other filter on one backendRef (a mirror, a
// redirect, a rewrite, an extension) rejects the route rather than being
// skipped, as a rule's filters do. nil when there are no edits.
func backendHeaders(st *routeState, filters []backendFilter, field string) *policy.BackendHeaders {
	h := &policy.BackendHeaders{}
	seen := map[string]bool{}
	for i, f := range filters {
		ff := fmt.Sprintf("%s[%d]", field, i)
		if seen[f.typ] {
			st.reject(gatewayv1.RouteReasonIncompatibleFilters, fmt.Sprintf("%s: filter type %s is repeated on one backendRef", ff, f.typ))
		}
		seen[f.typ] = true
		switch f.typ {
		case string(gatewayv1.HTTPRouteFilterRequestHeaderModifier):
			addEdits(st, &h.Request, f.request, ff+".requestHeaderModifier")
		case string(gatewayv1.HTTPRouteFilterResponseHeaderModifier):
			addEdits(st, &h.Response, f.response, ff+".responseHeaderModifier")
		default:
			st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s: filter type %s on one backendRef is not supported (only RequestHeaderModifier and ResponseHeaderModifier are)", ff, f.typ))
		}
	}
	if h.Request.Empty() && h.Response.Empty() {
		return nil
	}
	return h
}

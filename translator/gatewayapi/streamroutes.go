package gatewayapi

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// attachStreams attaches TLSRoutes, TCPRoutes and UDPRoutes: each is one
// StreamRoute on every TLS, TCP or UDP listener it attaches to, with the
// backends of all its rules. The listener's allowed kinds keep each kind
// on its protocol (a TCPRoute never lands on a UDP listener).
func (r *resolver) attachStreams() {
	for _, tr := range r.in.TLSRoutes {
		r.stream(kindTLSRoute, tr, tr.Spec.ParentRefs, tr.Spec.Hostnames, true, tlsRefs(tr.Spec.Rules))
	}
	for _, tr := range r.in.TCPRoutes {
		var refs [][]gatewayv1.BackendRef
		for _, rule := range tr.Spec.Rules {
			refs = append(refs, rule.BackendRefs)
		}
		r.stream(kindTCPRoute, tr, tr.Spec.ParentRefs, nil, false, refs)
	}
	for _, ur := range r.in.UDPRoutes {
		var refs [][]gatewayv1.BackendRef
		for _, rule := range ur.Spec.Rules {
			refs = append(refs, rule.BackendRefs)
		}
		r.stream(kindUDPRoute, ur, ur.Spec.ParentRefs, nil, false, refs)
	}
}

func tlsRefs(rules []gatewayv1.TLSRouteRule) [][]gatewayv1.BackendRef {
	var refs [][]gatewayv1.BackendRef
	for _, rule := range rules {
		refs = append(refs, rule.BackendRefs)
	}
	return refs
}

func (r *resolver) stream(kind string, o metav1.Object, parents []gatewayv1.ParentReference, hostnames []gatewayv1.Hostname, withHosts bool, rules [][]gatewayv1.BackendRef) {
	st := r.attach(kind, o, parents, hostnames, withHosts)
	if len(st.parents) == 0 {
		return
	}
	from := routeRef{kind, o.GetNamespace()}
	var set backendSet
	for i, refs := range rules {
		for j, ref := range refs {
			r.addBackend(&set, st, from, ref, fmt.Sprintf("spec.rules[%d].backendRefs[%d]", i, j), nil)
		}
	}
	for _, a := range r.finish(st, r.opts.ControllerName) {
		a.l.model.Streams = append(a.l.model.Streams, &StreamRoute{
			Route: st.obj, Hostnames: slices.Clone(a.hosts), Backends: slices.Clone(set.valid), Invalid: set.invalid,
		})
	}
}

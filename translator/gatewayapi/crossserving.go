package gatewayapi

import (
	"fmt"
	"slices"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// routeReasonHostnameConflict is the route condition reason for a route
// that loses a hostname to a route of the other kind. The spec names no
// reason for it; HostnameConflict is the one Istio and Traefik use.
const routeReasonHostnameConflict gatewayv1.RouteConditionReason = "HostnameConflict"

// hostClaim is a route's hold on hostnames of one listener.
type hostClaim struct {
	route Object
	hosts []string // nil: every host
}

// crossServing applies the GRPCRoute spec's rule: an HTTPRoute and a
// GRPCRoute on one listener must not share a hostname, and of two that
// would, the older route (creationTimestamp, then namespace/name) keeps
// the listener. The newer one is not attached there; a parentRef that
// keeps no listener is not accepted (HostnameConflict, naming the older
// route). A route that is not accepted anyway claims nothing. It reports
// whether it may have changed any route's parents: among routes of one
// kind alone nothing can conflict. It changes a route's parents on a
// copy, since a Resolver keeps the attached ones.
func crossServing(pending []pendingRoute) bool {
	kinds := map[string]bool{}
	for _, p := range pending {
		kinds[p.st.obj.Kind] = true
	}
	if len(kinds) < 2 {
		return false
	}
	order := make([]*pendingRoute, len(pending))
	for i := range pending {
		order[i] = &pending[i]
	}
	slices.SortFunc(order, func(a, b *pendingRoute) int {
		if c := compareAge(a.st.obj, b.st.obj); c != 0 {
			return c
		}
		return strings.Compare(a.st.obj.Kind, b.st.obj.Kind)
	})
	claims := map[*listener]map[string][]hostClaim{}
	for _, p := range order {
		if p.st.unsupported != nil {
			continue
		}
		st := *p.st
		st.parents = slices.Clone(st.parents)
		p.st = &st
		for i := range st.parents {
			claimListeners(&st.parents[i], st.obj, claims)
		}
	}
	return true
}

// claimListeners keeps, of a parentRef's attachments, those on which no
// route of the other kind holds a hostname the route's meet. Claims are
// kept per listener and kind, so a listener of HTTPRoutes alone costs no
// comparisons.
func claimListeners(pr *parentResult, route Object, claims map[*listener]map[string][]hostClaim) {
	if pr.reason != "" {
		return
	}
	var kept []attachment
	var lost []string
	for _, a := range pr.attached {
		other := kindGRPCRoute
		if route.Kind == kindGRPCRoute {
			other = kindHTTPRoute
		}
		if c := meetingClaim(claims[a.l][other], a.hosts); c != nil {
			lost = append(lost, fmt.Sprintf("listener %s is held by the older %s %s/%s", a.l.spec.Name, c.route.Kind, c.route.Namespace, c.route.Name))
			continue
		}
		if claims[a.l] == nil {
			claims[a.l] = map[string][]hostClaim{}
		}
		claims[a.l][route.Kind] = append(claims[a.l][route.Kind], hostClaim{route: route, hosts: a.hosts})
		kept = append(kept, a)
	}
	pr.attached = kept
	if len(kept) == 0 {
		pr.reason, pr.msg = routeReasonHostnameConflict,
			"an HTTPRoute and a GRPCRoute may not share a hostname on one listener: "+strings.Join(lost, "; ")
	}
}

// meetingClaim is the first claim on hostnames that meet hosts, if any.
func meetingClaim(claims []hostClaim, hosts []string) *hostClaim {
	for i, c := range claims {
		if hostsMeet(c.hosts, hosts) {
			return &claims[i]
		}
	}
	return nil
}

// hostsMeet says whether two hostname sets (nil: every host) share a
// host.
func hostsMeet(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			if overlap(x, y) {
				return true
			}
		}
	}
	return false
}

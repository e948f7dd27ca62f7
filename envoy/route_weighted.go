package envoy

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// UnresolvedBackendCluster is the name a route's share of unresolved
// backends is sent to. No cluster has it (Service clusters are
// <namespace>/<service>/<port>, and it has no "/"), so Envoy answers
// that share with the route's cluster_not_found_response_code, 500, as
// the Gateway API asks of a backendRef that does not resolve. It is
// never a reference: the consistency checks must not look for it.
const UnresolvedBackendCluster = "unresolved-backend"

// Weighted sends a route's requests to several clusters by weight in
// place of its one cluster (weighted_clusters), the Gateway API's
// weighted backendRefs; Envoy's total is the sum of the weights.
type Weighted struct {
	// Clusters have weights above 0.
	Clusters []ClusterWeight
	// Unresolved is the weight of the backends that do not resolve,
	// answered 500; 0 for none.
	Unresolved uint32
}

// ClusterWeight is one weighted cluster. Plain, when set, is the cluster
// a proxyless client gets in its place (it has only the plain clusters,
// not the fleet's protocol variants). RequestHeaders and ResponseHeaders
// are edited only when this cluster is picked (a Gateway API backendRef's
// own header filters); Envoy makes them before the route's own edits,
// so a route's edit of the same header has the last word.
type ClusterWeight struct {
	Name, Plain                     string
	Weight                          uint32
	RequestHeaders, ResponseHeaders HeaderEdits
}

// applyWeighted puts the weighted clusters in place of the route's one
// cluster. It runs before the redirects and guards, which replace the
// action whole.
func applyWeighted(p *RoutePolicy, r *routev3.Route, edge bool) {
	action := r.GetRoute()
	if p.Weighted == nil || action == nil {
		return
	}
	wc := &routev3.WeightedCluster{}
	for _, c := range p.Weighted.Clusters {
		name := c.Name
		if !edge && c.Plain != "" {
			name = c.Plain
		}
		cw := &routev3.WeightedCluster_ClusterWeight{Name: name, Weight: wrapperspb.UInt32(c.Weight)}
		if edge {
			// The fleet's alone, as a route's edits are
			// (applyHeaderEdits): grpc-go makes none.
			cw.RequestHeadersToAdd, cw.RequestHeadersToRemove = headerOptions(c.RequestHeaders), modifiable(c.RequestHeaders.Remove)
			cw.ResponseHeadersToAdd, cw.ResponseHeadersToRemove = headerOptions(c.ResponseHeaders), modifiable(c.ResponseHeaders.Remove)
		}
		wc.Clusters = append(wc.Clusters, cw)
	}
	if p.Weighted.Unresolved > 0 {
		wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{Name: UnresolvedBackendCluster, Weight: wrapperspb.UInt32(p.Weighted.Unresolved)})
		action.ClusterNotFoundResponseCode = routev3.RouteAction_INTERNAL_SERVER_ERROR
	}
	action.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
}

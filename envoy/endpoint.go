package envoy

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Endpoint is one upstream address.
type Endpoint struct {
	Address string
	Port    uint32
}

// Locality is a group of endpoints in one zone ("" when unknown).
type Locality struct {
	Zone      string
	Endpoints []Endpoint
}

// ClusterLoadAssignment lists a cluster's endpoints by locality, in the order
// given. Each locality is weighted by its endpoint count: Envoy ignores the
// weights unless locality-weighted balancing is on, but gRPC's xDS client
// drops localities without a weight, and equal per-endpoint share is what
// kube-proxy gives.
func ClusterLoadAssignment(cluster string, localities []Locality) *endpointv3.ClusterLoadAssignment {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: cluster}
	for _, loc := range localities {
		if len(loc.Endpoints) == 0 {
			continue
		}
		lle := &endpointv3.LocalityLbEndpoints{
			LbEndpoints:         make([]*endpointv3.LbEndpoint, 0, len(loc.Endpoints)),
			LoadBalancingWeight: wrapperspb.UInt32(uint32(len(loc.Endpoints))),
		}
		if loc.Zone != "" {
			lle.Locality = &corev3.Locality{Zone: loc.Zone}
		}
		for _, ep := range loc.Endpoints {
			lle.LbEndpoints = append(lle.LbEndpoints, &endpointv3.LbEndpoint{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
					Address: socketAddress(ep.Address, ep.Port, false),
				}},
			})
		}
		cla.Endpoints = append(cla.Endpoints, lle)
	}
	return cla
}

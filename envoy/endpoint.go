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
	// HealthCheckPort is where the cluster's active health check asks
	// about this endpoint, when not at Port: a node's kube-proxy answers
	// for a Service on its healthCheckNodePort. 0 is Port.
	HealthCheckPort uint32
}

// Locality is a group of endpoints in one zone ("" when unknown).
type Locality struct {
	Zone string
	// SubZone tells apart the localities of a split cluster (SplitCluster),
	// one per backend; "" in a Service port's own cluster.
	SubZone   string
	Endpoints []Endpoint
	// Weight is the locality's share of a split cluster; 0 is the
	// endpoint count, the per-endpoint share of a Service port's own
	// cluster.
	Weight uint32
}

// weight is the locality's load_balancing_weight.
func (l Locality) weight() uint32 {
	if l.Weight != 0 {
		return l.Weight
	}
	return uint32(len(l.Endpoints))
}

// ClusterLoadAssignment lists a cluster's endpoints by locality, in the order
// given. Each locality is weighted by its Weight, else by its endpoint
// count: Envoy ignores the weights unless locality-weighted balancing is on
// (SplitCluster), but gRPC's xDS client drops localities without a weight,
// and equal per-endpoint share is what kube-proxy gives. A locality with no
// endpoints is left out, so in a split it takes no share. Every locality has a Locality, empty when the zone is
// unknown: gRPC rejects an assignment with a locality that has none.
func ClusterLoadAssignment(cluster string, localities []Locality) *endpointv3.ClusterLoadAssignment {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: cluster}
	for _, loc := range localities {
		if len(loc.Endpoints) == 0 {
			continue
		}
		cla.Endpoints = append(cla.Endpoints, &endpointv3.LocalityLbEndpoints{
			Locality:            &corev3.Locality{Zone: loc.Zone, SubZone: loc.SubZone},
			LbEndpoints:         lbEndpoints(loc.Endpoints),
			LoadBalancingWeight: wrapperspb.UInt32(loc.weight()),
		})
	}
	return cla
}

// lbEndpoints builds the endpoint messages of one locality. EDS carries
// most of fairway's output by count, so the messages of each kind come
// from one allocation instead of one each.
func lbEndpoints(eps []Endpoint) []*endpointv3.LbEndpoint {
	n := len(eps)
	lbs := make([]endpointv3.LbEndpoint, n)
	hosts := make([]endpointv3.LbEndpoint_Endpoint, n)
	endpoints := make([]endpointv3.Endpoint, n)
	addrs := make([]corev3.Address, n)
	sockets := make([]corev3.Address_SocketAddress, n)
	socketAddrs := make([]corev3.SocketAddress, n)
	ports := make([]corev3.SocketAddress_PortValue, n)
	out := make([]*endpointv3.LbEndpoint, n)
	for i, ep := range eps {
		ports[i].PortValue = ep.Port
		socketAddrs[i].Address = ep.Address
		socketAddrs[i].PortSpecifier = &ports[i]
		sockets[i].SocketAddress = &socketAddrs[i]
		addrs[i].Address = &sockets[i]
		endpoints[i].Address = &addrs[i]
		if ep.HealthCheckPort != 0 {
			endpoints[i].HealthCheckConfig = &endpointv3.Endpoint_HealthCheckConfig{PortValue: ep.HealthCheckPort}
		}
		hosts[i].Endpoint = &endpoints[i]
		lbs[i].HostIdentifier = &hosts[i]
		out[i] = &lbs[i]
	}
	return out
}

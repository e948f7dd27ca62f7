package envoy

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
)

// SplitClusterPrefix starts the name of every split cluster. Its ":"
// cannot appear in a namespace, so the name never meets a Service port's
// <namespace>/<service>/<port>, and "udp-split" is not AuthDNSClusterPrefix.
const SplitClusterPrefix = "udp-split:"

// Share is one backend of a split cluster: the plain cluster name of its
// Service port (ClusterName), which is also its locality's sub-zone, and
// its weight.
type Share struct {
	Cluster string
	Weight  uint32
}

// SplitClusterName names the cluster that splits a UDPRoute's datagram
// sessions across its backends by weight:
// udp-split:<namespace>/<route>/<16 hex digits>. The route makes it
// readable in a config dump; the hash covers every share, in the order
// given (the caller sorts them), so a change of weights is a new cluster
// (make-before-break), never a new meaning under an old name.
func SplitClusterName(namespace, route string, shares []Share) string {
	h := fnv.New64a()
	for _, s := range shares {
		// Length-prefixed, so no two share lists hash the same input.
		_ = binary.Write(h, binary.BigEndian, uint32(len(s.Cluster)))
		h.Write([]byte(s.Cluster))
		_ = binary.Write(h, binary.BigEndian, s.Weight)
	}
	return fmt.Sprintf("%s%s/%s/%016x", SplitClusterPrefix, namespace, route, h.Sum64())
}

// SplitCluster is an EDS cluster whose endpoints are several Service
// ports', one locality per port weighted by its share (Locality.Weight):
// Envoy's UDP proxy sends to a single cluster and has no weighted split
// of its own, so the split is Envoy's locality-weighted load balancing.
// Envoy scales a locality's weight by its share of healthy hosts (with
// the 1.4 overprovisioning factor), so a backend whose endpoints all fail
// takes no share, and one with none is left out of the assignment.
func SplitCluster(name string) *clusterv3.Cluster {
	c := EDSCluster(name)
	c.CommonLbConfig = &clusterv3.Cluster_CommonLbConfig{
		LocalityConfigSpecifier: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig_{
			LocalityWeightedLbConfig: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig{},
		},
	}
	return c
}

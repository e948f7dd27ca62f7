package envoy

import clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"

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

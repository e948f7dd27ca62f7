package envoy

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// ClusterConnectTimeout bounds a TCP connect to one endpoint. Pods answer on
// the cluster network within milliseconds; a longer wait only delays retries.
const ClusterConnectTimeout = 5 * time.Second

// EDSCluster is a round-robin cluster whose endpoints arrive over EDS (via
// ADS) under the cluster's own name. An endpoint change then touches only EDS.
// Its breakers and buffer limit are the edge's (see edge.go); its outlier
// detection ejects endpoints that refuse connections (outlier.go). Every
// cluster has it: the plain name is shared by a LoadBalancer Service's
// listener and the Ingress routes to the same port, and a dead pod is as
// dead to either.
func EDSCluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                          name,
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:              &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsSource()},
		ConnectTimeout:                durationpb.New(ClusterConnectTimeout),
		LbPolicy:                      clusterv3.Cluster_ROUND_ROBIN,
		CircuitBreakers:               edgeCircuitBreakers(),
		OutlierDetection:              edgeOutlierDetection(),
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(BufferLimitBytes),
	}
}

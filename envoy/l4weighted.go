package envoy

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// L4Weight is one cluster of a weighted layer-4 split: a TCPRoute's or
// TLSRoute's backendRefs, each connection going to one cluster with the
// probability of its share of the weights.
type L4Weight struct {
	Cluster string
	Weight  uint32
}

// tcpClusters sets a tcp_proxy's upstream: the one cluster, or, for two
// or more, weighted_clusters (tcp_proxy picks one per connection).
func tcpClusters(proxy *tcpproxyv3.TcpProxy, cluster string, weighted []L4Weight) {
	if len(weighted) < 2 {
		proxy.ClusterSpecifier = &tcpproxyv3.TcpProxy_Cluster{Cluster: cluster}
		return
	}
	w := &tcpproxyv3.TcpProxy_WeightedCluster{}
	for _, c := range weighted {
		w.Clusters = append(w.Clusters, &tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{Name: c.Cluster, Weight: c.Weight})
	}
	proxy.ClusterSpecifier = &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: w}
}

// Freebind lets a listener bind its address before the node holds it
// (IP_FREEBIND): a Gateway's own address from a pool, which the network
// may route to the node only later.
func Freebind(l *listenerv3.Listener) *listenerv3.Listener {
	l.Freebind = wrapperspb.Bool(true)
	return l
}

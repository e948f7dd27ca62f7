package translator

import (
	"cmp"
	"slices"
	"strconv"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// Proxyless holds what gRPC clients that speak xDS themselves receive: an
// API listener per Service port, named like the Service's DNS name, and the
// clusters and endpoints behind them. Envoys never receive these, and
// proxyless clients never receive the fleet's socket listeners.
type Proxyless struct {
	Listeners []*listenerv3.Listener
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
}

// ClusterDomain is the cluster's DNS suffix in the names gRPC clients dial.
const ClusterDomain = "cluster.local"

// ProxylessTarget is the name a proxyless client dials for a Service port:
// xds:///<service>.<namespace>.svc.cluster.local:<port>.
func ProxylessTarget(namespace, service string, port int32) string {
	return service + "." + namespace + ".svc." + ClusterDomain + ":" + strconv.FormatInt(int64(port), 10)
}

// proxyless builds the proxyless resources: every TCP port of every Service
// that has endpoints of its own (not ExternalName), whatever its type, since
// a client inside the cluster may dial any Service. Endpoints are always the
// pods: a client in the cluster needs no node hop.
func (t *translation) proxyless(res *Result) {
	envoyCLAs := make(map[string]*endpointv3.ClusterLoadAssignment, len(res.Endpoints))
	if t.opts.LBTarget == LBTargetPods {
		for _, cla := range res.Endpoints {
			envoyCLAs[cla.GetClusterName()] = cla
		}
	}
	p := &res.Proxyless
	for _, svc := range t.idx.sortedServices() {
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			if protocolOf(sp) != corev1.ProtocolTCP || !validPort(sp.Port) {
				continue
			}
			name := envoy.ClusterName(svc.Namespace, svc.Name, sp.Port, false)
			cla := envoyCLAs[name]
			if cla == nil {
				cla = envoy.ClusterLoadAssignment(name, byZone(t.podEndpoints(svc, sp)))
			}
			p.Listeners = append(p.Listeners, envoy.APIListener(ProxylessTarget(svc.Namespace, svc.Name, sp.Port), name))
			p.Clusters = append(p.Clusters, envoy.EDSCluster(name))
			p.Endpoints = append(p.Endpoints, cla)
		}
	}
	slices.SortFunc(p.Listeners, func(a, b *listenerv3.Listener) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(p.Clusters, func(a, b *clusterv3.Cluster) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(p.Endpoints, func(a, b *endpointv3.ClusterLoadAssignment) int { return cmp.Compare(a.ClusterName, b.ClusterName) })
}

package translator

import (
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

// proxylessPort is one Service port's proxyless listener and cluster.
type proxylessPort struct{ target, cluster string }

// proxylessState is a Service's proxyless resources and endpoint Problems.
type proxylessState struct {
	ports    []proxylessPort
	problems []Problem
}

// updateProxyless rebuilds one Service's proxyless resources: an API
// listener per TCP port of every Service that has endpoints of its own (not
// ExternalName), whatever its type, since a client inside the cluster may
// dial any Service. Endpoints are always the pods: a client in the cluster
// needs no node hop, so in pods mode they are the Envoys' very bytes.
func (e *Engine) updateProxyless(k nsName) error {
	prev := e.proxyless[k]
	st, err := e.buildProxyless(k)
	if err != nil {
		return err
	}
	if prev != nil {
		keep := map[string]bool{}
		for _, p := range st.ports {
			keep[p.target], keep[p.cluster] = true, true
		}
		for _, p := range prev.ports {
			if !keep[p.target] {
				e.grpc.remove(KindListener, p.target)
			}
			if !keep[p.cluster] {
				e.grpc.remove(KindCluster, p.cluster)
				e.grpc.remove(KindEndpoint, p.cluster)
			}
		}
	}
	if len(st.ports) == 0 && len(st.problems) == 0 {
		delete(e.proxyless, k)
	} else {
		e.proxyless[k] = st
	}
	return nil
}

func (e *Engine) buildProxyless(k nsName) (*proxylessState, error) {
	st := &proxylessState{}
	svc := e.idx.services[k]
	if !e.opts.Proxyless || svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return st, nil
	}
	t := e.scope()
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		if protocolOf(sp) != corev1.ProtocolTCP || !validPort(sp.Port) {
			continue
		}
		p := proxylessPort{target: ProxylessTarget(svc.Namespace, svc.Name, sp.Port), cluster: envoy.ClusterName(svc.Namespace, svc.Name, sp.Port, false)}
		listener, err := encode(p.target, envoy.APIListener(p.target, p.cluster), []Ref{{KindCluster, p.cluster}})
		if err != nil {
			return nil, err
		}
		cl, err := encodeCluster(p.cluster)
		if err != nil {
			return nil, err
		}
		cla := e.envoy.Get(KindEndpoint, p.cluster)
		if cla == nil || e.opts.LBTarget != LBTargetPods {
			if cla, err = encode(p.cluster, envoy.ClusterLoadAssignment(p.cluster, byZone(t.podEndpoints(svc, sp))), nil); err != nil {
				return nil, err
			}
		}
		e.grpc.put(KindListener, listener)
		e.grpc.put(KindCluster, cl)
		e.grpc.put(KindEndpoint, cla)
		st.ports = append(st.ports, p)
	}
	st.problems = t.problems
	return st, nil
}

package translator

import (
	"strconv"
	"sync"

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

// proxylessState is a Service's proxyless resources.
type proxylessState struct {
	ports []proxylessPort
}

// proxylessBuild is one Service's freshly built proxyless resources.
type proxylessBuild struct {
	key       nsName
	ports     []proxylessPort
	resources [][3]*Resource // listener, cluster, endpoints per port
	problems  []Problem
}

// updateProxyless rebuilds the proxyless resources of the given Services:
// an API listener per TCP port of every Service that has endpoints of its
// own (not ExternalName), whatever its type, since a client inside the
// cluster may dial any Service. Endpoints are always the pods: a client in
// the cluster needs no node hop, so in pods mode they are the Envoys' very
// bytes. Building is split across cores; storing is not.
func (e *Engine) updateProxyless(keys []nsName) error {
	builds := make([]proxylessBuild, len(keys))
	var failed error
	var mu sync.Mutex
	forEach(len(keys), func(i int) {
		b, err := e.buildProxyless(keys[i])
		if err != nil {
			mu.Lock()
			failed = err
			mu.Unlock()
		}
		builds[i] = b
	})
	if failed != nil {
		return failed
	}
	for _, b := range builds {
		e.applyProxyless(b)
	}
	return nil
}

func (e *Engine) applyProxyless(b proxylessBuild) {
	keep := map[string]bool{}
	for i, p := range b.ports {
		keep[p.target], keep[p.cluster] = true, true
		e.grpc.put(KindListener, b.resources[i][0])
		e.grpc.put(KindCluster, b.resources[i][1])
		e.grpc.put(KindEndpoint, b.resources[i][2])
	}
	if prev := e.proxyless[b.key]; prev != nil {
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
	if len(b.ports) == 0 {
		delete(e.proxyless, b.key)
	} else {
		e.proxyless[b.key] = &proxylessState{ports: b.ports}
	}
	e.setProblems(slot{slotProxyless, b.key.namespace, b.key.name}, b.problems)
}

// buildProxyless builds a Service's proxyless resources; it only reads.
func (e *Engine) buildProxyless(k nsName) (proxylessBuild, error) {
	b := proxylessBuild{key: k}
	svc := e.idx.services[k]
	if !e.opts.Proxyless || svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return b, nil
	}
	t := e.scope()
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		if protocolOf(sp) != corev1.ProtocolTCP || !validPort(sp.Port) {
			continue
		}
		p := proxylessPort{target: ProxylessTarget(svc.Namespace, svc.Name, sp.Port), cluster: envoy.ClusterName(svc.Namespace, svc.Name, sp.Port, false)}
		listener := newResource(p.target, envoy.AppendAPIListener(nil, p.target, envoy.ServiceRoute(p.target, p.cluster)), []Ref{{KindCluster, p.cluster}})
		cl, err := encodeCluster(p.cluster)
		if err != nil {
			return b, err
		}
		cla := e.envoy.Get(KindEndpoint, p.cluster)
		if cla == nil || e.opts.LBTarget != LBTargetPods {
			cla = endpointsResource(p.cluster, byZone(t.podEndpoints(svc, sp)))
		}
		b.ports = append(b.ports, p)
		b.resources = append(b.resources, [3]*Resource{listener, cl, cla})
	}
	b.problems = t.problems
	return b, nil
}

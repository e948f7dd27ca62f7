package translator

import (
	"slices"
	"strconv"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// Proxyless holds what gRPC clients and servers that speak xDS themselves
// receive: API listeners per Service port (named like its DNS names) and
// per exact Ingress host, the clusters and endpoints behind them, and the
// listeners of xDS-enabled gRPC servers. Envoys never receive these, and
// proxyless nodes never receive the fleet's socket listeners.
type Proxyless struct {
	Listeners []*listenerv3.Listener
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
}

// ClusterDomain is the cluster's DNS suffix in the names gRPC clients dial.
const ClusterDomain = "cluster.local"

// ProxylessTargets are every name a proxyless client may dial for a
// Service port, the ones its DNS search path would accept:
// <service>.<namespace>.svc.cluster.local:<port>, <service>.<namespace>.svc:<port>
// and <service>.<namespace>:<port>. Service and namespace names hold no
// dots, so these never collide with each other or with an Ingress host,
// which has no port.
func ProxylessTargets(namespace, service string, port int32) [3]string {
	p := ":" + strconv.FormatInt(int64(port), 10)
	short := service + "." + namespace
	return [3]string{short + ".svc." + ClusterDomain + p, short + ".svc" + p, short + p}
}

// proxylessPort is one Service port's proxyless listeners and cluster.
type proxylessPort struct {
	targets [3]string
	cluster string
}

// proxylessResources are what one proxylessPort publishes.
type proxylessResources struct {
	listeners     [3]*Resource
	cluster, load *Resource
}

// proxylessState is a Service's proxyless resources.
type proxylessState struct {
	ports   []proxylessPort
	servers []string // the gRPC server listeners it claims
}

// proxylessBuild is one Service's freshly built proxyless resources.
type proxylessBuild struct {
	key       nsName
	ports     []proxylessPort
	resources []proxylessResources // per port
	servers   []*Resource          // gRPC server listeners
	problems  []Problem
}

// updateProxyless rebuilds the proxyless resources of the given Services:
// API listeners (one per dialable name) for each TCP port of every Service
// that has endpoints of its own (not ExternalName), whatever its type,
// since a client inside the cluster may dial any Service, and server
// listeners for the pods of ports with appProtocol grpc. Endpoints are always the pods: a client in
// the cluster needs no node hop, so in pods mode they are the Envoys' very
// bytes. Building is split across cores; storing is not.
func (e *Engine) updateProxyless(keys []nsName) error {
	if e.onDemand() {
		// Only what may have something to build or remove: a cold
		// build with no client then looks at no Service at all.
		keys = slices.DeleteFunc(keys, func(k nsName) bool {
			return !e.serviceWanted(k) && !e.demand.servers[k] && e.proxyless[k] == nil
		})
	}
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
	prev := e.proxyless[b.key]
	if prev == nil && len(b.ports) == 0 && len(b.servers) == 0 {
		// Not built, and nothing to build: with proxyless on demand,
		// every Service no client asked for.
		e.setProblems(slot{slotProxyless, b.key.namespace, b.key.name}, b.problems)
		return
	}
	keep := map[string]bool{}
	for i, p := range b.ports {
		keep[p.cluster] = true
		for j, target := range p.targets {
			keep[target] = true
			e.grpc.put(KindListener, b.resources[i].listeners[j])
		}
		e.grpc.put(KindCluster, b.resources[i].cluster)
		e.grpc.put(KindEndpoint, b.resources[i].load)
	}
	if prev != nil {
		for _, p := range prev.ports {
			for _, target := range p.targets {
				if !keep[target] {
					e.grpc.remove(KindListener, target)
				}
			}
			if !keep[p.cluster] {
				e.grpc.remove(KindCluster, p.cluster)
				e.grpc.remove(KindEndpoint, p.cluster)
			}
		}
	}
	var oldServers []string
	if prev != nil {
		oldServers = prev.servers
	}
	e.servers.swap(e.grpc, oldServers, b.servers)
	if len(b.ports) == 0 && len(b.servers) == 0 {
		delete(e.proxyless, b.key)
	} else {
		st := &proxylessState{ports: b.ports}
		for _, r := range b.servers {
			st.servers = append(st.servers, r.Name)
		}
		e.proxyless[b.key] = st
	}
	e.setProblems(slot{slotProxyless, b.key.namespace, b.key.name}, b.problems)
}

// buildProxyless builds a Service's proxyless resources; it only reads.
// Its server listeners are built whether or not a client asked for the
// Service, since a gRPC server serves nothing until it has its listener.
func (e *Engine) buildProxyless(k nsName) (proxylessBuild, error) {
	b := proxylessBuild{key: k}
	svc := e.idx.services[k]
	if !e.opts.Proxyless || svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return b, nil
	}
	wanted := e.serviceWanted(k)
	t := e.scope()
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		if protocolOf(sp) != corev1.ProtocolTCP || !validPort(sp.Port) {
			continue
		}
		servers, err := t.grpcServerListeners(svc, sp, e.grpc)
		if err != nil {
			return b, err
		}
		b.servers = append(b.servers, servers...)
		if !wanted {
			continue
		}
		p := proxylessPort{targets: ProxylessTargets(svc.Namespace, svc.Name, sp.Port), cluster: envoy.ClusterName(svc.Namespace, svc.Name, sp.Port, false)}
		var r proxylessResources
		for j, target := range p.targets {
			r.listeners[j] = newResource(target, envoy.AppendAPIListener(nil, target, envoy.ServiceRoute(target, p.cluster)), []Ref{{KindCluster, p.cluster}})
		}
		cl, err := encodeCluster(p.cluster)
		if err != nil {
			return b, err
		}
		cla := e.envoy.Get(KindEndpoint, p.cluster)
		if cla == nil || e.opts.LBTarget != LBTargetPods {
			cla = endpointsResource(p.cluster, byZone(t.podEndpoints(svc, sp)))
		}
		r.cluster, r.load = cl, cla
		b.ports = append(b.ports, p)
		b.resources = append(b.resources, r)
	}
	b.problems = t.problems
	return b, nil
}

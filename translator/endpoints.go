package translator

import (
	"cmp"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// podEndpoint is one usable address of a Service port.
type podEndpoint struct {
	addr netip.Addr
	// text is addr as Envoy gets it: the slice's own string when that is
	// already canonical (any valid IPv4), else made from addr.
	text string
	port uint32
	zone string
	node string
	// healthPort is where the cluster's health check asks (a node's
	// kube-proxy); 0 is port.
	healthPort uint32
}

// loadAssignment encodes the endpoints of one cluster. A Service or port
// that has gone leaves an empty assignment, so the cluster has no hosts
// rather than a dangling EDS name.
func (t *translation) loadAssignment(k clusterKey, name string) *Resource {
	if k.split != nil {
		return endpointsResource(name, t.splitLocalities(k.split))
	}
	return endpointsResource(name, byZone(t.portEndpoints(k)))
}

// portEndpoints are the usable endpoints of k's Service port: its ready
// pods, or its nodes in the nodes mode; none when the Service or port is
// gone.
func (t *translation) portEndpoints(k clusterKey) []podEndpoint {
	svc := t.idx.services[nsName{k.namespace, k.service}]
	if svc == nil {
		return nil
	}
	sp := findPort(svc, k.port, k.udp)
	if sp == nil {
		return nil
	}
	eps := t.podEndpoints(svc, sp)
	if t.opts.LBTarget == LBTargetNodes && validPort(sp.NodePort) && allocatesNodePorts(svc) && t.handlesService(svc) {
		eps = t.nodeEndpoints(svc, sp, eps, k.l4.HealthCheck.KubeProxy)
	}
	return eps
}

// endpointsResource encodes a ClusterLoadAssignment straight from its
// localities (envoy.AppendClusterLoadAssignment).
func endpointsResource(name string, locs []envoy.Locality) *Resource {
	return newResource(name, envoy.AppendClusterLoadAssignment(nil, name, locs), nil)
}

func findPort(svc *corev1.Service, port int32, udp bool) *corev1.ServicePort {
	want := corev1.ProtocolTCP
	if udp {
		want = corev1.ProtocolUDP
	}
	for i := range svc.Spec.Ports {
		if sp := &svc.Spec.Ports[i]; sp.Port == port && protocolOf(sp) == want {
			return sp
		}
	}
	return nil
}

// podEndpoints collects a Service port's endpoints from its EndpointSlices:
// the ready ones, or, when none is ready, the ones that are serving while
// terminating, as kube-proxy does, so a rollout drains instead of failing.
// Each slice resolves the port number itself: a named targetPort can map to
// different numbers in different slices. Duplicates across slices count once
// (byZone drops them).
func (t *translation) podEndpoints(svc *corev1.Service, sp *corev1.ServicePort) []podEndpoint {
	list := t.idx.slices[nsName{svc.Namespace, svc.Name}]
	// Sized once for every endpoint, which are nearly all ready: growing
	// it was 60% of this function's time and four allocations a Service
	// in a cold build.
	n := 0
	for _, es := range list {
		n += len(es.Endpoints)
	}
	var ready, terminating []podEndpoint
	if n > 0 {
		ready = make([]podEndpoint, 0, n)
	}
	for _, es := range list {
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		port, ok := slicePort(es, sp)
		if !ok {
			continue
		}
		for i := range es.Endpoints {
			ep := &es.Endpoints[i]
			isReady, isServingTerminating := conditions(ep.Conditions)
			if (!isReady && !isServingTerminating) || len(ep.Addresses) == 0 {
				continue
			}
			addr, err := netip.ParseAddr(ep.Addresses[0])
			if err != nil || (addr.Is4() != (es.AddressType == discoveryv1.AddressTypeIPv4)) {
				t.problems.add(ObjectRef{Kind: "EndpointSlice", Namespace: es.Namespace, Name: es.Name}, InvalidEndpoint,
					"endpoints[%d].addresses[0]: %q is not an %s address", i, ep.Addresses[0], es.AddressType)
				continue
			}
			pe := podEndpoint{addr: addr.Unmap(), port: port, zone: deref(ep.Zone), node: deref(ep.NodeName)}
			if addr.Is4() {
				pe.text = ep.Addresses[0]
			}
			if isReady {
				ready = append(ready, pe)
			} else {
				terminating = append(terminating, pe)
			}
		}
	}
	if len(ready) > 0 {
		return ready
	}
	return terminating
}

// conditions reads an endpoint's state. An unset ready or serving means
// ready, as the API documents; an unset terminating means not terminating.
func conditions(c discoveryv1.EndpointConditions) (ready, servingTerminating bool) {
	ready = c.Ready == nil || *c.Ready
	serving := c.Serving == nil || *c.Serving
	terminating := c.Terminating != nil && *c.Terminating
	return ready && !terminating, serving && terminating
}

// slicePort finds the slice's number for the Service port: slice ports carry
// the Service port's name and protocol, with the target port resolved.
func slicePort(es *discoveryv1.EndpointSlice, sp *corev1.ServicePort) (uint32, bool) {
	for _, p := range es.Ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if deref(p.Name) != sp.Name || proto != protocolOf(sp) {
			continue
		}
		if p.Port != nil && validPort(*p.Port) {
			return uint32(*p.Port), true
		}
		// A nil port means "all ports": the Service's numeric targetPort.
		if target := sp.TargetPort.IntValue(); p.Port == nil && target >= 1 && target <= 65535 {
			return uint32(target), true
		}
	}
	return 0, false
}

// byZone groups endpoints into sorted localities of sorted endpoints. An
// address:port listed twice (two slices during a rebalance) counts once, in
// the zone of its first listing.
func byZone(eps []podEndpoint) []envoy.Locality {
	slices.SortStableFunc(eps, func(a, b podEndpoint) int {
		return cmp.Or(a.addr.Compare(b.addr), cmp.Compare(a.port, b.port))
	})
	eps = slices.CompactFunc(eps, func(a, b podEndpoint) bool { return a.addr == b.addr && a.port == b.port })
	uniform := true
	for _, ep := range eps {
		uniform = uniform && ep.zone == eps[0].zone
	}
	if !uniform {
		slices.SortStableFunc(eps, func(a, b podEndpoint) int { return cmp.Compare(a.zone, b.zone) })
	}
	var out []envoy.Locality
	all := make([]envoy.Endpoint, len(eps))
	start := 0
	for i, ep := range eps {
		text := ep.text
		if text == "" {
			text = ep.addr.String()
		}
		all[i] = envoy.Endpoint{Address: text, Port: ep.port, HealthCheckPort: ep.healthPort}
		if i+1 == len(eps) || eps[i+1].zone != ep.zone {
			out = append(out, envoy.Locality{Zone: ep.zone, Endpoints: all[start : i+1 : i+1]})
			start = i + 1
		}
	}
	return out
}

// validPort reports whether p is a TCP/UDP port number.
func validPort(p int32) bool { return p >= 1 && p <= 65535 }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

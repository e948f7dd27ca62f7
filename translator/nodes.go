package translator

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// excludeFromLBLabel is the well-known label that keeps a node out of
// external load balancers, which cloud controllers honour too.
const excludeFromLBLabel = corev1.LabelNodeExcludeBalancers

// nodeEndpoints is the nodes mode of a LoadBalancer Service port: every
// eligible node's InternalIP at the port's nodePort, the LoadBalancer →
// NodePort → pod chain of a cloud load balancer. With
// externalTrafficPolicy: Local, kube-proxy drops traffic on nodes without a
// local endpoint, so only nodes that host one of pods are used, which also
// keeps the client's source address intact for the pod. With kubeProxy,
// each node also carries the Service's healthCheckNodePort, where the
// cluster's health check asks the node's kube-proxy whether it still
// has a ready endpoint: it knows sooner than the EndpointSlices reach
// fairway, and it answers for the node's own forwarding.
func (t *translation) nodeEndpoints(svc *corev1.Service, sp *corev1.ServicePort, pods []podEndpoint, kubeProxy bool) []podEndpoint {
	var healthPort uint32
	if kubeProxy {
		healthPort = uint32(svc.Spec.HealthCheckNodePort)
	}
	var hosting map[string]bool
	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		hosting = make(map[string]bool, len(pods))
		for _, p := range pods {
			hosting[p.node] = true
		}
	}
	var out []podEndpoint
	for _, n := range t.idx.nodes {
		if !nodeEligible(n) || (hosting != nil && !hosting[n.Name]) {
			continue
		}
		addr, ok := internalIP(n)
		if !ok {
			continue
		}
		out = append(out, podEndpoint{addr: addr, port: uint32(sp.NodePort), zone: n.Labels[corev1.LabelTopologyZone], node: n.Name, healthPort: healthPort})
	}
	return out
}

// nodeEligible: the node is Ready and not excluded from load balancers.
func nodeEligible(n *corev1.Node) bool {
	if _, excluded := n.Labels[excludeFromLBLabel]; excluded {
		return false
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// internalIP is the node's first valid InternalIP.
func internalIP(n *corev1.Node) (netip.Addr, bool) {
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if addr, err := netip.ParseAddr(a.Address); err == nil {
			return addr.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

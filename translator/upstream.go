package translator

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/policy"
)

// upstreamOf is how a route reaches its Service port: the protocol its
// policy names (backend-protocol), else the one the port's appProtocol
// names; the balance (a consistent hash with affinity) and connect
// timeout of its policy. The result is
// normalised, so that one way of speaking is one cluster.
func upstreamOf(pol *policy.Route, sp *corev1.ServicePort) envoy.Upstream {
	var want policy.Upstream
	if pol != nil {
		want = pol.Upstream
	}
	proto := want.Protocol
	if proto == policy.FromService {
		proto = appProtocolOf(sp)
	}
	u := envoy.Upstream{LeastRequest: want.Balance == policy.LeastRequest, ConnectTimeout: want.ConnectTimeout}
	// Affinity needs the hash balancer, which wins over load-balance as
	// ingress-nginx's sticky and chash balancers win over its ewma.
	if pol != nil && pol.Affinity.On() {
		u.ConsistentHash, u.LeastRequest = true, false
	}
	switch proto {
	case policy.HTTPS:
		u.TLS = true
	case policy.H2C:
		u.HTTP2 = true
	case policy.GRPCS:
		u.TLS, u.HTTP2 = true, true
	}
	return u.Normal()
}

// appProtocolOf reads a Service port's appProtocol: the Kubernetes names
// (KEP-3726) and "grpc", which gRPC Services commonly carry. WebSocket
// names are their HTTP counterparts, since a WebSocket starts as an
// HTTP/1.1 upgrade. Any other value, and none, is HTTP/1.1 in the clear,
// what the port spoke before appProtocol existed.
func appProtocolOf(sp *corev1.ServicePort) policy.Protocol {
	switch deref(sp.AppProtocol) {
	case "kubernetes.io/h2c", "grpc":
		return policy.H2C
	case "https", "kubernetes.io/https", "kubernetes.io/wss":
		return policy.HTTPS
	}
	return policy.HTTP
}

// clusterResource encodes the cluster of k: the plain ones by the fast
// template (encodeCluster), the variants, which are few, by marshalling.
func clusterResource(name string, k clusterKey) (*Resource, error) {
	if k.dns != nil {
		return encode(name, envoy.AuthDNSCluster(name, k.dns.host, k.dns.port, k.dns.scheme == "https"), nil)
	}
	if k.split != nil {
		return encode(name, envoy.SplitCluster(name), []Ref{{KindEndpoint, name}})
	}
	if !k.l4.Plain() {
		return encode(name, envoy.ServiceCluster(name, k.l4), []Ref{{KindEndpoint, name}})
	}
	if k.up.Plain() {
		return encodeCluster(name)
	}
	refs := []Ref{{KindEndpoint, name}}
	for _, s := range k.up.Verify.Secrets() {
		refs = append(refs, Ref{KindSecret, s})
	}
	return encode(name, envoy.UpstreamCluster(name, k.up), refs)
}

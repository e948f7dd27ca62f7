package translator

import (
	"cmp"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/policy"
)

// clusterKey is one Service port spoken to one way: the unit of a cluster.
// Its endpoints are the port's, whatever the way.
type clusterKey struct {
	namespace, service string
	port               int32
	udp                bool
	// up is how HTTP routes speak to the port; zero for the plain
	// cluster, and always for UDP.
	up envoy.Upstream
	// l4 is how a LoadBalancer Service's own listener reaches the port
	// (servicepolicy.go); zero for the plain cluster and for routes.
	l4 envoy.L4Upstream
	// tlsSecret is the Secret whose SDS secrets up's TLS names
	// (proxyssl.go); nil for none. It and dns are pointers, since a key
	// is held for every route and they are rare.
	tlsSecret *nsName
	// dns is an auth service outside the cluster, reached by its DNS
	// name (extauth_cluster.go); then the Service fields are empty.
	dns *dnsTarget
	// split is a UDPRoute's weighted backends as one cluster
	// (udpsplit.go); then the Service fields are empty.
	split *udpSplit
}

func (k clusterKey) name() string {
	if k.dns != nil {
		return k.dns.name()
	}
	if k.split != nil {
		return k.split.name()
	}
	if !k.l4.Plain() {
		return envoy.ServiceClusterName(k.namespace, k.service, k.port, k.udp, k.l4)
	}
	if k.udp || k.up.Plain() {
		return envoy.ClusterName(k.namespace, k.service, k.port, k.udp)
	}
	return envoy.UpstreamClusterName(k.namespace, k.service, k.port, k.up)
}

// services are the Services whose endpoints k's cluster holds.
func (k clusterKey) services() []nsName {
	if k.split != nil {
		return k.split.services()
	}
	return []nsName{{k.namespace, k.service}}
}

// useCluster records that something routes to k and returns its name.
func (t *translation) useCluster(k clusterKey) string {
	name := k.name()
	t.clusters = append(t.clusters, clusterUse{key: k, name: name})
	return name
}

// resolveBackend finds the cluster of an Ingress backend, spoken to as the
// route's policy and the Service port's appProtocol say, and the port's
// plain cluster when that is another (proxyless clients have only the
// plain ones), else "". When it cannot, it records a Problem naming the
// field and returns "", which the route turns into a 503: the path fails
// visibly, and no other route is disturbed.
func (t *translation) resolveBackend(ref ObjectRef, field backendField, namespace string, b networkingv1.IngressBackend, pol *policy.Route) (cluster, plain string) {
	if b.Service == nil {
		if b.Resource != nil {
			t.problems.add(ref, UnsupportedBackend, "%s.resource: resource backends (%s %q) are not supported; use a Service backend", field, b.Resource.Kind, b.Resource.Name)
		} else {
			t.problems.add(ref, InvalidBackend, "%s: names no service", field)
		}
		return "", ""
	}
	return t.serviceCluster(serviceBackend{ref: ref, field: field, namespace: namespace, name: b.Service.Name, port: b.Service.Port}, pol, upstreamOf)
}

// serviceBackend is a port of a Service that a route names, with where
// it is named, for messages.
type serviceBackend struct {
	ref             ObjectRef
	field           fmt.Stringer // the backend's field; .service.name and .service.port follow it
	namespace, name string
	port            networkingv1.ServiceBackendPort
}

// at is the field of the backend's Service name or port: an Ingress
// backend's .service.name, a Gateway API backendRef's .name.
func (b serviceBackend) at(part string) string {
	if _, ingress := b.field.(backendField); ingress {
		return b.field.String() + ".service." + part
	}
	return b.field.String() + "." + part
}

// serviceCluster is the core both front ends' backends share: the
// cluster of a Service port, spoken to as up says for the port, and its
// plain cluster when that is another (see resolveBackend). It records
// the Service as referenced, so that its arrival rebuilds the route, and
// a Problem naming the field when the port cannot be routed to.
func (t *translation) serviceCluster(b serviceBackend, pol *policy.Route, up func(*policy.Route, *corev1.ServicePort) envoy.Upstream) (cluster, plain string) {
	t.referenced = append(t.referenced, nsName{b.namespace, b.name})
	svc := t.idx.services[nsName{b.namespace, b.name}]
	if svc == nil {
		t.problems.add(b.ref, BackendNotFound, "%s: Service %s/%s not found", b.at("name"), b.namespace, b.name)
		return "", ""
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		t.problems.add(b.ref, UnsupportedBackend, "%s: Service %s/%s is of type ExternalName, which fairway does not route to", b.at("name"), b.namespace, b.name)
		return "", ""
	}
	sp, reason, err := findServicePort(svc, b.port)
	if err != nil {
		t.problems.add(b.ref, reason, "%s: %v", b.at("port"), err)
		return "", ""
	}
	k := clusterKey{namespace: b.namespace, service: svc.Name, port: sp.Port, up: up(pol, sp)}
	t.backendTLS(b.ref, b.field, pol, &k)
	cluster = t.useCluster(k)
	switch {
	case k.up.Verify != nil && k.up.Verify.CASecret != "":
		plain = proxylessDenied
	case !k.up.Plain():
		plain = envoy.ClusterName(b.namespace, svc.Name, sp.Port, false)
	}
	return cluster, plain
}

// findServicePort finds the TCP Service port an Ingress backend names. A
// number can name a UDP and a TCP port at once (DNS on 53): the TCP one is
// the backend, and only a port that is UDP alone is UnsupportedProtocol.
func findServicePort(svc *corev1.Service, port networkingv1.ServiceBackendPort) (*corev1.ServicePort, Reason, error) {
	if (port.Name == "") == (port.Number == 0) {
		return nil, InvalidBackend, fmt.Errorf("set exactly one of name and number")
	}
	var other *corev1.ServicePort // a match of another protocol
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		if (port.Name != "" && sp.Name != port.Name) || (port.Number != 0 && sp.Port != port.Number) {
			continue
		}
		if protocolOf(sp) != corev1.ProtocolTCP {
			other = cmp.Or(other, sp)
			continue
		}
		// A port number outside 1..65535 has no cluster anywhere: the
		// proxyless set skips it, and no Envoy could connect to it. Routing
		// to it would publish a reference nothing satisfies.
		if !validPort(sp.Port) {
			return nil, InvalidPort, fmt.Errorf("port %s of Service %s/%s: spec.ports[%d].port is %d, not between 1 and 65535", describePort(port), svc.Namespace, svc.Name, i, sp.Port)
		}
		return sp, "", nil
	}
	if other != nil {
		return nil, UnsupportedProtocol, fmt.Errorf("port %s of Service %s/%s is %s; HTTP needs TCP", describePort(port), svc.Namespace, svc.Name, protocolOf(other))
	}
	return nil, BackendNotFound, fmt.Errorf("Service %s/%s has no port %s", svc.Namespace, svc.Name, describePort(port))
}

func describePort(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return fmt.Sprintf("named %q", p.Name)
	}
	return fmt.Sprint(p.Number)
}

// protocolOf is the port's protocol; the API defaults an empty one to TCP.
func protocolOf(sp *corev1.ServicePort) corev1.Protocol {
	if sp.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return sp.Protocol
}

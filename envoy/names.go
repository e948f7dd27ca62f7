// Package envoy holds small named constructors for the Envoy v3 resources that
// fairway publishes, and the one place where their names are built.
//
// It imports only go-control-plane protos, so that anything (translator, xds,
// tests) can build resources without pulling in Kubernetes semantics.
package envoy

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net"
	"strconv"
	"strings"
)

// Listener and route configuration names. They are fixed so that an Envoy
// config dump reads the same on every fleet member and across restarts.
const (
	HTTPListenerName  = "http"
	HTTPSListenerName = "https"
	HTTPRouteConfig   = "http"
	HTTPSRouteConfig  = "https"
	// CatchAllVirtualHost is the name of the virtual host that serves requests
	// whose Host matches no named virtual host.
	CatchAllVirtualHost = "*"
	// HTTPSRedirectVirtualHost names the http table's virtual host (and its
	// one route) that redirects every request for its domains to https:
	// the hosts whose plain-HTTP routes would all be that redirect. An
	// Ingress host holds a "*" only as a leading "*." label, so no host's
	// virtual host, nor the catch-all "*", can take this name.
	HTTPSRedirectVirtualHost = "*https-redirect"
)

// ClusterName names the cluster (and its EDS assignment) for one Service port:
// <namespace>/<service>/<port>. UDP ports get a "/udp" suffix because a
// Service may expose the same port number over TCP and UDP with different
// target ports, and the two must not share endpoints.
func ClusterName(namespace, service string, port int32, udp bool) string {
	var b strings.Builder
	b.Grow(len(namespace) + len(service) + 12)
	b.WriteString(namespace)
	b.WriteByte('/')
	b.WriteString(service)
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(int64(port), 10))
	if udp {
		b.WriteString("/udp")
	}
	return b.String()
}

// UpstreamClusterName names the cluster of a Service port spoken to as u
// says: the plain ClusterName for the zero Upstream, so that the names of
// clusters without annotations never move, else that name plus one
// readable suffix per difference, in a fixed order: the protocol ("/h2c"
// HTTP/2 in the clear, "/tls" HTTP/1.1 over TLS, "/h2" HTTP/2 over TLS),
// "/least-request", "/maglev" (a consistent hash: session affinity),
// then "/connect-<duration>" (Go's spelling: "10s",
// "1m30s"), then "/proxy-ssl-<hash>" for what TLS verifies and
// presents (UpstreamTLS.nameSuffix). Each part has one spelling and none
// is a port or "udp", so two different Upstreams never share a name.
func UpstreamClusterName(namespace, service string, port int32, u Upstream) string {
	name := ClusterName(namespace, service, port, false)
	u = u.Normal()
	if u == (Upstream{}) {
		return name
	}
	switch {
	case u.TLS && u.HTTP2:
		name += "/h2"
	case u.TLS:
		name += "/tls"
	case u.HTTP2:
		name += "/h2c"
	}
	if u.LeastRequest {
		name += "/least-request"
	}
	if u.ConsistentHash {
		name += "/maglev"
	}
	if u.ConnectTimeout > 0 {
		name += "/connect-" + u.ConnectTimeout.String()
	}
	return name + u.verify().nameSuffix()
}

// nameSuffix is v's part of a cluster name: "" for the zero value, else
// "/proxy-ssl-" and 16 hex digits of a hash of every field. The fields
// hold Secret names, server names and cipher lists, too long and too
// free to spell out in a name; the hash keeps one spelling per setting.
func (v UpstreamTLS) nameSuffix() string {
	if v == (UpstreamTLS{}) {
		return ""
	}
	h := fnv.New64a()
	for _, s := range []string{v.CASecret, v.SubjectAltName, v.CertSecret, v.SNI, v.Ciphers} {
		// Length-prefixed, so no two field lists hash the same input.
		_ = binary.Write(h, binary.BigEndian, uint32(len(s)))
		h.Write([]byte(s))
	}
	_ = binary.Write(h, binary.BigEndian, [3]uint32{v.MaxVerifyDepth, uint32(v.MinVersion), uint32(v.MaxVersion)})
	return fmt.Sprintf("/proxy-ssl-%016x", h.Sum64())
}

// UpstreamCASecretName names the SDS validation context made of a
// Secret's ca.crt for verifying backends (proxy-ssl-secret):
// <namespace>/<name>/upstream-ca. Like CASecretName it is the Secret's
// name with a suffix, which no Secret's name can end in (it has no "/"),
// and apart from the client CA, which also carries the Secret's CRL.
func UpstreamCASecretName(namespace, name string) string {
	return SecretName(namespace, name) + "/upstream-ca"
}

// UpstreamCertSecretName names the SDS certificate that Envoy presents to
// backends, made of a Secret's tls.crt and tls.key:
// <namespace>/<name>/upstream-cert. It is not SecretName's, since the
// https listener's secrets come and go with spec.tls, not with clusters.
func UpstreamCertSecretName(namespace, name string) string {
	return SecretName(namespace, name) + "/upstream-cert"
}

// ServiceClusterName names the cluster of a LoadBalancer Service port
// reached as its own listener's settings say: the plain ClusterName for
// the plain L4Upstream, so an Ingress route to the same port keeps its
// cluster, else that name plus one readable suffix per setting, in a
// fixed order: "/affinity" (client IP), "/proxy-v1" or "/proxy-v2",
// "/max-connections-<n>", then the health check, "/health-tcp" or
// "/health-kube-proxy", followed by each value that is not the default
// ("-every-5s", "-timeout-2s", "-healthy-2", "-unhealthy-3"). None is an
// UpstreamClusterName suffix, so the two kinds of variant never meet.
func ServiceClusterName(namespace, service string, port int32, udp bool, u L4Upstream) string {
	name := ClusterName(namespace, service, port, udp)
	u = u.Normal()
	if u.ClientIPAffinity {
		name += "/affinity"
	}
	if u.ProxyProtocol != 0 {
		name += "/proxy-v" + strconv.Itoa(int(u.ProxyProtocol))
	}
	if u.MaxConnections != 0 {
		name += "/max-connections-" + strconv.FormatUint(uint64(u.MaxConnections), 10)
	}
	if h := u.HealthCheck; h.On() {
		name += "/health-tcp"
		if h.KubeProxy {
			name = strings.TrimSuffix(name, "tcp") + "kube-proxy"
		}
		if h.Interval != 0 {
			name += "-every-" + h.Interval.String()
		}
		if h.Timeout != 0 {
			name += "-timeout-" + h.Timeout.String()
		}
		if h.Healthy != 0 {
			name += "-healthy-" + strconv.FormatUint(uint64(h.Healthy), 10)
		}
		if h.Unhealthy != 0 {
			name += "-unhealthy-" + strconv.FormatUint(uint64(h.Unhealthy), 10)
		}
	}
	return name
}

// SplitClusterPrefix starts the name of every split cluster. Its ":"
// cannot appear in a namespace, so the name never meets a Service port's
// <namespace>/<service>/<port>, and "udp-split" is not AuthDNSClusterPrefix.
const SplitClusterPrefix = "udp-split:"

// Share is one backend of a split cluster: the plain cluster name of its
// Service port (ClusterName), which is also its locality's sub-zone, and
// its weight.
type Share struct {
	Cluster string
	Weight  uint32
}

// SplitClusterName names the cluster that splits a UDPRoute's datagram
// sessions across its backends by weight:
// udp-split:<namespace>/<route>/<16 hex digits>. The route makes it
// readable in a config dump; the hash covers every share, in the order
// given (the caller sorts them), so a change of weights is a new cluster
// (make-before-break), never a new meaning under an old name.
func SplitClusterName(namespace, route string, shares []Share) string {
	h := fnv.New64a()
	for _, s := range shares {
		// Length-prefixed, so no two share lists hash the same input.
		_ = binary.Write(h, binary.BigEndian, uint32(len(s.Cluster)))
		h.Write([]byte(s.Cluster))
		_ = binary.Write(h, binary.BigEndian, s.Weight)
	}
	return fmt.Sprintf("%s%s/%s/%016x", SplitClusterPrefix, namespace, route, h.Sum64())
}

// TCPListenerName names the passthrough listener of a TCP port: tcp-<port>.
func TCPListenerName(port int32) string { return "tcp-" + strconv.FormatInt(int64(port), 10) }

// UDPListenerName names the proxy listener of a UDP port: udp-<port>.
func UDPListenerName(port int32) string { return "udp-" + strconv.FormatInt(int64(port), 10) }

// L4ListenerName names the listener of a Service port on the Service's
// own address (from an address pool): tcp-<address>-<port> or
// udp-<address>-<port>, the address as Go's net/netip writes it
// ("tcp-10.0.0.7-443", "tcp-fd00::7-443"). An address holds a "." or a
// ":", so the name never meets tcp-<port>, udp-<port>, http or https,
// and the port after the last "-" keeps two ports of one address apart.
func L4ListenerName(address string, port int32, udp bool) string {
	proto := "tcp-"
	if udp {
		proto = "udp-"
	}
	return proto + address + "-" + strconv.FormatInt(int64(port), 10)
}

// SecretName names the SDS secret for a Kubernetes TLS Secret:
// <namespace>/<name>. Secrets are namespaced in Kubernetes, so the namespace
// keeps two Ingresses' certificates apart.
func SecretName(namespace, name string) string { return namespace + "/" + name }

// CASecretName names the SDS secret of the trusted CAs in a Secret
// (auth-tls-secret): the Secret's name with "/ca", since one Secret may
// hold both a certificate and a CA (ingress-nginx allows it), and a
// Secret's name has no "/".
func CASecretName(namespace, name string) string { return SecretName(namespace, name) + "/ca" }

// GRPCServerListenerPrefix is the start of the listener name an
// xDS-enabled gRPC server asks for: its bootstrap's
// server_listener_resource_name_template with the listening address in
// place of %s.
const GRPCServerListenerPrefix = "grpc/server?xds.resource.listening_address="

// GRPCServerListenerName names the listener of the gRPC server listening
// on address:port, written as the server writes its own address
// ("[::1]:50051" for IPv6).
func GRPCServerListenerName(address string, port uint32) string {
	return GRPCServerListenerPrefix + net.JoinHostPort(address, strconv.FormatUint(uint64(port), 10))
}

// HTTPSHostRouteConfig names the route configuration of one TLS host's
// filter chain on the https listener: https/<host> ("https/*.foo.com" for
// a wildcard host). Each TLS host has its own, so an Ingress change on
// that host sends that one table, not the whole of https. A host never
// holds a "/", so the name cannot meet HTTPSRouteConfig or another host's.
func HTTPSHostRouteConfig(host string) string { return HTTPSRouteConfig + "/" + host }

// DefaultFilterChainName names the https listener's default filter chain,
// the one without server names that serves clients whose SNI matches no
// host: "*", like the catch-all virtual host. An SNI chain is named after
// its host, which is a DNS name or "*.<name>", so the two never meet.
const DefaultFilterChainName = "*"

// FilterChainName names a TLS filter chain: an SNI chain after its host
// (there is one per TLS host, even when hosts share a Secret), the default
// chain DefaultFilterChainName. Envoy rejects a listener whose chain names
// repeat, and hosts are unique where Secrets are not.
func FilterChainName(c TLSChain) string {
	if len(c.ServerNames) == 0 {
		return DefaultFilterChainName
	}
	return c.ServerNames[0]
}

// MisdirectedVirtualHost names the virtual host of an https route
// configuration that answers 421 Misdirected Request: for a Host that
// another filter chain serves. "*" then letters is no Ingress host (a
// wildcard host is "*." and a name), so it meets no host's virtual host.
const MisdirectedVirtualHost = "*misdirected"

// PassthroughFilterChainName names a passthrough host's filter chain on
// the https listener after its host, as a terminating chain is: a host is
// passed through or terminated, never both, so the names stay unique.
func PassthroughFilterChainName(host string) string { return host }

// PassthroughStatPrefix is a passthrough chain's tcp_proxy stat prefix,
// so its connections are counted per host apart from the L4 listeners'.
func PassthroughStatPrefix(host string) string { return "passthrough/" + host }

// GatewayListenerName names the listener of one port of a Gateway:
// gateway/<namespace>/<name>/<port>, or gateway/<namespace>/<name>/udp/<port>
// for UDP. Its "/" keeps it apart from every Ingress and Service listener
// name, and a Gateway's listeners that share a port share this listener.
func GatewayListenerName(namespace, name string, port int32, udp bool) string {
	p := strconv.FormatInt(int64(port), 10)
	if udp {
		p = "udp/" + p
	}
	return "gateway/" + namespace + "/" + name + "/" + p
}

// GatewayRouteConfigName names the route configuration of a Gateway's
// port (its HTTP listeners, one virtual host per hostname), or, with a
// section, of one HTTPS listener's filter chain:
// gateway/<namespace>/<name>/<port>[/<section>].
func GatewayRouteConfigName(namespace, name string, port int32, section string) string {
	n := "gateway/" + namespace + "/" + name + "/" + strconv.FormatInt(int64(port), 10)
	if section != "" {
		n += "/" + section
	}
	return n
}

// GatewaySecretName names the SDS certificate a Gateway's HTTPS listener
// serves from a Secret: <namespace>/<name>/gateway. It is its own name,
// apart from the Ingress's <namespace>/<name>, so that neither front end
// can withdraw a certificate the other still serves.
func GatewaySecretName(namespace, name string) string {
	return SecretName(namespace, name) + "/gateway"
}

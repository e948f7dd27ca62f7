package envoy

import (
	"net"
	"strconv"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// AuthDNSClusterPrefix starts the name of an auth service's cluster that
// is found by DNS (an auth-url outside the cluster). A namespace cannot
// hold a ":", so the name never meets a Service port's cluster.
const AuthDNSClusterPrefix = "ext-authz:"

// AuthDNSClusterName names the DNS cluster of an auth service:
// ext-authz:<scheme>://<host>:<port>, the URL's origin, readable in a
// config dump. One origin is one cluster, however many Ingresses use it.
func AuthDNSClusterName(scheme, host string, port uint32) string {
	return AuthDNSClusterPrefix + scheme + "://" + net.JoinHostPort(host, strconv.FormatUint(uint64(port), 10))
}

// AuthDNSCluster reaches an auth service outside the cluster by its DNS
// name (STRICT_DNS: every address the name has is an endpoint, looked up
// again every 5 s, Envoy's dns_refresh_rate default, so a moved auth
// service is followed as nginx's resolver would, without a restart). With tls it speaks TLS with the host
// as SNI and checks the service's certificate against the system's CAs
// and the host name: the auth answer decides who gets in, so it must come
// from the host the user named. The edge's breakers and buffer limit
// apply as to any cluster.
func AuthDNSCluster(name, host string, port uint32, tls bool) *clusterv3.Cluster {
	c := &clusterv3.Cluster{
		Name:                          name,
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
		ConnectTimeout:                durationpb.New(ClusterConnectTimeout),
		LbPolicy:                      clusterv3.Cluster_ROUND_ROBIN,
		CircuitBreakers:               edgeCircuitBreakers(),
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(BufferLimitBytes),
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: name,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress(host, port, false)}},
			}}}},
		},
	}
	if tls {
		ctx := &tlsv3.UpstreamTlsContext{
			Sni:                  host,
			AutoSniSanValidation: true,
			CommonTlsContext: &tlsv3.CommonTlsContext{
				AlpnProtocols: []string{"http/1.1"},
				ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
					SystemRootCerts: &tlsv3.CertificateValidationContext_SystemRootCerts{},
				}},
			},
		}
		c.TransportSocket = &corev3.TransportSocket{Name: tlsTransportSocket, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)}}
	}
	return c
}

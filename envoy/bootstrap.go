package envoy

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	downstreamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// XDSClusterName is the bootstrap's static cluster that reaches fairway.
const XDSClusterName = "xds_cluster"

// BootstrapConfig describes one fleet member's bootstrap.
type BootstrapConfig struct {
	NodeID      string
	NodeCluster string
	// XDSAddress is fairway's host:port; a hostname is resolved by DNS.
	XDSAddress string
	// Delta selects incremental xDS (DELTA_GRPC) over state of the world.
	Delta bool
	// AdminAddress is host:port of Envoy's admin interface.
	AdminAddress string
	// MaxConnections caps downstream connections across all listeners.
	MaxConnections int64
	// TLS, when set, makes the xDS connection mutual TLS with these files,
	// as paths on the Envoy's filesystem.
	TLS *BootstrapTLS
}

// BootstrapTLS are the files of the xDS client certificate and the CA that
// signed fairway's serving certificate.
type BootstrapTLS struct {
	CertFile, KeyFile, CAFile string
	// ServerName is the name fairway's certificate must carry; defaults to
	// the XDSAddress host.
	ServerName string
}

// Bootstrap is an Envoy bootstrap for a fleet member: node identity, ADS to
// fairway for listeners and clusters (routes, endpoints and secrets follow
// over the same stream), a local admin interface, and an overload manager
// that caps downstream connections so a flood cannot exhaust the pod.
func Bootstrap(c BootstrapConfig) (*bootstrapv3.Bootstrap, error) {
	host, port, err := SplitXDSAddress(c.XDSAddress)
	if err != nil {
		return nil, fmt.Errorf("xds address %q: %w", c.XDSAddress, err)
	}
	adminHost, adminPort, err := SplitXDSAddress(c.AdminAddress)
	if err != nil {
		return nil, fmt.Errorf("admin address %q: %w", c.AdminAddress, err)
	}
	apiType := corev3.ApiConfigSource_GRPC
	if c.Delta {
		apiType = corev3.ApiConfigSource_DELTA_GRPC
	}
	return &bootstrapv3.Bootstrap{
		Node:  &corev3.Node{Id: c.NodeID, Cluster: c.NodeCluster},
		Admin: &bootstrapv3.Admin{Address: socketAddress(adminHost, adminPort, false)},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:             apiType,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{
					TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: XDSClusterName}},
				}},
			},
			LdsConfig: adsSource(),
			CdsConfig: adsSource(),
		},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{xdsCluster(host, port, c.TLS)}},
		OverloadManager: connectionLimit(c.MaxConnections),
	}, nil
}

// xdsCluster reaches fairway over HTTP/2 with keepalive pings, so a dead
// control plane connection is noticed in seconds, not at the next TCP
// timeout; Envoy keeps serving its last config meanwhile.
func xdsCluster(host string, port uint32, tlsFiles *BootstrapTLS) *clusterv3.Cluster {
	discovery := clusterv3.Cluster_STRICT_DNS
	if _, err := netip.ParseAddr(host); err == nil {
		discovery = clusterv3.Cluster_STATIC
	}
	h2 := &httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
				ConnectionKeepalive: &corev3.KeepaliveSettings{
					Interval: durationpb.New(30 * time.Second),
					Timeout:  durationpb.New(5 * time.Second),
				},
			}},
		}},
	}
	c := &clusterv3.Cluster{
		Name:                 XDSClusterName,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: discovery},
		ConnectTimeout:       durationpb.New(ClusterConnectTimeout),
		TypedExtensionProtocolOptions: map[string]*anypb.Any{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": mustAny(h2),
		},
		UpstreamConnectionOptions: &clusterv3.UpstreamConnectionOptions{TcpKeepalive: &corev3.TcpKeepalive{
			KeepaliveTime:     wrapperspb.UInt32(30),
			KeepaliveInterval: wrapperspb.UInt32(10),
			KeepaliveProbes:   wrapperspb.UInt32(3),
		}},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: XDSClusterName,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: lbEndpoints([]Endpoint{{Address: host, Port: port}}),
			}},
		},
	}
	if tlsFiles != nil {
		serverName := tlsFiles.ServerName
		if serverName == "" {
			serverName = host
		}
		c.TransportSocket = upstreamMTLS(tlsFiles, serverName)
	}
	return c
}

func upstreamMTLS(f *BootstrapTLS, serverName string) *corev3.TransportSocket {
	file := func(path string) *corev3.DataSource {
		return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: path}}
	}
	ctx := &tlsv3.UpstreamTlsContext{
		Sni: serverName,
		CommonTlsContext: &tlsv3.CommonTlsContext{
			AlpnProtocols:   []string{"h2"},
			TlsCertificates: []*tlsv3.TlsCertificate{{CertificateChain: file(f.CertFile), PrivateKey: file(f.KeyFile)}},
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: file(f.CAFile),
			}},
		},
	}
	return &corev3.TransportSocket{
		Name:       tlsTransportSocket,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)},
	}
}

// connectionLimit is the overload manager's global downstream connection
// cap: past it Envoy refuses new connections instead of running out of
// memory or file descriptors.
func connectionLimit(max int64) *overloadv3.OverloadManager {
	return &overloadv3.OverloadManager{
		ResourceMonitors: []*overloadv3.ResourceMonitor{{
			Name: "envoy.resource_monitors.global_downstream_max_connections",
			ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: mustAny(&downstreamv3.DownstreamConnectionsConfig{
				MaxActiveDownstreamConnections: max,
			})},
		}},
	}
}

// SplitXDSAddress reads fairway's xDS address: a host (name or IP) and a
// port from 1 to 65535.
func SplitXDSAddress(addr string) (string, uint32, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		return "", 0, fmt.Errorf("no host")
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 {
		return "", 0, fmt.Errorf("port %q is not between 1 and 65535", p)
	}
	return host, uint32(port), nil
}

package envoy

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	downstreamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
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
	// AdminAddress is Envoy's admin interface: host:port, or unix:PATH for
	// a unix socket that only processes in the Envoy's own container (and
	// root) can reach, which the host network's other processes cannot.
	AdminAddress string
	// HealthAddress, when set, is host:port of a listener that answers only
	// GET /ready from the admin, for probes and load balancer health checks.
	HealthAddress string
	// StatsAddress, when set, is host:port of a listener that answers only
	// /stats/prometheus from the admin, for Prometheus to scrape.
	StatsAddress string
	// MaxConnections caps downstream connections across all listeners.
	MaxConnections int64
	// MaxHeapBytes is the heap size at which the overload manager's memory
	// actions reach saturation: sized below the container's memory limit,
	// so that Envoy sheds load before the kernel kills it.
	MaxHeapBytes uint64
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
	// SDSDir is the directory (on the Envoy) of the two SDS files that
	// XDSClientSecrets describes; the bootstrap's xDS cluster reads its
	// certificate and CA through them, so that a rotation is picked up.
	SDSDir string
}

// Bootstrap is an Envoy bootstrap for a fleet member: node identity, ADS to
// fairway for listeners and clusters (routes, endpoints and secrets follow
// over the same stream), an admin interface kept off the network, health
// and stats listeners that expose one admin path each, the overload manager
// (a connection cap and heap-based load shedding, so a flood cannot exhaust
// the pod) and the runtime limits the translator relies on.
func Bootstrap(c BootstrapConfig) (*bootstrapv3.Bootstrap, error) {
	host, port, err := SplitXDSAddress(c.XDSAddress)
	if err != nil {
		return nil, fmt.Errorf("xds address %q: %w", c.XDSAddress, err)
	}
	if c.TLS != nil && !filepath.IsAbs(c.TLS.SDSDir) {
		return nil, fmt.Errorf("xds tls: the SDS file directory %q must be an absolute path", c.TLS.SDSDir)
	}
	admin, err := adminAddress(c.AdminAddress)
	if err != nil {
		return nil, fmt.Errorf("admin address %q: %w", c.AdminAddress, err)
	}
	apiType := corev3.ApiConfigSource_GRPC
	if c.Delta {
		apiType = corev3.ApiConfigSource_DELTA_GRPC
	}
	static, err := staticResources(c, admin)
	if err != nil {
		return nil, err
	}
	static.Clusters = append([]*clusterv3.Cluster{xdsCluster(host, port, c.TLS)}, static.Clusters...)
	return &bootstrapv3.Bootstrap{
		Node:  &corev3.Node{Id: c.NodeID, Cluster: c.NodeCluster},
		Admin: &bootstrapv3.Admin{Address: admin},
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
		StaticResources: static,
		OverloadManager: overloadManager(c.MaxConnections, c.MaxHeapBytes),
		LayeredRuntime:  runtimeLimits(),
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

// Names of what the bootstrap adds beside the xDS cluster. The listeners'
// stat prefixes are their names, so that `fairway drain` can leave their
// connections (a probe, a scrape) out of the count it waits on.
const (
	HealthListenerName = "fairway_health"
	StatsListenerName  = "fairway_stats"
	AdminClusterName   = "envoy_admin"
)

// The admin paths the health and stats listeners pass on; nothing else of
// the admin is reachable from the network.
const (
	ReadyPath      = "/ready"
	PrometheusPath = "/stats/prometheus"
)

// adminSocketPrefix marks an admin address that is a unix socket path.
const adminSocketPrefix = "unix:"

// AdminSocketPath is the socket path of an admin address written as
// unix:PATH (or unix:///PATH), and false for a host:port.
func AdminSocketPath(addr string) (string, bool) {
	rest, ok := strings.CutPrefix(addr, adminSocketPrefix)
	if !ok {
		return "", false
	}
	if strings.HasPrefix(rest, "///") {
		rest = rest[2:]
	}
	return rest, true
}

// adminAddress reads the admin address. A unix socket is created with mode
// 0600: only the Envoy's own user may stop or reconfigure it, where any
// process on a host-network node can reach a loopback port.
func adminAddress(addr string) (*corev3.Address, error) {
	if path, ok := AdminSocketPath(addr); ok {
		if !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("socket path %q is not absolute", path)
		}
		return &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: path, Mode: 0o600}}}, nil
	}
	host, port, err := SplitXDSAddress(addr)
	if err != nil {
		return nil, err
	}
	return socketAddress(host, port, false), nil
}

// staticResources are the health and stats listeners that were asked for,
// and the cluster through which they reach the admin.
func staticResources(c BootstrapConfig, admin *corev3.Address) (*bootstrapv3.Bootstrap_StaticResources, error) {
	if c.HealthAddress != "" && c.HealthAddress == c.StatsAddress {
		return nil, fmt.Errorf("health and stats addresses are both %q: they need a port each", c.HealthAddress)
	}
	static := &bootstrapv3.Bootstrap_StaticResources{}
	for _, l := range []struct{ name, kind, address, path string }{
		{HealthListenerName, "health", c.HealthAddress, ReadyPath},
		{StatsListenerName, "stats", c.StatsAddress, PrometheusPath},
	} {
		if l.address == "" {
			continue
		}
		host, port, err := SplitXDSAddress(l.address)
		if err != nil {
			return nil, fmt.Errorf("%s address %q: %w", l.kind, l.address, err)
		}
		static.Listeners = append(static.Listeners, adminPathListener(l.name, host, port, l.path))
	}
	if len(static.Listeners) > 0 {
		static.Clusters = append(static.Clusters, adminCluster(admin))
	}
	return static, nil
}

// adminPathListener passes GET of exactly one admin path to the admin and
// answers 404 to everything else. Path matching is exact and unnormalised,
// so no spelling of another admin path gets through. It is exempt from the
// global connection cap, so a full fleet member still answers its probes
// and scrapes.
func adminPathListener(name, host string, port uint32, path string) *listenerv3.Listener {
	match := ExactPathMatch(path)
	match.Headers = []*routev3.HeaderMatcher{{
		Name: ":method",
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "GET"},
		}},
	}}
	route := &routev3.Route{
		Match: match,
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: AdminClusterName},
			Timeout:          durationpb.New(5 * time.Second),
		}},
	}
	return &listenerv3.Listener{
		Name:                  name,
		StatPrefix:            name,
		Address:               listenAddress(host, port, false),
		FilterChains:          []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{hcmNetworkFilter(inlineHCM(name, []*routev3.Route{route}))}}},
		IgnoreGlobalConnLimit: true,
	}
}

// adminCluster reaches Envoy's own admin, at its socket or port; an admin
// bound to every interface is reached over loopback.
func adminCluster(admin *corev3.Address) *clusterv3.Cluster {
	if sa := admin.GetSocketAddress(); sa != nil {
		if ip, err := netip.ParseAddr(sa.GetAddress()); err == nil && ip.IsUnspecified() {
			loopback := "127.0.0.1"
			if ip.Is6() {
				loopback = "::1"
			}
			admin = socketAddress(loopback, sa.GetPortValue(), false)
		}
	}
	return &clusterv3.Cluster{
		Name:                 AdminClusterName,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		ConnectTimeout:       durationpb.New(time.Second),
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: AdminClusterName,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: admin}},
			}}}},
		},
	}
}

// Resource monitors, as Envoy registers them.
const (
	connectionsMonitor = "envoy.resource_monitors.global_downstream_max_connections"
	heapMonitor        = "envoy.resource_monitors.fixed_heap"
)

// Heap pressure, as a fraction of MaxHeapBytes, at which each action
// starts (Scaling) and is in full force (Saturation). The order is the
// order of cost to clients: shorter idle timeouts first, then the streams
// holding the most buffered bytes, then returning freed memory to the
// system, and last refusing new requests and connections.
const (
	reduceTimeoutsScaling       = 0.85
	reduceTimeoutsSaturation    = 0.95
	resetHighMemoryScaling      = 0.90
	resetHighMemorySaturation   = 0.98
	shrinkHeapThreshold         = 0.95
	stopAcceptingThreshold      = 0.98
	overloadRefresh             = 250 * time.Millisecond
	minIdleConnectionTimeout    = 2 * time.Second
	minIdleStreamTimeout        = 10 * time.Second
	trackedStreamBufferPowerOf2 = 20 // streams holding 1 MiB or more of buffers can be reset
)

// overloadManager caps downstream connections, so a flood gets refused
// connections instead of exhausting file descriptors, and with a heap
// size sheds load step by step as the heap fills, instead of being killed
// by the kernel with every connection on it. The global connection cap is
// the resource monitor: Envoy deprecated the runtime key for it.
func overloadManager(maxConnections int64, maxHeap uint64) *overloadv3.OverloadManager {
	om := &overloadv3.OverloadManager{
		RefreshInterval: durationpb.New(overloadRefresh),
		ResourceMonitors: []*overloadv3.ResourceMonitor{resourceMonitor(connectionsMonitor, &downstreamv3.DownstreamConnectionsConfig{
			MaxActiveDownstreamConnections: maxConnections,
		})},
	}
	if maxHeap == 0 {
		return om
	}
	om.ResourceMonitors = append(om.ResourceMonitors, resourceMonitor(heapMonitor, &fixedheapv3.FixedHeapConfig{MaxHeapSizeBytes: maxHeap}))
	om.Actions = heapActions()
	// Stream memory accounting, which reset_high_memory_stream needs to
	// find the streams to reset.
	om.BufferFactoryConfig = &overloadv3.BufferFactoryConfig{MinimumAccountToTrackPowerOfTwo: trackedStreamBufferPowerOf2}
	// stop_accepting_requests acts on HTTP only; the fleet also passes TCP
	// through, so new connections stop at the same pressure.
	om.LoadshedPoints = []*overloadv3.LoadShedPoint{{
		Name:     "envoy.load_shed_points.tcp_listener_accept",
		Triggers: []*overloadv3.Trigger{heapThreshold(stopAcceptingThreshold)},
	}}
	return om
}

func heapActions() []*overloadv3.OverloadAction {
	timers := &overloadv3.ScaleTimersOverloadActionConfig{TimerScaleFactors: []*overloadv3.ScaleTimersOverloadActionConfig_ScaleTimer{
		{
			Timer:          overloadv3.ScaleTimersOverloadActionConfig_HTTP_DOWNSTREAM_CONNECTION_IDLE,
			OverloadAdjust: &overloadv3.ScaleTimersOverloadActionConfig_ScaleTimer_MinTimeout{MinTimeout: durationpb.New(minIdleConnectionTimeout)},
		},
		{
			Timer:          overloadv3.ScaleTimersOverloadActionConfig_HTTP_DOWNSTREAM_STREAM_IDLE,
			OverloadAdjust: &overloadv3.ScaleTimersOverloadActionConfig_ScaleTimer_MinTimeout{MinTimeout: durationpb.New(minIdleStreamTimeout)},
		},
	}}
	return []*overloadv3.OverloadAction{
		{
			Name:        "envoy.overload_actions.reduce_timeouts",
			Triggers:    []*overloadv3.Trigger{heapScaled(reduceTimeoutsScaling, reduceTimeoutsSaturation)},
			TypedConfig: mustAny(timers),
		},
		{
			Name:     "envoy.overload_actions.reset_high_memory_stream",
			Triggers: []*overloadv3.Trigger{heapScaled(resetHighMemoryScaling, resetHighMemorySaturation)},
		},
		{Name: "envoy.overload_actions.shrink_heap", Triggers: []*overloadv3.Trigger{heapThreshold(shrinkHeapThreshold)}},
		{Name: "envoy.overload_actions.stop_accepting_requests", Triggers: []*overloadv3.Trigger{heapThreshold(stopAcceptingThreshold)}},
	}
}

func heapThreshold(v float64) *overloadv3.Trigger {
	return &overloadv3.Trigger{Name: heapMonitor, TriggerOneof: &overloadv3.Trigger_Threshold{Threshold: &overloadv3.ThresholdTrigger{Value: v}}}
}

func heapScaled(scaling, saturation float64) *overloadv3.Trigger {
	return &overloadv3.Trigger{Name: heapMonitor, TriggerOneof: &overloadv3.Trigger_Scaled{Scaled: &overloadv3.ScaledTrigger{
		ScalingThreshold: scaling, SaturationThreshold: saturation,
	}}}
}

func resourceMonitor(name string, config proto.Message) *overloadv3.ResourceMonitor {
	return &overloadv3.ResourceMonitor{Name: name, ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: mustAny(config)}}
}

// runtimeLimits raises RE2's program size limit from Envoy's default of
// 100 to RegexProgramSizeLimit, which the translator holds every regex
// under: the default is crossed by a long wildcard host's single-label
// check, and one such regex gets a whole route table NACKed. The warning
// level is the same, so a regex is either accepted quietly or refused.
// The admin layer keeps /runtime_modify working, as in Envoy's default.
func runtimeLimits() *bootstrapv3.LayeredRuntime {
	limit := structpb.NewNumberValue(RegexProgramSizeLimit)
	return &bootstrapv3.LayeredRuntime{Layers: []*bootstrapv3.RuntimeLayer{
		{Name: "static", LayerSpecifier: &bootstrapv3.RuntimeLayer_StaticLayer{StaticLayer: &structpb.Struct{Fields: map[string]*structpb.Value{
			"re2.max_program_size.error_level": limit,
			"re2.max_program_size.warn_level":  limit,
		}}}},
		{Name: "admin", LayerSpecifier: &bootstrapv3.RuntimeLayer_AdminLayer_{AdminLayer: &bootstrapv3.RuntimeLayer_AdminLayer{}}},
	}}
}

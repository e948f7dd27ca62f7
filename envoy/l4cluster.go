package envoy

import (
	"cmp"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	proxyprotocolv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/proxy_protocol/v3"
	rawbufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Extension names of the layer-4 cluster variants.
const (
	upstreamProxyProtocolSocket = "envoy.transport_sockets.upstream_proxy_protocol"
	rawBufferSocket             = "envoy.transport_sockets.raw_buffer"
)

// Health check defaults, for fairway.dev/health-check and for the
// kube-proxy check of externalTrafficPolicy: Local. A dead pod or node
// leaves within Interval × UnhealthyThreshold (15 s), about what a cloud
// network load balancer takes, and needs two good checks to come back,
// so one lucky answer does not put a flapping backend in the set.
const (
	HealthCheckInterval           = 5 * time.Second
	HealthCheckTimeout            = 2 * time.Second
	HealthCheckHealthyThreshold   = 2
	HealthCheckUnhealthyThreshold = 3
	// KubeProxyHealthPath is where kube-proxy answers, on a Service's
	// healthCheckNodePort, 200 when its node hosts a ready endpoint of
	// the Service and 503 when it does not.
	KubeProxyHealthPath = "/healthz"
)

// HealthCheck is an active check of every endpoint; the zero value is
// none. It is comparable, like the L4Upstream that holds it.
type HealthCheck struct {
	// TCP: a check is a connect, healthy when it completes.
	TCP bool
	// KubeProxy: a check is an HTTP GET of KubeProxyHealthPath on the
	// endpoint's health check port (the Service's healthCheckNodePort,
	// carried by each endpoint), healthy on 200.
	KubeProxy          bool
	Interval, Timeout  time.Duration // 0 is the default
	Healthy, Unhealthy uint32        // 0 is the default
}

// On reports whether h checks anything.
func (h HealthCheck) On() bool { return h.TCP || h.KubeProxy }

// Normal is h with every default written as 0, so that one check has
// one cluster name.
func (h HealthCheck) Normal() HealthCheck {
	if !h.On() {
		return HealthCheck{}
	}
	if h.KubeProxy {
		h.TCP = false // the kube-proxy check replaces the connect check
	}
	h.Interval = zeroIf(h.Interval, HealthCheckInterval)
	h.Timeout = zeroIf(h.Timeout, HealthCheckTimeout)
	h.Healthy = zeroIf(h.Healthy, HealthCheckHealthyThreshold)
	h.Unhealthy = zeroIf(h.Unhealthy, HealthCheckUnhealthyThreshold)
	return h
}

func zeroIf[T comparable](v, def T) T {
	var zero T
	if v == def {
		return zero
	}
	return v
}

// L4Upstream is how a LoadBalancer Service's own listener reaches its
// port, where that differs from the plain EDSCluster: what the Service's
// fields and fairway.dev/ annotations ask. The zero value is the plain
// cluster. It is comparable: the translator keys clusters by it.
type L4Upstream struct {
	// ClientIPAffinity balances by a consistent hash (Maglev) of the
	// client's address, which the listener's hash policy supplies.
	ClientIPAffinity bool
	// ProxyProtocol is the PROXY protocol version (1 or 2) sent to the
	// endpoint before the client's bytes; 0 sends none.
	ProxyProtocol uint8
	// MaxConnections replaces the edge's per-cluster connection breaker;
	// 0 keeps ClusterMaxConnections.
	MaxConnections uint32
	HealthCheck    HealthCheck
}

// Normal is u with its defaults written as zero.
func (u L4Upstream) Normal() L4Upstream {
	u.MaxConnections = zeroIf(u.MaxConnections, ClusterMaxConnections)
	u.HealthCheck = u.HealthCheck.Normal()
	return u
}

// Plain reports whether u is the plain cluster.
func (u L4Upstream) Plain() bool { return u.Normal() == L4Upstream{} }

// ServiceCluster is the EDS cluster of a LoadBalancer Service port as its
// L4Upstream says; for the zero value it is EDSCluster.
func ServiceCluster(name string, u L4Upstream) *clusterv3.Cluster {
	u = u.Normal()
	c := EDSCluster(name)
	if u.ClientIPAffinity {
		c.LbPolicy = clusterv3.Cluster_MAGLEV
	}
	if u.ProxyProtocol != 0 {
		c.TransportSocket = upstreamProxyProtocol(u.ProxyProtocol)
	}
	if u.MaxConnections != 0 {
		c.CircuitBreakers.Thresholds[0].MaxConnections = wrapperspb.UInt32(u.MaxConnections)
	}
	if h := u.HealthCheck; h.On() {
		c.HealthChecks = []*corev3.HealthCheck{healthCheck(h)}
		// A new endpoint waits for its first good check, outside the
		// count that decides panic mode, so scaling up never tips a
		// cluster into panic.
		c.CommonLbConfig = &clusterv3.Cluster_CommonLbConfig{IgnoreNewHostsUntilFirstHc: true}
		if h.KubeProxy {
			// A node whose kube-proxy says no drops the Service's
			// traffic, so Envoy's panic mode (send to every host when
			// most fail) would only send clients into that drop.
			c.CommonLbConfig.HealthyPanicThreshold = &typev3.Percent{Value: 0}
		}
	}
	plainHealthChecks(c)
	return c
}

// healthCheckSocket is the key and value a health check names to pick
// the plain socket of transport_socket_matches; no endpoint carries it,
// so the Service's own connections keep the cluster's socket.
const healthCheckSocket = "health-check"

// plainHealthChecks makes a PROXY protocol cluster's health checks
// connect without the header: kube-proxy's /healthz would answer a
// request that starts with "PROXY ..." with 400 and take every node out,
// and a pod's listener has no client to be told of.
func plainHealthChecks(c *clusterv3.Cluster) {
	if c.TransportSocket == nil || len(c.HealthChecks) == 0 {
		return
	}
	criteria := &structpb.Struct{Fields: map[string]*structpb.Value{healthCheckSocket: structpb.NewStringValue("plain")}}
	c.TransportSocketMatches = []*clusterv3.Cluster_TransportSocketMatch{{Name: healthCheckSocket, Match: criteria, TransportSocket: rawBuffer()}}
	for _, hc := range c.HealthChecks {
		hc.TransportSocketMatchCriteria = criteria
	}
}

func rawBuffer() *corev3.TransportSocket {
	return &corev3.TransportSocket{
		Name:       rawBufferSocket,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(&rawbufferv3.RawBuffer{})},
	}
}

// healthCheck is the active check h describes.
func healthCheck(h HealthCheck) *corev3.HealthCheck {
	hc := &corev3.HealthCheck{
		Timeout:            durationpb.New(cmp.Or(h.Timeout, HealthCheckTimeout)),
		Interval:           durationpb.New(cmp.Or(h.Interval, HealthCheckInterval)),
		HealthyThreshold:   wrapperspb.UInt32(cmp.Or(h.Healthy, uint32(HealthCheckHealthyThreshold))),
		UnhealthyThreshold: wrapperspb.UInt32(cmp.Or(h.Unhealthy, uint32(HealthCheckUnhealthyThreshold))),
	}
	if h.KubeProxy {
		hc.HealthChecker = &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: &corev3.HealthCheck_HttpHealthCheck{Path: KubeProxyHealthPath}}
	} else {
		hc.HealthChecker = &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}
	}
	return hc
}

// upstreamProxyProtocol writes a PROXY header of the version before the
// client's bytes, over plain TCP. Its source is the downstream
// connection's remote address, which the listener's proxy_protocol
// filter has already replaced by the client's when the fleet takes PROXY
// itself: the backend sees the original client either way.
func upstreamProxyProtocol(version uint8) *corev3.TransportSocket {
	v := corev3.ProxyProtocolConfig_V1
	if version == 2 {
		v = corev3.ProxyProtocolConfig_V2
	}
	inner := rawBuffer()
	return &corev3.TransportSocket{
		Name: upstreamProxyProtocolSocket,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(&proxyprotocolv3.ProxyProtocolUpstreamTransport{
			Config:          &corev3.ProxyProtocolConfig{Version: v},
			TransportSocket: inner,
		})},
	}
}

package envoy

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The fleet is the cluster's internet-facing front door, while Envoy's
// defaults are tuned for a service mesh, where both ends are trusted. These
// are the values that differ for an edge, after Envoy's "Configuring Envoy
// as an edge proxy"; the README's "Edge defaults" table gives each reason.
const (
	// BufferLimitBytes bounds what Envoy buffers per connection, downstream
	// and upstream, so that a slow reader cannot make it hold megabytes per
	// socket (Envoy's default is 1 MiB).
	BufferLimitBytes = 32 << 10

	// RequestHeadersTimeout ends a connection whose request headers have
	// not all arrived in time: the slowloris defence. Unset, Envoy waits
	// for as long as the connection idles.
	RequestHeadersTimeout = 10 * time.Second
	// StreamIdleTimeout resets a request (or a WebSocket) on which no byte
	// moved for this long, in either direction: what stops a stalled
	// stream, since routes have no overall timeout. It is Envoy's default
	// (and no runtime key moves it), so it is left unset: written out, it
	// was 5 bytes in every chain of the https listener.
	StreamIdleTimeout = 5 * time.Minute
	// ConnectionIdleTimeout closes a downstream connection with no request
	// in flight. Envoy's default is an hour, which lets idle keep-alive
	// connections pile up at the edge; browsers reuse a connection within
	// seconds or not at all.
	ConnectionIdleTimeout = 5 * time.Minute
	// MaxRequestHeadersKB is Envoy's default limit on request headers,
	// written out: it is above what ingress-nginx accepts (4 buffers of
	// 8 KiB), so nothing that worked behind ingress-nginx is refused.
	MaxRequestHeadersKB = 60

	// HTTP/2 limits for clients on the internet: Envoy's defaults (2^31
	// streams, 256 MiB windows) let one client make Envoy buffer far more
	// than the connection buffer limit.
	HTTP2MaxConcurrentStreams        = 100
	HTTP2InitialStreamWindowSize     = 64 << 10
	HTTP2InitialConnectionWindowSize = 1 << 20

	// TCPIdleTimeout ends an L4 connection with no bytes in either
	// direction: Envoy's default, written out.
	TCPIdleTimeout = time.Hour
	// TCPMaxConnectAttempts is how often a passthrough connection tries a
	// pod before giving up: a pod that went away during a rollout refuses
	// the first try, and the next picks another.
	TCPMaxConnectAttempts = 3

	// UDPMaxDatagramSize is the largest datagram a UDP listener or its
	// upstream socket receives; bigger ones are dropped. Envoy's default
	// of 1500 drops EDNS answers (up to 4096 bytes) and anything from a
	// jumbo-frame network; 9000 covers both and QUIC's datagrams.
	UDPMaxDatagramSize = 9000

	// Circuit breakers of every cluster. Envoy's defaults (1,024
	// connections, pending and active requests) would cap a LoadBalancer
	// Service at 1,024 concurrent connections per Envoy, far under the
	// fleet's global connection cap; these sit above it, so that the
	// overload manager's cap, not a per-Service breaker, limits a pod.
	ClusterMaxConnections     = 100_000
	ClusterMaxPendingRequests = 100_000
	ClusterMaxRequests        = 100_000
	// ClusterMaxRetries bounds concurrent retries per cluster. fairway
	// retries only requests that never reached a pod, so a retry adds no
	// work to a backend; Envoy's default of 3 would turn most of a busy
	// Service's rollout back into 503s.
	ClusterMaxRetries = 1024

	// RouteRetryOn are the failures an HTTP route retries: those before
	// any byte of the request reached a pod, which are safe to retry for
	// every method and are what a pod going away during a rollout causes.
	RouteRetryOn = "connect-failure,reset-before-request"
	// RouteNumRetries is the retries per request, each to the next pod of
	// the round robin.
	RouteNumRetries = 2
)

// RouteTimeout is every route's timeout: none, instead of Envoy's 15 s,
// which would silently cut long downloads, uploads and streams. Stalled
// requests end at StreamIdleTimeout. Per-route timeouts are the user's
// choice.
const RouteTimeout time.Duration = 0

// edgeHTTPProtocolOptions are the connection-level HTTP options of the
// fleet's connection managers.
func edgeHTTPProtocolOptions() *corev3.HttpProtocolOptions {
	return &corev3.HttpProtocolOptions{
		IdleTimeout: durationpb.New(ConnectionIdleTimeout),
		// Envoy's edge guidance: a header spelled with '_' is refused
		// with 400, since backends that treat '_' and '-' alike (CGI,
		// many frameworks) would otherwise read a client's
		// "X_Auth_User" as a trusted X-Auth-User. ingress-nginx drops
		// such headers silently; a refusal shows up in the access log.
		HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_REJECT_REQUEST,
	}
}

func edgeHTTP2Options() *corev3.Http2ProtocolOptions {
	return &corev3.Http2ProtocolOptions{
		MaxConcurrentStreams:        wrapperspb.UInt32(HTTP2MaxConcurrentStreams),
		InitialStreamWindowSize:     wrapperspb.UInt32(HTTP2InitialStreamWindowSize),
		InitialConnectionWindowSize: wrapperspb.UInt32(HTTP2InitialConnectionWindowSize),
	}
}

// edgeCircuitBreakers are the default-priority thresholds of every cluster
// (fairway routes nothing at high priority).
func edgeCircuitBreakers() *clusterv3.CircuitBreakers {
	return &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		Priority:           corev3.RoutingPriority_DEFAULT,
		MaxConnections:     wrapperspb.UInt32(ClusterMaxConnections),
		MaxPendingRequests: wrapperspb.UInt32(ClusterMaxPendingRequests),
		MaxRequests:        wrapperspb.UInt32(ClusterMaxRequests),
		MaxRetries:         wrapperspb.UInt32(ClusterMaxRetries),
	}}}
}

// edgeRetryPolicy retries a request that never reached a pod, so a
// rollout's vanished endpoint costs a retry, not a 503. The retry goes to
// the next pod of the cluster's round robin, which is another pod; a
// previous_hosts predicate would say so again at about 130 bytes per
// virtual host, which doubled the route table of 10,000 hosts that every
// Envoy is sent on every Ingress change.
func edgeRetryPolicy() *routev3.RetryPolicy {
	return &routev3.RetryPolicy{
		RetryOn:    RouteRetryOn,
		NumRetries: wrapperspb.UInt32(RouteNumRetries),
	}
}

// udpSocketConfig receives datagrams up to UDPMaxDatagramSize.
func udpSocketConfig() *corev3.UdpSocketConfig {
	return &corev3.UdpSocketConfig{MaxRxDatagramSize: wrapperspb.UInt64(UDPMaxDatagramSize)}
}

package envoy

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Upstream is how a cluster speaks to its endpoints where it differs from
// the plain EDSCluster (HTTP/1.1 in the clear, round robin,
// ClusterConnectTimeout). The zero value is the plain cluster. It is
// comparable: the translator keys clusters by it.
type Upstream struct {
	// TLS to the endpoint, as ingress-nginx's HTTPS and GRPCS backends
	// do: the pod's certificate is not verified and no SNI is sent,
	// since a pod's certificate rarely names the address Envoy dials.
	TLS bool
	// HTTP2 speaks HTTP/2 (gRPC); with TLS, ALPN offers h2.
	HTTP2 bool
	// LeastRequest picks the less loaded of two random endpoints instead
	// of the next in the round robin.
	LeastRequest bool
	// ConsistentHash balances by the route's hash policy (session
	// affinity) with Maglev, as ServiceCluster's client-IP affinity does;
	// it wins over LeastRequest, which the translator then leaves off.
	ConsistentHash bool
	// ConnectTimeout bounds a connect; 0 (and ClusterConnectTimeout
	// itself) is the plain cluster's.
	ConnectTimeout time.Duration
	// Verify is what TLS checks and presents (upstreamtls.go); only
	// with TLS, and nil for nothing. A pointer, since an Upstream is
	// held in every route's cluster key and Verify is rare and large.
	Verify *UpstreamTLS
}

// Plain reports whether u is the plain cluster's way of speaking.
func (u Upstream) Plain() bool { return u.Normal() == Upstream{} }

// Normal is u with a connect timeout equal to the default written as 0,
// so that one way of speaking has one name and one cluster.
func (u Upstream) Normal() Upstream {
	if u.ConnectTimeout == ClusterConnectTimeout {
		u.ConnectTimeout = 0
	}
	if !u.TLS || (u.Verify != nil && *u.Verify == UpstreamTLS{}) {
		u.Verify = nil
	}
	return u
}

// verify is what u's TLS checks and presents, the zero value for nothing.
func (u Upstream) verify() UpstreamTLS {
	if u.Verify == nil {
		return UpstreamTLS{}
	}
	return *u.Verify
}

// httpProtocolOptionsName is the key of a cluster's upstream HTTP options
// in typed_extension_protocol_options.
const httpProtocolOptionsName = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

// UpstreamCluster is an EDS cluster that speaks to its endpoints as u
// says; for the zero Upstream it is EDSCluster.
func UpstreamCluster(name string, u Upstream) *clusterv3.Cluster {
	u = u.Normal()
	c := EDSCluster(name)
	if u.ConnectTimeout > 0 {
		c.ConnectTimeout = durationpb.New(u.ConnectTimeout)
	}
	if u.LeastRequest {
		c.LbPolicy = clusterv3.Cluster_LEAST_REQUEST
	}
	if u.ConsistentHash {
		c.LbPolicy = clusterv3.Cluster_MAGLEV
	}
	if u.HTTP2 {
		c.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpProtocolOptionsName: mustAny(upstreamHTTP2())}
	}
	if u.TLS {
		alpn := "http/1.1"
		if u.HTTP2 {
			alpn = "h2"
		}
		c.TransportSocket = upstreamTLS(alpn, u.verify())
	}
	return c
}

// upstreamHTTP2 speaks HTTP/2 to every endpoint, with the edge's stream
// and window limits: a backend's response is then buffered no more than
// a client's request is.
func upstreamHTTP2() *httpv3.HttpProtocolOptions {
	return &httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: edgeHTTP2Options()},
		}},
	}
}

// upstreamTLS originates TLS offering one ALPN protocol. With the zero
// UpstreamTLS it has no validation context and no SNI: ingress-nginx's
// proxy_ssl_verify and proxy_ssl_server_name are off by default, and a
// backend that worked behind it presents whatever certificate it has.
func upstreamTLS(alpn string, v UpstreamTLS) *corev3.TransportSocket {
	ctx := upstreamTLSContext(alpn, v)
	return &corev3.TransportSocket{
		Name:       tlsTransportSocket,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)},
	}
}

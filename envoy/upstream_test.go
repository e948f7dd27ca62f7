package envoy

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/proto"
)

func TestUpstreamClusterNames(t *testing.T) {
	for _, c := range []struct {
		u    Upstream
		want string
	}{
		{Upstream{}, "shop/web/80"},
		{Upstream{ConnectTimeout: ClusterConnectTimeout}, "shop/web/80"},
		{Upstream{HTTP2: true}, "shop/web/80/h2c"},
		{Upstream{TLS: true}, "shop/web/80/tls"},
		{Upstream{TLS: true, HTTP2: true}, "shop/web/80/h2"},
		{Upstream{LeastRequest: true}, "shop/web/80/least-request"},
		{Upstream{ConsistentHash: true}, "shop/web/80/maglev"},
		{Upstream{TLS: true, ConsistentHash: true, ConnectTimeout: 10 * time.Second}, "shop/web/80/tls/maglev/connect-10s"},
		{Upstream{ConnectTimeout: 10 * time.Second}, "shop/web/80/connect-10s"},
		{Upstream{ConnectTimeout: 90 * time.Second}, "shop/web/80/connect-1m30s"},
		{Upstream{TLS: true, HTTP2: true, LeastRequest: true, ConnectTimeout: 50 * time.Second}, "shop/web/80/h2/least-request/connect-50s"},
	} {
		if got := UpstreamClusterName("shop", "web", 80, c.u); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.u, got, c.want)
		}
	}
}

// TestUpstreamClusterNamesDistinct: no two different ways of speaking to
// a Service port share a cluster name, and none takes the name of another
// port's plain or UDP cluster.
func TestUpstreamClusterNamesDistinct(t *testing.T) {
	seen := map[string]Upstream{}
	for _, port := range []int32{80, 8080} {
		seen[ClusterName("shop", "web", port, true)] = Upstream{ConnectTimeout: -1} // a UDP cluster
	}
	timeouts := []time.Duration{0, time.Second, 10 * time.Second, 60 * time.Second, 90 * time.Second, time.Hour}
	for _, tls := range []bool{false, true} {
		for _, h2 := range []bool{false, true} {
			for _, lr := range []bool{false, true} {
				for _, hash := range []bool{false, true} {
					for _, ct := range timeouts {
						u := Upstream{TLS: tls, HTTP2: h2, LeastRequest: lr, ConsistentHash: hash, ConnectTimeout: ct}
						for _, port := range []int32{80, 8080} {
							name := UpstreamClusterName("shop", "web", port, u)
							if prev, dup := seen[name]; dup {
								t.Errorf("%q names both %+v and %+v", name, prev, u)
							}
							seen[name] = u
						}
					}
				}
			}
		}
	}
}

func TestUpstreamCluster(t *testing.T) {
	if plain := UpstreamCluster("shop/web/80", Upstream{ConnectTimeout: ClusterConnectTimeout}); !proto.Equal(plain, EDSCluster("shop/web/80")) {
		t.Errorf("the zero Upstream is not the plain cluster: %v", plain)
	}
	c := UpstreamCluster("shop/web/80/h2/least-request/connect-50s", Upstream{TLS: true, HTTP2: true, LeastRequest: true, ConnectTimeout: 50 * time.Second})
	if err := c.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	if c.GetLbPolicy() != clusterv3.Cluster_LEAST_REQUEST || c.GetConnectTimeout().AsDuration() != 50*time.Second {
		t.Errorf("balance or connect timeout not set: %v", c)
	}
	var h httpv3.HttpProtocolOptions
	if err := c.GetTypedExtensionProtocolOptions()[httpProtocolOptionsName].UnmarshalTo(&h); err != nil {
		t.Fatal(err)
	}
	if h.GetExplicitHttpConfig().GetHttp2ProtocolOptions().GetMaxConcurrentStreams().GetValue() != HTTP2MaxConcurrentStreams {
		t.Errorf("HTTP/2 without the edge's limits: %v", &h)
	}
	var ctx tlsv3.UpstreamTlsContext
	if err := c.GetTransportSocket().GetTypedConfig().UnmarshalTo(&ctx); err != nil {
		t.Fatal(err)
	}
	if alpn := ctx.GetCommonTlsContext().GetAlpnProtocols(); len(alpn) != 1 || alpn[0] != "h2" {
		t.Errorf("ALPN = %v, want [h2]", alpn)
	}
	if ctx.GetSni() != "" || ctx.GetCommonTlsContext().GetValidationContextType() != nil {
		t.Errorf("ingress-nginx sends no SNI and verifies nothing by default: %v", &ctx)
	}
	tls := UpstreamCluster("shop/web/443/tls", Upstream{TLS: true})
	if err := tls.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	if err := tls.GetTransportSocket().GetTypedConfig().UnmarshalTo(&ctx); err != nil || ctx.GetCommonTlsContext().GetAlpnProtocols()[0] != "http/1.1" {
		t.Errorf("HTTPS backend: ALPN %v, err %v", ctx.GetCommonTlsContext().GetAlpnProtocols(), err)
	}
	if tls.GetTypedExtensionProtocolOptions() != nil {
		t.Error("an HTTPS backend speaks HTTP/1.1: no HTTP/2 options")
	}
	h2c := UpstreamCluster("shop/grpc/50051/h2c", Upstream{HTTP2: true})
	if h2c.GetTransportSocket() != nil || h2c.GetTypedExtensionProtocolOptions() == nil {
		t.Errorf("h2c: %v", h2c)
	}
}

package translator

import (
	"bytes"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/fairwayhq/fairway/envoy"
)

// TestClusterTemplate: a cluster built from the template is the encoding
// of the whole message.
func TestClusterTemplate(t *testing.T) {
	for _, name := range []string{"a/b/80", "default/very-long-service-name-for-a-two-byte-length-prefix/65535", "ns/dns/53/udp"} {
		got, err := encodeCluster(name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := marshalOptions.Marshal(envoy.EDSCluster(name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes, want) {
			t.Errorf("%s: template bytes differ from the encoded message", name)
		}
	}
}

// TestComposedRouteConfig: a route table composed from encoded virtual
// hosts is the encoding of the whole message.
func TestComposedRouteConfig(t *testing.T) {
	var vhosts []*routev3.VirtualHost
	var encoded []*Resource
	for _, host := range []string{"*", "*.w.com", "a.com", "b.com"} {
		vh := envoy.VirtualHost(host, []string{host}, []*routev3.Route{
			envoy.ClusterRoute("ns/i", envoy.WithAuthorityRegex(envoy.SegmentPrefixMatch("/a"), singleLabelRegex("*.w.com"), true), "ns/s/80"),
			envoy.DirectResponseRoute("ns/i", envoy.ExactPathMatch("/x"), 503),
		})
		vhosts = append(vhosts, vh)
		r, err := encode(host, vh, []Ref{{KindCluster, "ns/s/80"}})
		if err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, r)
	}
	for _, n := range []int{0, 1, len(vhosts)} {
		want, err := marshalOptions.Marshal(envoy.RouteConfiguration("http", vhosts[:n]))
		if err != nil {
			t.Fatal(err)
		}
		got := composeRouteConfig("http", encoded[:n])
		if !bytes.Equal(got.Bytes, want) {
			t.Errorf("%d virtual hosts: composed bytes differ from the encoded message", n)
		}
	}
}

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
			envoy.ClusterRoute("ns/i", envoy.WithAuthorityRegex(envoy.PrefixMatch("/a/"), singleLabelRegex("*.w.com"), true), "ns/s/80"),
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

// TestCheckCountsReferences: the counted check sees a reference to a
// missing resource as resources come and go, composed ones included.
func TestCheckCountsReferences(t *testing.T) {
	s := newResourceSet()
	ok := func(want bool, what string) {
		t.Helper()
		if err := s.Check(); (err == nil) != want {
			t.Fatalf("%s: Check = %v", what, err)
		}
		if err := s.checkAll(); (err == nil) != want {
			t.Fatalf("%s: checkAll = %v", what, err)
		}
	}
	s.put(KindListener, newResource("http", []byte("l"), []Ref{{KindRoute, "http"}}))
	ok(false, "a listener naming a missing route table")
	vh := newResource("a.com", []byte("v"), []Ref{{KindCluster, "ns/a/80"}})
	s.put(KindRoute, composeRouteConfig("http", []*Resource{vh}))
	ok(false, "a route table whose virtual host names a missing cluster")
	s.put(KindCluster, newResource("ns/a/80", []byte("c"), nil))
	ok(true, "everything there")
	vh2 := newResource("a.com", []byte("v2"), []Ref{{KindCluster, "ns/b/80"}})
	s.put(KindRoute, composeRouteConfig("http", []*Resource{vh2}))
	ok(false, "a changed virtual host naming a missing cluster")
	s.put(KindRoute, composeRouteConfig("http", []*Resource{vh}))
	ok(true, "back")
	s.remove(KindCluster, "ns/a/80")
	ok(false, "a referenced cluster removed")
	s.remove(KindRoute, "http")
	s.remove(KindListener, "http")
	ok(true, "the referrers removed too")
}

// TestCheckNamesTheObject: when the publish check fires, its error says
// which resource refers to the missing one and which Kubernetes object
// that one stands for, so an operator knows where to look.
func TestCheckNamesTheObject(t *testing.T) {
	s := newResourceSet()
	vh := newResource("a.com", []byte("v"), []Ref{{KindCluster, "ns/a/0"}})
	s.put(KindRoute, composeRouteConfig("http", []*Resource{vh}))
	s.put(KindListener, newResource("https", []byte("l"), []Ref{{KindRoute, "http"}, {KindSecret, "ns/cert"}}))
	err := s.Check()
	if err == nil {
		t.Fatal("Check passed with a missing cluster and secret")
	}
	want := `cluster "ns/a/0" (Service ns/a port 0) is referenced by route "http" (part "a.com") but not there (2 missing in all)`
	if err.Error() != want {
		t.Errorf("Check =\n%v\nwant\n%s", err, want)
	}
	s.put(KindCluster, newResource("ns/a/0", []byte("c"), nil))
	want = `secret "ns/cert" (Secret ns/cert) is referenced by listener "https" but not there (1 missing in all)`
	if err := s.Check(); err == nil || err.Error() != want {
		t.Errorf("Check =\n%v\nwant\n%s", err, want)
	}
}

package envoy

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
)

func TestNames(t *testing.T) {
	for got, want := range map[string]string{
		ClusterName("shop", "web", 80, false):                       "shop/web/80",
		ClusterName("infra", "dns", 53, true):                       "infra/dns/53/udp",
		TCPListenerName(5432):                                       "tcp-5432",
		ServiceClusterName("shop", "db", 5432, false, L4Upstream{}): "shop/db/5432",
		ServiceClusterName("shop", "db", 5432, false, L4Upstream{MaxConnections: ClusterMaxConnections}):                                                                  "shop/db/5432",
		ServiceClusterName("shop", "db", 5432, false, L4Upstream{ClientIPAffinity: true, ProxyProtocol: 2}):                                                               "shop/db/5432/affinity/proxy-v2",
		ServiceClusterName("infra", "dns", 53, true, L4Upstream{ClientIPAffinity: true}):                                                                                  "infra/dns/53/udp/affinity",
		ServiceClusterName("shop", "db", 5432, false, L4Upstream{MaxConnections: 100}):                                                                                    "shop/db/5432/max-connections-100",
		ServiceClusterName("shop", "db", 5432, false, L4Upstream{HealthCheck: HealthCheck{TCP: true}}):                                                                    "shop/db/5432/health-tcp",
		ServiceClusterName("shop", "db", 5432, false, L4Upstream{HealthCheck: HealthCheck{TCP: true, Interval: HealthCheckInterval, Timeout: time.Second, Unhealthy: 5}}): "shop/db/5432/health-tcp-timeout-1s-unhealthy-5",
		ServiceClusterName("shop", "web", 80, false, L4Upstream{HealthCheck: HealthCheck{KubeProxy: true, TCP: true}}):                                                    "shop/web/80/health-kube-proxy",
		UDPListenerName(53):                       "udp-53",
		SecretName("shop", "shop-tls"):            "shop/shop-tls",
		GRPCServerListenerName("10.0.0.7", 50051): "grpc/server?xds.resource.listening_address=10.0.0.7:50051",
		GRPCServerListenerName("fd00::7", 50051):  "grpc/server?xds.resource.listening_address=[fd00::7]:50051",
		HTTPSHostRouteConfig("shop.example.com"):  "https/shop.example.com",
		HTTPSHostRouteConfig("*.example.com"):     "https/*.example.com",
		FilterChainName(TLSChain{Secret: "a/wild", ServerNames: []string{"shop.example.com"}}): "shop.example.com",
		FilterChainName(TLSChain{Secret: "a/wild"}):                                            DefaultFilterChainName,
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// TestConstructorsValidate checks each constructor's output against
// go-control-plane's generated validation.
func TestConstructorsValidate(t *testing.T) {
	type validator interface{ ValidateAll() error }
	for name, m := range map[string]validator{
		"tcp listener":   TCPProxyListener(L4Listener{Name: "tcp-5432", Address: "::", Port: 5432, Cluster: "shop/db/5432", Log: DefaultTCPLogFormat}),
		"udp listener":   UDPProxyListener(L4Listener{Name: "udp-53", Address: DefaultListenAddress, Port: 53, Cluster: "infra/dns/53/udp", Log: DefaultUDPLogFormat}),
		"http listener":  HTTPListener(HTTPListenerName, DefaultListenAddress, 80, HTTPRouteConfig, DefaultHTTPLogFormat, ClientAddress{}),
		"https listener": HTTPSListener(HTTPSListenerName, "fd00::1", 443, []TLSChain{{Secret: "a/b", ServerNames: []string{"x.example.com"}, RouteConfig: HTTPSHostRouteConfig("x.example.com")}, {Secret: "a/c", RouteConfig: HTTPSRouteConfig}}, nil, ClientAddress{}),
		"cluster":        EDSCluster("shop/web/80"),
		"tcp listener, source ranges and affinity": TCPProxyListener(L4Listener{Name: "tcp-22", Address: "::", Port: 22, Cluster: "c", SourceRanges: []string{"10.0.0.0/8", "fd00::/8"}, HashSourceIP: true, IdleTimeout: time.Minute}),
		"udp listener, source ranges and affinity": UDPProxyListener(L4Listener{Name: "udp-53", Address: DefaultListenAddress, Port: 53, Cluster: "c", SourceRanges: []string{"192.0.2.7/32"}, HashSourceIP: true}),
		"service cluster, every setting":           ServiceCluster("c", L4Upstream{ClientIPAffinity: true, ProxyProtocol: 2, MaxConnections: 10, HealthCheck: HealthCheck{TCP: true, Interval: time.Second, Healthy: 1}}),
		"service cluster, kube-proxy check":        ServiceCluster("c", L4Upstream{ProxyProtocol: 1, HealthCheck: HealthCheck{KubeProxy: true}}),
		"endpoints":                                ClusterLoadAssignment("shop/web/80", []Locality{{Zone: "a", Endpoints: []Endpoint{{Address: "10.0.0.1", Port: 8080}}}, {Endpoints: []Endpoint{{Address: "fd00::1", Port: 8080, HealthCheckPort: 31000}}}}),
		"route config":                             RouteConfiguration(HTTPRouteConfig, nil),
		"route":                                    ClusterRoute("r", WithAuthorityRegex(PrefixMatch("/api/"), "(?i)^[^.]+\\.foo\\.com$", true), "c"),
		"root route":                               DirectResponseRoute("r", PrefixMatch("/"), 503),
		"exact route":                              ClusterRoute("r", ExactPathMatch("/x/"), "c"),
		"edge route":                               EdgeRoute(ClusterRoute("r", PrefixMatch("/"), "c")),
		"api listener":                             APIListener("web.shop.svc.cluster.local:80", ServiceRoute("web.shop.svc.cluster.local:80", "shop/web/80")),
		"grpc server":                              GRPCServerListener(GRPCServerListenerName("fd00::1", 50051), "fd00::1", 50051),
		"secret":                                   TLSSecret("a/b", []byte("cert"), []byte("key")),
	} {
		if err := m.ValidateAll(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSegmentPrefixRoutes: a segment prefix's routes match, by Envoy's and
// gRPC's rules for path (query removed) and prefix, exactly the paths whose
// elements start with the prefix's elements, and use no path specifier
// gRPC lacks.
func TestSegmentPrefixRoutes(t *testing.T) {
	elementwise := func(prefix, path string) bool {
		path, _, _ = strings.Cut(path, "?")
		return prefix == "/" || path == prefix || strings.HasPrefix(path, prefix+"/")
	}
	served := func(routes []*routev3.Route, path string) bool {
		for _, r := range routes {
			m := r.GetMatch()
			switch m.GetPathSpecifier().(type) {
			case *routev3.RouteMatch_Path:
				if p, _, _ := strings.Cut(path, "?"); p == m.GetPath() {
					return true
				}
			case *routev3.RouteMatch_Prefix:
				if strings.HasPrefix(path, m.GetPrefix()) {
					return true
				}
			default:
				t.Fatalf("path specifier %T is not one gRPC implements", m.GetPathSpecifier())
			}
		}
		return false
	}
	paths := []string{"/", "/a", "/api", "/api/", "/api/v1", "/apix", "/api?x=1", "/api/?x", "/ap", "/api.v1/Get", "/api.v1", "/API"}
	for _, prefix := range []string{"/", "/api", "/api.v1", "/a"} {
		routes := RouteSpec{Name: "r", Path: prefix, Cluster: "c"}.Routes()
		for _, p := range paths {
			if got, want := served(routes, p), elementwise(prefix, p); got != want {
				t.Errorf("prefix %q, path %q: matched = %v, want %v", prefix, p, got, want)
			}
		}
	}
}

func TestRedactSecret(t *testing.T) {
	s := TLSSecret("a/b", []byte("cert"), []byte("key"))
	r := RedactSecret(s)
	if got := r.GetTlsCertificate().GetPrivateKey().GetInlineString(); got != RedactedKey {
		t.Errorf("redacted key = %q", got)
	}
	if string(s.GetTlsCertificate().GetPrivateKey().GetInlineBytes()) != "key" {
		t.Error("RedactSecret changed its argument")
	}
	if string(r.GetTlsCertificate().GetCertificateChain().GetInlineBytes()) != "cert" {
		t.Error("the certificate chain is public and stays")
	}
}

// TestL4ListenerNamesNeverCollide: the listener names of Service ports,
// with and without an address of their own, of both families and
// protocols, and the Ingress listeners' names are all distinct; and a
// name with an address reads as tcp-<address>-<port>.
func TestL4ListenerNamesNeverCollide(t *testing.T) {
	for got, want := range map[string]string{
		L4ListenerName("192.0.2.7", 443, false): "tcp-192.0.2.7-443",
		L4ListenerName("2001:db8::7", 53, true): "udp-2001:db8::7-53",
		L4ListenerName("2001:db8::", 1, false):  "tcp-2001:db8::-1",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	seen := map[string]string{HTTPListenerName: "http", HTTPSListenerName: "https"}
	add := func(name, what string) {
		if prev, ok := seen[name]; ok {
			t.Errorf("%s and %s are both named %q", prev, what, name)
		}
		seen[name] = what
	}
	addrs := []string{"192.0.2.1", "192.0.2.14", "192.0.2.144", "2001:db8::", "2001:db8::1", "2001:db8::14", "::ffff:c000:201", "1.2.3.4"}
	for _, port := range []int32{1, 4, 14, 44, 80, 144, 443, 1443, 65535} {
		for _, udp := range []bool{false, true} {
			if udp {
				add(UDPListenerName(port), "udp fleet port")
			} else {
				add(TCPListenerName(port), "tcp fleet port")
			}
			for _, a := range addrs {
				add(L4ListenerName(netip.MustParseAddr(a).String(), port, udp), a)
			}
		}
	}
}

// TestProxyProtocolHealthChecksPlain: the health checks of a PROXY
// protocol cluster pick a plain socket by criteria no endpoint carries,
// so the checks (kube-proxy's /healthz above all) get no header while the
// Service's connections keep theirs.
func TestProxyProtocolHealthChecksPlain(t *testing.T) {
	for _, h := range []HealthCheck{{KubeProxy: true}, {TCP: true}} {
		c := ServiceCluster("c", L4Upstream{ProxyProtocol: 2, HealthCheck: h})
		if c.GetTransportSocket().GetName() != upstreamProxyProtocolSocket {
			t.Fatalf("%+v: the cluster's socket is %s", h, c.GetTransportSocket().GetName())
		}
		m := c.GetTransportSocketMatches()
		if len(m) != 1 || m[0].GetTransportSocket().GetName() != rawBufferSocket {
			t.Fatalf("%+v: socket matches %v, want one plain socket", h, m)
		}
		got := c.GetHealthChecks()[0].GetTransportSocketMatchCriteria()
		if !proto.Equal(got, m[0].GetMatch()) || len(got.GetFields()) == 0 {
			t.Errorf("%+v: health check criteria %v, socket match %v", h, got, m[0].GetMatch())
		}
	}
	if c := ServiceCluster("c", L4Upstream{HealthCheck: HealthCheck{TCP: true}}); c.GetTransportSocketMatches() != nil {
		t.Errorf("no PROXY protocol: socket matches %v", c.GetTransportSocketMatches())
	}
}

// TestSecretNamesNeverMeet: the SDS names made from one Secret (its
// certificate, its client CA, a backend's CA and certificate) never equal
// those made from another, whatever the namespaces and names: each is
// the Secret's own name with a suffix, and a Secret's name has no "/".
// A prefix form (upstream-ca/<ns>/<name>) met the client CA of a Secret
// in a namespace called upstream-ca.
func TestSecretNamesNeverMeet(t *testing.T) {
	parts := []string{"a", "ca", "upstream-ca", "upstream-cert", "b"}
	seen := map[string]string{}
	for _, ns := range parts {
		for _, name := range parts {
			for kind, n := range map[string]string{
				"cert": SecretName(ns, name), "client CA": CASecretName(ns, name),
				"backend CA": UpstreamCASecretName(ns, name), "backend cert": UpstreamCertSecretName(ns, name),
			} {
				who := kind + " of " + ns + "/" + name
				if prev, dup := seen[n]; dup {
					t.Errorf("%q names both the %s and the %s", n, prev, who)
				}
				seen[n] = who
			}
		}
	}
}

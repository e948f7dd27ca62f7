package translator

import (
	"net/netip"
	"testing"
	"time"
)

// The outcome tests of the layer-4 evaluator (evaluator_l4_test.go), each
// on a golden case's input.

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func tcpTo(dest, peer string) connection { return connection{dest: ap(dest), peer: ap(peer)} }

// TestL4SourceRanges: a client outside spec.loadBalancerSourceRanges is
// refused (no filter chain matches, so nothing is dialled); one inside,
// IPv4 or IPv6, reaches an endpoint; the Service without ranges is open.
// The fleet listens dual-stack, where Envoy reads an IPv4 client as IPv4
// (not v4-mapped), so the IPv4 ranges match it.
func TestL4SourceRanges(t *testing.T) {
	f := l4FromGolden(t, "lb-source-ranges", func(o *Options) { o.ListenAddress = "::" })
	for client, want := range map[string]string{
		"203.0.113.5:40000":      "no filter chain matches the source",
		"10.200.3.4:40000":       "",
		"192.0.2.7:40000":        "",
		"192.0.2.8:40000":        "no filter chain matches the source", // beside a /32
		"[2001:db8:ff::1]:40000": "",
		"[2001:db9::1]:40000":    "no filter chain matches the source",
	} {
		dest := "192.0.2.100:5432"
		if ap(client).Addr().Is6() {
			dest = "[2001:db8::100]:5432"
		}
		out := f.connect(tcpTo(dest, client))
		if out.bound != ap("[::]:5432") && out.refused == "" {
			t.Errorf("client %s: bound %s, want [::]:5432", client, out.bound)
		}
		if out.refused != want {
			t.Errorf("client %s: refused %q, want %q", client, out.refused, want)
		}
		if want == "" && (out.cluster != "default/db/5432" || !out.endpoint.IsValid()) {
			t.Errorf("client %s: %+v, want an endpoint of default/db/5432", client, out)
		}
	}
	if out := f.connect(tcpTo("192.0.2.100:6379", "203.0.113.5:40000")); out.refused != "" || out.cluster != "default/open/6379" {
		t.Errorf("the Service without ranges: %+v, want it open", out)
	}
}

// TestL4SourceRangesUDP: a datagram from outside the ranges is dropped
// by the udp_proxy matcher; one from inside reaches the cluster.
func TestL4SourceRangesUDP(t *testing.T) {
	f := l4FromGolden(t, "lb-source-ranges-udp", nil)
	dns := func(peer string) l4Outcome {
		return f.connect(connection{udp: true, dest: ap("192.0.2.100:53"), peer: ap(peer)})
	}
	if out := dns("192.0.2.1:5353"); out.refused != "no route: datagram dropped" {
		t.Errorf("outside source: %+v, want dropped", out)
	}
	for _, peer := range []string{"10.1.2.3:5353", "[fd00::7]:5353"} {
		if out := dns(peer); out.refused != "" || out.cluster != "default/dns/53/udp" || !out.endpoint.IsValid() {
			t.Errorf("source %s: %+v, want an endpoint of default/dns/53/udp", peer, out)
		}
	}
}

// TestL4SourceRangesInvalid: a malformed range opens nothing, so every
// client is refused; the good Service still serves.
func TestL4SourceRangesInvalid(t *testing.T) {
	f := l4FromGolden(t, "lb-source-ranges-invalid", nil)
	for _, port := range []string{"5432", "6379", "7000"} {
		if out := f.connect(tcpTo("192.0.2.100:"+port, "10.0.0.1:40000")); out.refused != "no listener" {
			t.Errorf("port %s: %+v, want no listener", port, out)
		}
	}
	if out := f.connect(tcpTo("192.0.2.100:8000", "10.0.0.1:40000")); out.refused != "" {
		t.Errorf("the good Service: %+v", out)
	}
}

// TestL4SessionAffinity: with sessionAffinity ClientIP one client goes to
// one endpoint on every connection (TCP and UDP), and clients spread over
// the endpoints; a round-robin cluster moves one client on.
func TestL4SessionAffinity(t *testing.T) {
	f := l4FromGolden(t, "lb-session-affinity", nil)
	for _, udp := range []bool{false, true} {
		seen := map[netip.AddrPort]bool{}
		for i := range 50 {
			client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 40000)
			var first netip.AddrPort
			for j := range 10 {
				out := f.connect(connection{udp: udp, dest: ap("192.0.2.100:7777"), peer: netip.AddrPortFrom(client.Addr(), uint16(40000+j))})
				if out.refused != "" {
					t.Fatalf("udp %v: %+v", udp, out)
				}
				if j == 0 {
					first = out.endpoint
				} else if out.endpoint != first {
					t.Fatalf("udp %v: client %s went to %s, then %s", udp, client.Addr(), first, out.endpoint)
				}
			}
			seen[first] = true
		}
		if len(seen) < 2 {
			t.Errorf("udp %v: 50 clients all went to %v; the hash does not spread", udp, seen)
		}
	}
	rr := l4FromGolden(t, "lb-source-ranges", nil)
	a := rr.connect(tcpTo("192.0.2.100:6379", "198.51.100.1:40000"))
	b := rr.connect(tcpTo("192.0.2.100:6379", "198.51.100.1:40001"))
	if a.endpoint == b.endpoint {
		t.Errorf("round robin: one client's two connections both went to %s", a.endpoint)
	}
}

// TestL4ProxyProtocolUpstream: fairway.dev/proxy-protocol sends a header
// of its version whose source is the client; with the fleet's own
// --proxy-protocol it is the original client from the balancer's header,
// which the source ranges match too; a connection without one is closed.
func TestL4ProxyProtocolUpstream(t *testing.T) {
	for name, version := range map[string]int{"lb-proxy-protocol-v1": 1, "lb-proxy-protocol-v2": 2} {
		f := l4FromGolden(t, name, nil)
		port := map[int]string{1: "25", 2: "5432"}[version]
		out := f.connect(tcpTo("192.0.2.100:"+port, "203.0.113.9:40000"))
		want := proxyHeader{version: version, source: ap("203.0.113.9:40000"), dst: ap("192.0.2.100:" + port)}
		if out.sent == nil || *out.sent != want {
			t.Errorf("%s: sent %+v, want %+v", name, out.sent, want)
		}
	}
	if out := l4FromGolden(t, "lb-proxy-protocol-invalid", nil).connect(tcpTo("192.0.2.100:5432", "203.0.113.9:40000")); out.sent != nil || out.refused != "" {
		t.Errorf("invalid version: %+v, want no header sent", out)
	}
	f := l4FromGolden(t, "lb-proxy-protocol-fleet", nil)
	lb := ap("10.9.9.9:50000")
	in := &proxyHeader{version: 2, source: ap("198.51.100.7:41000"), dst: ap("192.0.2.100:5432")}
	out := f.connect(connection{dest: ap("10.0.0.5:5432"), peer: lb, proxy: in})
	if out.refused != "" || out.sent == nil || out.sent.source != in.source || out.sent.dst != in.dst || out.sent.version != 2 {
		t.Errorf("behind the fleet's PROXY: %+v (sent %+v), want the original client %s", out, out.sent, in.source)
	}
	outside := &proxyHeader{version: 1, source: ap("203.0.113.1:41000"), dst: ap("192.0.2.100:5432")}
	if out := f.connect(connection{dest: ap("10.0.0.5:5432"), peer: ap("198.51.100.8:50000"), proxy: outside}); out.refused != "no filter chain matches the source" {
		t.Errorf("client outside the ranges, balancer inside: %+v, want refused by the client's address", out)
	}
	if out := f.connect(connection{dest: ap("10.0.0.5:5432"), peer: ap("198.51.100.7:41000")}); out.refused != "no PROXY header" {
		t.Errorf("no header: %+v, want closed", out)
	}
}

// TestL4BoundAddress: a listener is bound to the fleet's listen address
// at the Service port; a connection to another address or port finds no
// listener.
func TestL4BoundAddress(t *testing.T) {
	f := l4FromGolden(t, "lb-source-ranges", func(o *Options) { o.ListenAddress = "192.0.2.1" })
	if out := f.connect(tcpTo("192.0.2.1:6379", "203.0.113.5:40000")); out.bound != ap("192.0.2.1:6379") || out.listener != "tcp-6379" {
		t.Errorf("bound %s listener %s, want 192.0.2.1:6379 tcp-6379", out.bound, out.listener)
	}
	for _, dest := range []string{"192.0.2.2:6379", "192.0.2.1:6380"} {
		if out := f.connect(tcpTo(dest, "203.0.113.5:40000")); out.refused != "no listener" {
			t.Errorf("%s: %+v, want no listener", dest, out)
		}
	}
	dual := l4FromGolden(t, "lb-source-ranges", func(o *Options) { o.ListenAddress = "::" })
	if out := dual.connect(tcpTo("192.0.2.1:6379", "203.0.113.5:40000")); out.bound != ap("[::]:6379") || out.refused != "" {
		t.Errorf("dual stack, IPv4 client: %+v, want the [::]:6379 listener", out)
	}
}

// TestL4HealthChecks: a TCP-checked endpoint that fails leaves the set;
// when most fail, Envoy panics and uses all. A node whose kube-proxy says
// no leaves the externalTrafficPolicy Local set, and the cluster never
// panics into it.
func TestL4HealthChecks(t *testing.T) {
	f := l4FromGolden(t, "lb-health-check-tcp", nil)
	f.unhealthy[ap("10.1.0.1:5432")] = true
	for range 4 {
		if out := f.connect(tcpTo("192.0.2.100:5432", "203.0.113.5:40000")); out.endpoint != ap("10.1.0.2:5432") {
			t.Fatalf("one failing endpoint: went to %s", out.endpoint)
		}
	}
	f.unhealthy[ap("10.1.0.2:5432")] = true
	if out := f.connect(tcpTo("192.0.2.100:5432", "203.0.113.5:40000")); out.refused != "" {
		t.Errorf("every endpoint failing: %+v, want panic mode to send anyway", out)
	}
	local := l4FromGolden(t, "lb-etp-local-nodes", nil)
	if out := local.connect(tcpTo("192.0.2.100:8001", "203.0.113.5:40000")); out.endpoint != ap("192.168.0.1:30801") {
		t.Fatalf("Local: %+v, want the node that hosts the pod", out)
	}
	local.unhealthy[ap("192.168.0.1:30801")] = true
	if out := local.connect(tcpTo("192.0.2.100:8001", "203.0.113.5:40000")); out.refused != "no healthy upstream" {
		t.Errorf("kube-proxy says no: %+v, want no upstream", out)
	}
	// A port without a nodePort goes to the pod, with no node to ask.
	if out := local.connect(tcpTo("192.0.2.100:8005", "203.0.113.5:40000")); out.endpoint != ap("10.1.0.2:8005") {
		t.Errorf("Local, port without nodePort: %+v, want the pod", out)
	}
	// With the PROXY protocol too, connections carry the header.
	if out := local.connect(tcpTo("192.0.2.100:8003", "203.0.113.5:40000")); out.endpoint != ap("192.168.0.2:30804") || out.sent == nil || out.sent.version != 1 {
		t.Errorf("Local with PROXY v1: %+v (sent %+v)", out, out.sent)
	}
	// The Cluster-policy Service has no check: a failing node stays.
	local.unhealthy[ap("192.168.0.2:30803")] = true
	if out := local.connect(tcpTo("192.0.2.100:8002", "203.0.113.5:40000")); out.refused != "" {
		t.Errorf("Cluster policy: %+v, want served", out)
	}
}

// TestL4IdleTimeout: fairway.dev/tcp-idle-timeout is the connection's
// idle timeout; without it, an hour.
func TestL4IdleTimeout(t *testing.T) {
	f := l4FromGolden(t, "lb-tcp-idle-timeout", nil)
	if out := f.connect(tcpTo("192.0.2.100:22", "203.0.113.5:40000")); out.idleTimeout != 10*time.Minute {
		t.Errorf("idle timeout %v, want 10m", out.idleTimeout)
	}
	if out := l4FromGolden(t, "lb-tcp-idle-timeout-invalid", nil).connect(tcpTo("192.0.2.100:22", "203.0.113.5:40000")); out.idleTimeout != time.Hour {
		t.Errorf("invalid: idle timeout %v, want the 1h default", out.idleTimeout)
	}
}

// TestL4MaxConnections: fairway.dev/max-connections is the port's
// connection breaker; a malformed value leaves the edge's 100,000.
func TestL4MaxConnections(t *testing.T) {
	if out := l4FromGolden(t, "lb-max-connections", nil).connect(tcpTo("192.0.2.100:5432", "203.0.113.5:40000")); out.maxConnections != 200 {
		t.Errorf("max connections %d, want 200", out.maxConnections)
	}
	if out := l4FromGolden(t, "lb-max-connections-invalid", nil).connect(tcpTo("192.0.2.100:5432", "203.0.113.5:40000")); out.maxConnections != 100_000 {
		t.Errorf("invalid: max connections %d, want 100000", out.maxConnections)
	}
}

// TestL4AllocateNodePortsFalse: in nodes mode, a Service without node
// ports is reached at its pods, even on a port that kept a nodePort; a
// Service with node ports through the node. An unsupported annotation
// changes nothing of that.
func TestL4AllocateNodePortsFalse(t *testing.T) {
	f := l4FromGolden(t, "lb-allocate-node-ports-false", nil)
	for dest, want := range map[string]string{
		"192.0.2.100:8001": "10.1.0.2:8001",
		"192.0.2.100:8002": "10.1.0.2:8002",
		"192.0.2.100:8003": "192.168.0.1:30803",
	} {
		if out := f.connect(tcpTo(dest, "203.0.113.5:40000")); out.endpoint != ap(want) {
			t.Errorf("%s: %+v, want %s", dest, out, want)
		}
	}
	if out := l4FromGolden(t, "lb-annotation-unsupported", nil).connect(tcpTo("192.0.2.100:5432", "203.0.113.5:40000")); out.refused != "" || out.sent != nil {
		t.Errorf("unsupported annotation: %+v, want served as plain", out)
	}
}

// TestL4PoolAddresses: with an address pool, each Service is reached at
// its own address and nowhere else: two Services on :443 each get their
// connections, an address of the pool nobody holds has no listener, and
// the Service's :80 on its own address wins over the Ingress http
// listener's wildcard on the same port (the most specific bind). Each
// binds with freebind, so an Envoy binds before the address is routed to
// its node.
func TestL4PoolAddresses(t *testing.T) {
	f := l4FromGolden(t, "pool-two-services-443", nil)
	for _, c := range []struct{ dest, listener, cluster string }{
		{"192.0.2.1:443", "tcp-192.0.2.1-443", "default/a/443"},
		{"192.0.2.2:443", "tcp-192.0.2.2-443", "default/b/443"},
		{"192.0.2.1:80", "tcp-192.0.2.1-80", "default/a/80"},
	} {
		out := f.connect(tcpTo(c.dest, "203.0.113.5:40000"))
		if out.listener != c.listener || out.bound != ap(c.dest) || out.cluster != c.cluster || !out.freebind {
			t.Errorf("%s: listener %s bound %s cluster %s freebind %v, want %s bound %s cluster %s with freebind", c.dest, out.listener, out.bound, out.cluster, out.freebind, c.listener, c.dest, c.cluster)
		}
	}
	if out := f.connect(tcpTo("192.0.2.3:443", "203.0.113.5:40000")); out.refused != "no listener" {
		t.Errorf("192.0.2.3:443, an address nobody holds: %+v, want no listener", out)
	}
	if l := f.listener(tcpTo("192.0.2.2:80", "203.0.113.5:40000")); l.GetName() != "http" {
		t.Errorf("192.0.2.2:80, b has no :80: listener %s, want the Ingress http listener's wildcard", l.GetName())
	}
}

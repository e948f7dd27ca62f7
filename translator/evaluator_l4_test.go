package translator

import (
	"hash/fnv"
	"net/netip"
	"slices"
	"testing"
	"time"

	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	proxyprotocolv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/proxy_protocol/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// connection is what the layer-4 evaluator follows: one TCP connection,
// or the first datagram of a UDP session, as it reaches a fleet Envoy.
type connection struct {
	udp bool
	// dest is the address and port the client dialled.
	dest netip.AddrPort
	// peer is the connection's source: the client, or the load balancer
	// in front of the fleet when that sends a PROXY header.
	peer netip.AddrPort
	// proxy is the PROXY header the connection starts with, if any.
	proxy *proxyHeader
}

// proxyHeader is a PROXY protocol header: its version and the addresses
// it carries.
type proxyHeader struct {
	version     int
	source, dst netip.AddrPort
}

// l4Outcome is what Envoy does with a connection.
type l4Outcome struct {
	// refused says why the connection (datagram) went nowhere; "" when
	// it reached an endpoint.
	refused  string
	listener string
	bound    netip.AddrPort // the listener's own address and port
	// freebind: the listener binds its address even while the node does
	// not hold it.
	freebind bool
	cluster  string
	endpoint netip.AddrPort
	// sent is the PROXY header written to the endpoint, if any.
	sent        *proxyHeader
	idleTimeout time.Duration // TCP only
	// maxConnections is the cluster's connection breaker: past it, Envoy
	// refuses new connections to the port (each Envoy counts its own).
	maxConnections uint32
}

// l4Fleet follows connections through one Result the way a fleet Envoy
// does: the listener by address, port and protocol, the listener
// filters, the filter chain by source, the proxy filter, the cluster's
// load balancing over its endpoints and its transport socket. It keeps
// the round robin's position per cluster across connections. A setting
// it does not know fails the test, so it cannot pass over what it does
// not check.
type l4Fleet struct {
	t   *testing.T
	res Result
	// unhealthy are endpoints whose active health check fails; they
	// count only in clusters that have a health check.
	unhealthy map[netip.AddrPort]bool
	next      map[string]int // round robin position per cluster
}

func newL4Fleet(t *testing.T, res Result) *l4Fleet {
	return &l4Fleet{t: t, res: res, unhealthy: map[netip.AddrPort]bool{}, next: map[string]int{}}
}

// l4FromGolden translates a golden case's input with its options, changed
// by opts when given.
func l4FromGolden(t *testing.T, name string, opts func(*Options)) *l4Fleet {
	t.Helper()
	g := readGoldenInput(t, "testdata/"+name+"/input.yaml")
	if opts != nil {
		opts(&g.Options)
	}
	return newL4Fleet(t, g.translate(g.Input))
}

// onlyFields fails the test when m sets a field not in known.
func onlyFields(t *testing.T, what string, m proto.Message, known ...string) {
	t.Helper()
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if !slices.Contains(known, string(fd.Name())) {
			t.Fatalf("%s sets %s, which this evaluator does not follow", what, fd.Name())
		}
		return true
	})
}

func (f *l4Fleet) connect(c connection) l4Outcome {
	f.t.Helper()
	l := f.listener(c)
	if l == nil {
		return l4Outcome{refused: "no listener"}
	}
	sa := l.GetAddress().GetSocketAddress()
	out := l4Outcome{listener: l.GetName(), bound: netip.AddrPortFrom(netip.MustParseAddr(sa.GetAddress()), uint16(sa.GetPortValue())), freebind: l.GetFreebind().GetValue()}
	onlyFields(f.t, "listener "+l.GetName(), l, "name", "address", "freebind", "per_connection_buffer_limit_bytes", "listener_filters", "filter_chains", "udp_listener_config")
	if c.udp {
		return f.udpSession(l, c, out)
	}
	return f.tcpConnection(l, c, out)
}

// listener is the one bound to the connection's destination: the same
// port and protocol, and its address, else the wildcard of the address's
// family ("::" with ipv4_compat takes IPv4 too). The kernel looks a
// destination up by its exact address before the wildcard, so a
// Service's own address (bound with freebind) wins over the Ingress
// listeners' wildcard on the same port.
func (f *l4Fleet) listener(c connection) *listenerv3.Listener {
	var wildcard *listenerv3.Listener
	for _, l := range f.res.Listeners {
		sa := l.GetAddress().GetSocketAddress()
		if sa == nil {
			continue
		}
		onlyFields(f.t, "listener "+l.GetName()+" address", sa, "address", "port_value", "protocol", "ipv4_compat")
		if (sa.GetProtocol() == corev3.SocketAddress_UDP) != c.udp || sa.GetPortValue() != uint32(c.dest.Port()) {
			continue
		}
		a := netip.MustParseAddr(sa.GetAddress())
		switch {
		case a == c.dest.Addr():
			return l
		case wildcard == nil && a.IsUnspecified() && (a.Is4() == c.dest.Addr().Is4() || (a.Is6() && sa.GetIpv4Compat())):
			wildcard = l
		}
	}
	return wildcard
}

func (f *l4Fleet) tcpConnection(l *listenerv3.Listener, c connection, out l4Outcome) l4Outcome {
	f.t.Helper()
	client := c.peer
	for _, lf := range l.GetListenerFilters() {
		if lf.GetName() != proxyProtocolFilterName {
			f.t.Fatalf("listener %s: listener filter %s, which this evaluator does not follow", l.GetName(), lf.GetName())
		}
		if c.proxy == nil {
			out.refused = "no PROXY header"
			return out
		}
		// The filter restores the client as the downstream address.
		client = c.proxy.source
	}
	chain := f.filterChain(l, client.Addr())
	if chain == nil {
		out.refused = "no filter chain matches the source"
		return out
	}
	onlyFields(f.t, "filter chain of "+l.GetName(), chain, "filter_chain_match", "filters")
	if len(chain.GetFilters()) != 1 || chain.GetFilters()[0].GetName() != "envoy.filters.network.tcp_proxy" {
		f.t.Fatalf("listener %s: filters %v, this evaluator follows one tcp_proxy", l.GetName(), chain.GetFilters())
	}
	tp := unpack(f.t, chain.GetFilters()[0].GetTypedConfig(), &tcpproxyv3.TcpProxy{})
	onlyFields(f.t, "tcp_proxy of "+l.GetName(), tp, "stat_prefix", "cluster", "idle_timeout", "access_log", "max_connect_attempts", "hash_policy")
	hashSource := false
	for _, h := range tp.GetHashPolicy() {
		if h.GetSourceIp() == nil {
			f.t.Fatalf("listener %s: hash policy %v, this evaluator follows source_ip", l.GetName(), h)
		}
		hashSource = true
	}
	out.cluster, out.idleTimeout = tp.GetCluster(), tp.GetIdleTimeout().AsDuration()
	local := c.dest
	if c.proxy != nil && len(l.GetListenerFilters()) > 0 {
		local = c.proxy.dst
	}
	return f.upstream(out, client, local, hashSource, false)
}

// filterChain is the chain Envoy picks by source address: the most
// specific source_prefix_ranges entry that holds it, else a chain without
// source ranges, else none.
func (f *l4Fleet) filterChain(l *listenerv3.Listener, src netip.Addr) *listenerv3.FilterChain {
	var best *listenerv3.FilterChain
	bestBits := -2
	for _, fc := range l.GetFilterChains() {
		m := fc.GetFilterChainMatch()
		if m != nil {
			onlyFields(f.t, "filter chain match of "+l.GetName(), m, "source_prefix_ranges")
		}
		if len(m.GetSourcePrefixRanges()) == 0 && bestBits < -1 {
			best, bestBits = fc, -1
		}
		for _, r := range m.GetSourcePrefixRanges() {
			if p := cidrOf(f.t, r.GetAddressPrefix(), r.GetPrefixLen().GetValue()); p.Contains(src) && p.Bits() > bestBits {
				best, bestBits = fc, p.Bits()
			}
		}
	}
	return best
}

func cidrOf(t *testing.T, addr string, bits uint32) netip.Prefix {
	t.Helper()
	p := netip.PrefixFrom(netip.MustParseAddr(addr), int(bits))
	if !p.IsValid() {
		t.Fatalf("CIDR %s/%d is not valid", addr, bits)
	}
	return p
}

func (f *l4Fleet) udpSession(l *listenerv3.Listener, c connection, out l4Outcome) l4Outcome {
	f.t.Helper()
	if len(l.GetListenerFilters()) != 1 || l.GetListenerFilters()[0].GetName() != "envoy.filters.udp_listener.udp_proxy" {
		f.t.Fatalf("listener %s: listener filters %v, this evaluator follows one udp_proxy", l.GetName(), l.GetListenerFilters())
	}
	up := unpack(f.t, l.GetListenerFilters()[0].GetTypedConfig(), &udpproxyv3.UdpProxyConfig{})
	onlyFields(f.t, "udp_proxy of "+l.GetName(), up, "stat_prefix", "idle_timeout", "upstream_socket_config", "access_log", "matcher", "hash_policies")
	hashSource := false
	for _, h := range up.GetHashPolicies() {
		if !h.GetSourceIp() {
			f.t.Fatalf("listener %s: hash policy %v, this evaluator follows source_ip", l.GetName(), h)
		}
		hashSource = true
	}
	action := f.udpMatch(up.GetMatcher(), c.peer.Addr())
	if action == nil {
		out.refused = "no route: datagram dropped"
		return out
	}
	if action.GetAction().GetName() != "envoy.extensions.filters.udp.udp_proxy.v3.Route" {
		f.t.Fatalf("listener %s: udp action %s, this evaluator follows Route", l.GetName(), action.GetAction().GetName())
	}
	out.cluster = unpack(f.t, action.GetAction().GetTypedConfig(), &udpproxyv3.Route{}).GetCluster()
	return f.upstream(out, c.peer, c.dest, hashSource, true)
}

// udpMatch is the udp_proxy matcher for a datagram from src: a tree on
// the source IP with an IP range matcher (longest prefix wins), then
// on_no_match; nil when nothing matches.
func (f *l4Fleet) udpMatch(m *xdsmatcherv3.Matcher, src netip.Addr) *xdsmatcherv3.Matcher_OnMatch {
	f.t.Helper()
	onlyFields(f.t, "udp matcher", m, "matcher_tree", "on_no_match")
	if tree := m.GetMatcherTree(); tree != nil {
		onlyFields(f.t, "udp matcher tree", tree, "input", "custom_match")
		if tree.GetInput().GetName() != "envoy.matching.inputs.source_ip" || tree.GetCustomMatch() == nil {
			f.t.Fatalf("udp matcher tree %v: this evaluator follows a source_ip IP matcher", tree)
		}
		ipm := unpack(f.t, tree.GetCustomMatch().GetTypedConfig(), &xdsmatcherv3.IPMatcher{})
		var best *xdsmatcherv3.Matcher_OnMatch
		bestBits := -1
		for _, rm := range ipm.GetRangeMatchers() {
			onlyFields(f.t, "ip range matcher", rm, "ranges", "on_match")
			for _, r := range rm.GetRanges() {
				if p := cidrOf(f.t, r.GetAddressPrefix(), r.GetPrefixLen().GetValue()); p.Contains(src) && p.Bits() > bestBits {
					best, bestBits = rm.GetOnMatch(), p.Bits()
				}
			}
		}
		if best != nil {
			return best
		}
	}
	return m.GetOnNoMatch()
}

// upstream picks the endpoint of out.cluster for the client and writes
// the PROXY header the cluster's transport socket sends.
func (f *l4Fleet) upstream(out l4Outcome, client, local netip.AddrPort, hashSource, udp bool) l4Outcome {
	f.t.Helper()
	cl := f.cluster(out.cluster)
	// Outlier detection ejects endpoints that refuse connections; in
	// this model every endpoint accepts, so it never ejects one.
	onlyFields(f.t, "cluster "+out.cluster, cl, "name", "type", "eds_cluster_config", "connect_timeout", "lb_policy",
		"circuit_breakers", "per_connection_buffer_limit_bytes", "transport_socket", "health_checks", "common_lb_config", "outlier_detection", "transport_socket_matches")
	if len(cl.GetTransportSocketMatches()) > 0 {
		f.plainForHealthChecksOnly(cl)
	}
	out.maxConnections = f.maxConnections(cl)
	hosts := f.eligible(cl)
	if len(hosts) == 0 {
		out.refused = "no healthy upstream"
		return out
	}
	switch cl.GetLbPolicy() {
	case clusterv3.Cluster_ROUND_ROBIN:
		out.endpoint = hosts[f.next[out.cluster]%len(hosts)]
		f.next[out.cluster]++
	case clusterv3.Cluster_MAGLEV:
		if !hashSource {
			f.t.Fatalf("cluster %s hashes, but its listener gives no hash key", out.cluster)
		}
		h := fnv.New32a()
		h.Write(client.Addr().AsSlice())
		out.endpoint = hosts[h.Sum32()%uint32(len(hosts))]
	default:
		f.t.Fatalf("cluster %s: lb_policy %v, which this evaluator does not follow", out.cluster, cl.GetLbPolicy())
	}
	if ts := cl.GetTransportSocket(); ts != nil {
		if udp {
			f.t.Fatalf("cluster %s: a transport socket on a UDP cluster, which udp_proxy does not use", out.cluster)
		}
		out.sent = f.upstreamProxy(ts, client, local)
	}
	return out
}

// eligible are the cluster's endpoints a connection may go to: all of
// them without a health check; with one, those that pass, unless fewer
// than the panic threshold (50% unless set) pass, when Envoy uses all.
func (f *l4Fleet) eligible(cl *clusterv3.Cluster) []netip.AddrPort {
	f.t.Helper()
	var all, healthy []netip.AddrPort
	for _, cla := range f.res.Endpoints {
		if cla.GetClusterName() != cl.GetName() {
			continue
		}
		for _, loc := range cla.GetEndpoints() {
			for _, lb := range loc.GetLbEndpoints() {
				sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
				ep := netip.AddrPortFrom(netip.MustParseAddr(sa.GetAddress()), uint16(sa.GetPortValue()))
				all = append(all, ep)
				if !f.unhealthy[ep] {
					healthy = append(healthy, ep)
				}
			}
		}
	}
	if len(cl.GetHealthChecks()) == 0 {
		return all
	}
	threshold := 50.0
	if c := cl.GetCommonLbConfig(); c != nil {
		onlyFields(f.t, "common_lb_config of "+cl.GetName(), c, "healthy_panic_threshold", "ignore_new_hosts_until_first_hc")
		if p := c.GetHealthyPanicThreshold(); p != nil {
			threshold = p.GetValue()
		}
	}
	if len(all) > 0 && float64(len(healthy))*100/float64(len(all)) < threshold {
		return all // panic: Envoy sends to every host
	}
	return healthy
}

// maxConnections is the connection breaker of the default priority, the
// one fairway's traffic runs at.
func (f *l4Fleet) maxConnections(cl *clusterv3.Cluster) uint32 {
	f.t.Helper()
	onlyFields(f.t, "circuit breakers of "+cl.GetName(), cl.GetCircuitBreakers(), "thresholds")
	for _, th := range cl.GetCircuitBreakers().GetThresholds() {
		onlyFields(f.t, "breaker of "+cl.GetName(), th, "priority", "max_connections", "max_pending_requests", "max_requests", "max_retries")
		if th.GetPriority() == corev3.RoutingPriority_DEFAULT && th.GetMaxConnections() != nil {
			return th.GetMaxConnections().GetValue()
		}
	}
	return 1024 // Envoy's default
}

// plainForHealthChecksOnly holds that a cluster's socket matches serve
// its health checks alone: no endpoint carries match metadata, so every
// connection keeps the cluster's own socket.
func (f *l4Fleet) plainForHealthChecksOnly(cl *clusterv3.Cluster) {
	f.t.Helper()
	for _, cla := range f.res.Endpoints {
		for _, loc := range cla.GetEndpoints() {
			for _, lb := range loc.GetLbEndpoints() {
				if cla.GetClusterName() == cl.GetName() && lb.GetMetadata() != nil {
					f.t.Fatalf("cluster %s: endpoint metadata %v picks a socket, which this evaluator does not follow", cl.GetName(), lb.GetMetadata())
				}
			}
		}
	}
}

func (f *l4Fleet) cluster(name string) *clusterv3.Cluster {
	f.t.Helper()
	for _, c := range f.res.Clusters {
		if c.GetName() == name {
			return c
		}
	}
	f.t.Fatalf("listener names cluster %s, which the Result lacks", name)
	return nil
}

// upstreamProxy is the header of the upstream PROXY protocol socket: the
// downstream connection's remote address (the client, restored by the
// listener's proxy_protocol filter when there is one) as source, its
// local address as destination, over a plain socket.
func (f *l4Fleet) upstreamProxy(ts *corev3.TransportSocket, client, local netip.AddrPort) *proxyHeader {
	f.t.Helper()
	if ts.GetName() != "envoy.transport_sockets.upstream_proxy_protocol" {
		f.t.Fatalf("transport socket %s, which this evaluator does not follow", ts.GetName())
	}
	pp := unpack(f.t, ts.GetTypedConfig(), &proxyprotocolv3.ProxyProtocolUpstreamTransport{})
	onlyFields(f.t, "upstream PROXY socket", pp, "config", "transport_socket")
	onlyFields(f.t, "upstream PROXY config", pp.GetConfig(), "version")
	if pp.GetTransportSocket().GetName() != "envoy.transport_sockets.raw_buffer" {
		f.t.Fatalf("PROXY socket wraps %s, this evaluator follows raw_buffer", pp.GetTransportSocket().GetName())
	}
	v := 1
	if pp.GetConfig().GetVersion() == corev3.ProxyProtocolConfig_V2 {
		v = 2
	}
	return &proxyHeader{version: v, source: client, dst: local}
}

const proxyProtocolFilterName = "envoy.filters.listener.proxy_protocol"

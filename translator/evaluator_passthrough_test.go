package translator

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/fairwayhq/fairway/envoy"
)

// helloOutcome is what the https listener does with a TLS client hello:
// the chain it picks, and then either terminates the TLS (with a
// certificate, routing by the chain's table) or passes the connection
// unopened to a cluster; closed when no chain takes it.
type helloOutcome struct {
	closed      bool
	chain       string
	passthrough string // the tcp_proxy's cluster
	terminated  string // the SDS secret of the certificate
	routeConfig string // the terminated chain's route table
}

// hello follows Envoy's filter chain match for a client hello with sni
// from client on the https listener: the server name first (exact, then
// the longest "*." suffix, then chains without server names), and only
// among the chains of that name the source address (the most specific
// range that holds it, else a chain without ranges); Envoy never goes
// back to a less specific name. A chain setting it does not know fails
// the test.
func hello(t *testing.T, res Result, sni string, client netip.Addr) helloOutcome {
	t.Helper()
	var https *listenerv3.Listener
	for _, l := range res.Listeners {
		if l.GetName() == envoy.HTTPSListenerName {
			https = l
		}
	}
	if https == nil {
		return helloOutcome{closed: true}
	}
	if !slices.ContainsFunc(https.GetListenerFilters(), func(f *listenerv3.ListenerFilter) bool { return f.GetName() == "envoy.filters.listener.tls_inspector" }) {
		t.Fatalf("the https listener has no tls_inspector: no chain's server_names could match")
	}
	fc := bySource(t, byServerName(t, https.GetFilterChains(), strings.ToLower(sni)), client)
	if fc == nil {
		return helloOutcome{closed: true}
	}
	onlyFields(t, "chain "+fc.GetName(), fc, "name", "filter_chain_match", "filters", "transport_socket")
	if len(fc.GetFilters()) != 1 {
		t.Fatalf("chain %s: %d network filters, want one", fc.GetName(), len(fc.GetFilters()))
	}
	out := helloOutcome{chain: fc.GetName()}
	if ts := fc.GetTransportSocket(); ts != nil {
		var ctx tlsv3.DownstreamTlsContext
		if err := ts.GetTypedConfig().UnmarshalTo(&ctx); err != nil {
			t.Fatalf("chain %s: %v", fc.GetName(), err)
		}
		out.terminated = ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()[0].GetName()
		if fc.GetFilters()[0].GetTypedConfig().MessageIs(&tcpproxyv3.TcpProxy{}) { // a TLS Terminate listener's: the plain bytes go on
			out.passthrough = tcpProxyCluster(t, fc)
			return out
		}
		var hcm hcmv3.HttpConnectionManager
		if err := fc.GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
			t.Fatalf("terminated chain %s: %v", fc.GetName(), err)
		}
		out.routeConfig = hcm.GetRds().GetRouteConfigName()
		return out
	}
	out.passthrough = tcpProxyCluster(t, fc)
	return out
}

// tcpProxyCluster is the cluster a chain's tcp_proxy sends to.
func tcpProxyCluster(t *testing.T, fc *listenerv3.FilterChain) string {
	t.Helper()
	var proxy tcpproxyv3.TcpProxy
	if err := fc.GetFilters()[0].GetTypedConfig().UnmarshalTo(&proxy); err != nil {
		t.Fatalf("chain %s: not a tcp_proxy: %v", fc.GetName(), err)
	}
	onlyFields(t, "tcp_proxy of chain "+fc.GetName(), &proxy, "stat_prefix", "cluster", "idle_timeout", "access_log", "max_connect_attempts")
	return proxy.GetCluster()
}

// byServerName are the chains of the most specific server name that
// matches sni.
func byServerName(t *testing.T, chains []*listenerv3.FilterChain, sni string) []*listenerv3.FilterChain {
	t.Helper()
	best, bestLen := "", -1 // "" stands for the chains without server names
	for _, fc := range chains {
		onlyFields(t, "filter chain match of "+fc.GetName(), fc.GetFilterChainMatch(), "server_names", "source_prefix_ranges")
		for _, n := range fc.GetFilterChainMatch().GetServerNames() {
			switch {
			case n == sni:
				best, bestLen = n, len(sni)+1
			case strings.HasPrefix(n, "*.") && strings.HasSuffix(sni, n[1:]) && len(n) > bestLen:
				best, bestLen = n, len(n)
			}
		}
	}
	var out []*listenerv3.FilterChain
	for _, fc := range chains {
		names := fc.GetFilterChainMatch().GetServerNames()
		if (best == "" && len(names) == 0) || (best != "" && slices.Contains(names, best)) {
			out = append(out, fc)
		}
	}
	return out
}

// bySource is the chain whose source ranges hold client most
// specifically, else one without ranges, else nil.
func bySource(t *testing.T, chains []*listenerv3.FilterChain, client netip.Addr) *listenerv3.FilterChain {
	var best *listenerv3.FilterChain
	bestBits := -2
	for _, fc := range chains {
		ranges := fc.GetFilterChainMatch().GetSourcePrefixRanges()
		if len(ranges) == 0 && bestBits < -1 {
			best, bestBits = fc, -1
		}
		for _, r := range ranges {
			if p := cidrOf(t, r.GetAddressPrefix(), r.GetPrefixLen().GetValue()); p.Contains(client) && p.Bits() > bestBits {
				best, bestBits = fc, p.Bits()
			}
		}
	}
	return best
}

// isPassthroughChain: the chain hands its connections on unopened, so it
// has no route table to follow.
func isPassthroughChain(fc *listenerv3.FilterChain) bool { return fc.GetTransportSocket() == nil }

func passedTo(cluster string) helloOutcome { return helloOutcome{passthrough: cluster} }

func terminatedBy(secret, table string) helloOutcome {
	return helloOutcome{terminated: secret, routeConfig: table}
}

var closedHello = helloOutcome{closed: true}

// TestPassthroughOutcomes follows client hellos through the goldens'
// https listeners: a passthrough host's SNI reaches its backend's cluster
// unopened, a terminated host's its certificate and table, a client
// outside a passthrough Ingress's source ranges and a name no chain takes
// are closed; and a passthrough host has no route on plain HTTP.
func TestPassthroughOutcomes(t *testing.T) {
	any4, any6 := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("2001:db8::1")
	cases := []struct {
		golden, sni, client string
		want                helloOutcome
	}{
		{"annotation-ssl-passthrough", "db.example.com", "", passedTo("default/db/5432")},
		{"annotation-ssl-passthrough", "DB.example.com", "", passedTo("default/db/5432")},
		{"annotation-ssl-passthrough", "web.example.com", "", terminatedBy("default/web-tls", "https/web.example.com")},
		{"annotation-ssl-passthrough", "x.db.example.com", "", terminatedBy("default/web-tls", "https/*.example.com")},
		{"annotation-ssl-passthrough", "x.example.com", "", terminatedBy("default/web-tls", "https/*.example.com")},
		{"annotation-ssl-passthrough", "other.example.org", "", terminatedBy("default/web-tls", "https")},
		{"ssl-passthrough-only", "other.example.org", "", closedHello},
		{"annotation-ssl-passthrough-invalid", "db.example.com", "", closedHello},
		{"ssl-passthrough-conflict-terminated", "db.example.com", "", passedTo("default/db/5432")},
		{"ssl-passthrough-conflict-terminated", "web.example.com", "", terminatedBy("default/web-tls", "https/web.example.com")},
		{"ssl-passthrough-conflict-terminated-older", "db.example.com", "", terminatedBy("default/web-tls", "https/db.example.com")},
		{"ssl-passthrough-conflict-terminated-older", "mq.example.com", "", terminatedBy("default/web-tls", "https/mq.example.com")},
		{"ssl-passthrough-two", "db.example.com", "", passedTo("a/db/5432")},
		{"ssl-passthrough-two", "mq.example.com", "", passedTo("b/db/5432")},
		{"ssl-passthrough-no-host", "db.example.com", "", passedTo("default/db/5432")},
		{"ssl-passthrough-no-host", "x.example.com", "", closedHello},
		{"ssl-passthrough-no-host", "none.example.com", "", closedHello},
		{"ssl-passthrough-source-range", "db.example.com", "10.0.0.1", passedTo("default/db/5432")},
		{"ssl-passthrough-source-range", "db.example.com", "10.255.255.255", passedTo("default/db/5432")},
		{"ssl-passthrough-source-range", "db.example.com", "10.1.2.3", closedHello},
		{"ssl-passthrough-source-range", "db.example.com", "192.168.1.7", passedTo("default/db/5432")},
		{"ssl-passthrough-source-range", "db.example.com", "192.168.1.8", closedHello},
		{"ssl-passthrough-source-range", "db.example.com", "2001:db8::1", closedHello},
		{"ssl-passthrough-source-range", "deny.example.com", "203.0.113.77", closedHello},
		{"ssl-passthrough-source-range", "deny.example.com", "203.0.112.255", passedTo("default/db/5432")},
		{"ssl-passthrough-source-range", "deny.example.com", "", passedTo("default/db/5432")},
		{"ssl-passthrough-source-range", "deny.example.com", "2001:db8::1", passedTo("default/db/5432")},
		{"ssl-passthrough-source-range", "nobody.example.com", "10.0.0.1", closedHello},
		{"ssl-passthrough-only", "db.example.com", "", passedTo("default/db/5432")},
		{"ssl-passthrough-only", "web.example.com", "", closedHello},
		{"ssl-passthrough-other-annotations", "db.example.com", "", passedTo("default/db/5432")},
		{"ssl-passthrough-other-annotations", "guarded.example.com", "", closedHello},
	}
	goldens := goldenResults{}
	for _, c := range cases {
		res := goldens.get(t, c.golden)
		clients := []netip.Addr{any4, any6}
		if c.client != "" {
			clients = []netip.Addr{netip.MustParseAddr(c.client)}
		}
		for _, client := range clients {
			got := hello(t, res, c.sni, client)
			got.chain = ""
			if got != c.want {
				t.Errorf("%s: SNI %s from %s: got %+v, want %+v", c.golden, c.sni, client, got, c.want)
			}
		}
	}
	// On plain HTTP a passthrough host has no virtual host: it gets what
	// a name no rule has gets (Envoy's 404, or a wildcard's routes that
	// cover it), never its passthrough backend.
	for golden, want := range map[string]string{"annotation-ssl-passthrough": "default/web/80", "ssl-passthrough-only": "404", "ssl-passthrough-conflict-terminated": "404"} {
		if got := pick(t, routeConfig(goldens.get(t, golden), envoy.HTTPRouteConfig), "db.example.com", "/"); got != want {
			t.Errorf("%s: http://db.example.com/ = %s, want %s", golden, got, want)
		}
	}
	// A terminated connection reused for the passed-through host (its
	// certificate may cover it) gets 421: the client retries on a
	// connection of its own, whose SNI reaches the backend.
	for _, table := range []string{"https/*.example.com", envoy.HTTPSRouteConfig, "https/web.example.com"} {
		rc := routeConfig(goldens.get(t, "annotation-ssl-passthrough"), table)
		if got := evaluate(t, rc, request{scheme: "https", authority: "db.example.com", path: "/"}); got.status != envoy.MisdirectedStatus {
			t.Errorf("%s: Host db.example.com: got %+v, want 421", table, got)
		}
	}
	if got := pick(t, routeConfig(goldens.get(t, "ssl-passthrough-conflict-terminated-older"), envoy.HTTPRouteConfig), "db.example.com", "/"); got != "default/web/80" {
		t.Errorf("the terminated host that won: http://db.example.com/ = %s, want default/web/80", got)
	}
}

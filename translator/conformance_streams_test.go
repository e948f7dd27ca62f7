package translator

import (
	"maps"
	"strconv"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
)

// checkStream follows a connection to a TLS, TCP or UDP listener of a
// Gateway to the cluster it lands on.
func checkStream(t *testing.T, res Result, c *conformanceCase, s confStream) {
	t.Helper()
	gateway := orZero(s.gateway, c.gateways[0])
	what := gateway + " port " + strconv.Itoa(s.port)
	if s.sni != "" {
		what += " sni " + s.sni
	}
	l, _ := gatewayListener(t, res, gateway, s.port, s.udp)
	clusters, terminated := map[string]uint32(nil), false
	switch {
	case l == nil:
	case s.udp:
		clusters = udpClusters(t, l)
	default:
		if fc := gatewayChain(t, l, s.port, s.sni, s.sni != ""); fc != nil {
			clusters = tcpClusters(t, fc)
			terminated = fc.GetTransportSocket() != nil
		}
	}
	live := map[string]uint32{}
	for cl, w := range clusters {
		if shares := splitShares(t, res, cl); shares != nil {
			maps.Copy(live, shares)
		} else if hasCluster(res, cl) && w > 0 {
			live[cl] = w
		}
	}
	switch {
	case s.refused:
		if len(live) > 0 {
			t.Errorf("%s: reaches %v, want it refused", what, live)
		}
	case len(live) == 0:
		t.Errorf("%s: refused (clusters %v), want %s%v", what, clusters, s.backend, s.weights)
	case s.weights != nil:
		checkWeights(t, what, s.weights, live, "")
	case len(live) != 1 || serviceOf(firstKey(live)) != s.backend:
		t.Errorf("%s: reaches %v, want Service %s", what, live, s.backend)
	case terminated != s.terminated:
		t.Errorf("%s: TLS terminated %v, want %v", what, terminated, s.terminated)
	}
}

func firstKey(m map[string]uint32) string {
	for k := range m {
		return k
	}
	return ""
}

// tcpClusters are the clusters a chain's tcp_proxy sends to, by weight.
func tcpClusters(t *testing.T, fc *listenerv3.FilterChain) map[string]uint32 {
	t.Helper()
	for _, f := range fc.GetFilters() {
		if f.GetName() != wellknown.TCPProxy {
			continue
		}
		tp := unpack(t, f.GetTypedConfig(), &tcpproxyv3.TcpProxy{})
		if tp.GetCluster() != "" {
			return map[string]uint32{tp.GetCluster(): 1}
		}
		out := map[string]uint32{}
		for _, w := range tp.GetWeightedClusters().GetClusters() {
			out[w.GetName()] += w.GetWeight()
		}
		return out
	}
	t.Fatalf("chain %s: no tcp_proxy", fc.GetName())
	return nil
}

// udpClusters are the clusters a UDP listener's udp_proxy sends to: its
// cluster, or the matcher's on_no_match route (source-address matchers
// are for LB Services, not Gateways).
func udpClusters(t *testing.T, l *listenerv3.Listener) map[string]uint32 {
	t.Helper()
	for _, f := range l.GetListenerFilters() {
		if f.GetName() != "envoy.filters.udp_listener.udp_proxy" {
			continue
		}
		up := unpack(t, f.GetTypedConfig(), &udpproxyv3.UdpProxyConfig{})
		if up.GetCluster() != "" {
			return map[string]uint32{up.GetCluster(): 1}
		}
		action := up.GetMatcher().GetOnNoMatch().GetAction()
		if up.GetMatcher().GetMatcherTree() != nil || action == nil {
			t.Fatalf("listener %s: a udp_proxy matcher this harness does not follow: %v", l.GetName(), up.GetMatcher())
		}
		return map[string]uint32{unpack(t, action.GetTypedConfig(), &udpproxyv3.Route{}).GetCluster(): 1}
	}
	t.Fatalf("listener %s: no udp_proxy", l.GetName())
	return nil
}

// splitShares are a split cluster's backends (its localities, named by
// their plain clusters) by weight, as Envoy's locality-weighted balancing
// reads them; nil when cluster is not a split in res. A locality without
// endpoints takes no share.
func splitShares(t *testing.T, res Result, cluster string) map[string]uint32 {
	t.Helper()
	var split bool
	for _, c := range res.Clusters {
		split = split || (c.GetName() == cluster && c.GetCommonLbConfig().GetLocalityWeightedLbConfig() != nil)
	}
	if !split {
		return nil
	}
	out := map[string]uint32{}
	for _, cla := range res.Endpoints {
		if cla.GetClusterName() != cluster {
			continue
		}
		for _, l := range cla.GetEndpoints() {
			if len(l.GetLbEndpoints()) > 0 && l.GetLoadBalancingWeight().GetValue() > 0 {
				out[l.GetLocality().GetSubZone()] += l.GetLoadBalancingWeight().GetValue()
			}
		}
	}
	return out
}

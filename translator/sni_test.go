package translator

import (
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/fairwayhq/fairway/envoy"
)

// sniChain is the https listener's filter chain that Envoy picks for a
// client's SNI, by server_names: the exact name, else the longest
// "*.<suffix>" of it, else the chain without server names; nil when none
// takes it (the handshake fails).
func sniChain(res Result, sni string) *listenerv3.FilterChain {
	var https *listenerv3.Listener
	for _, l := range res.Listeners {
		if l.GetName() == envoy.HTTPSListenerName {
			https = l
		}
	}
	var best, fallback *listenerv3.FilterChain
	bestLen := -1
	for _, fc := range https.GetFilterChains() {
		names := fc.GetFilterChainMatch().GetServerNames()
		if len(names) == 0 {
			fallback = fc
		}
		for _, n := range names {
			switch {
			case n == strings.ToLower(sni):
				return fc
			case strings.HasPrefix(n, "*.") && strings.HasSuffix(strings.ToLower(sni), n[1:]) && len(n) > bestLen:
				best, bestLen = fc, len(n)
			}
		}
	}
	if best != nil {
		return best
	}
	return fallback
}

// sniTable is the route configuration of the chain a client's SNI picks,
// as its connection manager names it over RDS; nil when no chain takes the
// SNI.
func sniTable(t *testing.T, res Result, sni string) *routev3.RouteConfiguration {
	t.Helper()
	fc := sniChain(res, sni)
	if fc == nil {
		return nil
	}
	var hcm hcmv3.HttpConnectionManager
	if err := fc.GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatalf("chain %s: %v", fc.GetName(), err)
	}
	name := hcm.GetRds().GetRouteConfigName()
	rc := routeConfig(res, name)
	if rc == nil {
		t.Fatalf("chain %s names route configuration %q, which is not there", fc.GetName(), name)
	}
	return rc
}

// tableFor is the route configuration a request to authority meets on a
// listener: the http table, or on https the table of the chain that the
// authority's name, sent as SNI, picks.
func tableFor(t *testing.T, res Result, listener, authority string) *routev3.RouteConfiguration {
	t.Helper()
	if listener == envoy.HTTPSListenerName {
		return sniTable(t, res, stripPort(authority))
	}
	return routeConfig(res, envoy.HTTPRouteConfig)
}

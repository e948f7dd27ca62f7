package envoy

import (
	"net/netip"
	"slices"
	"testing"

	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	filterchainv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/filter_chain/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
)

// TestEdgeHTTPFilters: the fleet's filters in their order, the router
// last, and each of the others configured to do nothing by itself.
func TestEdgeHTTPFilters(t *testing.T) {
	hcm := &hcmv3.HttpConnectionManager{}
	if err := HTTPConnectionManager("http", "http", LogFormat{}, ClientAddress{}).GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range hcm.GetHttpFilters() {
		names = append(names, f.GetName())
		var empty proto.Message
		switch f.GetName() {
		case rbacFilter:
			empty = &rbacv3.RBAC{}
		case corsFilter:
			empty = &corsv3.Cors{}
		case filterChainFilter:
			empty = &filterchainv3.FilterChainConfig{}
		default:
			continue
		}
		got := empty.ProtoReflect().New().Interface()
		if err := f.GetTypedConfig().UnmarshalTo(got); err != nil || !proto.Equal(got, empty) {
			t.Errorf("%s: config %v, want an empty one (a no-op without per-route config)", f.GetName(), got)
		}
		if f.GetDisabled() || f.GetIsOptional() {
			t.Errorf("%s: disabled or optional", f.GetName())
		}
	}
	want := []string{rbacFilter, corsFilter, filterChainFilter, edgeRouterFilter}
	if !slices.Equal(names, want) {
		t.Errorf("filters %v, want %v", names, want)
	}
	inline := inlineHCM("x", nil)
	if len(inline.GetHttpFilters()) != 1 || inline.GetHttpFilters()[0].GetName() != routerFilter {
		t.Errorf("the proxyless connection manager's filters: %v, want the router only", inline.GetHttpFilters())
	}
}

func TestSourceRangeRBAC(t *testing.T) {
	deny := SourceRangeRBAC(SourceAccess{Deny: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	p := deny.GetRbac().GetRules().GetPolicies()[SourceRangePolicy].GetPrincipals()
	if len(p) != 1 || p[0].GetNotId().GetRemoteIp().GetAddressPrefix() != "10.0.0.0" || p[0].GetNotId().GetRemoteIp().GetPrefixLen().GetValue() != 8 {
		t.Errorf("deny only: %v, want not_id of the range", p)
	}
	if deny.GetRbac().GetRules().GetAction() != rbacconfigv3.RBAC_ALLOW {
		t.Errorf("action %v", deny.GetRbac().GetRules().GetAction())
	}
	allow := SourceRangeRBAC(SourceAccess{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}})
	ids := allow.GetRbac().GetRules().GetPolicies()[SourceRangePolicy].GetPrincipals()[0].GetOrIds().GetIds()
	if len(ids) != 2 || ids[1].GetRemoteIp().GetAddressPrefix() != "2001:db8::" {
		t.Errorf("allow: %v", ids)
	}
	if err := allow.ValidateAll(); err != nil {
		t.Errorf("RBACPerRoute does not validate: %v", err)
	}
}

// TestProxylessAccessFailsClosed: on a proxyless route a source range is
// a 403, and nothing Envoy-only is set.
func TestProxylessAccessFailsClosed(t *testing.T) {
	one := uint32(1)
	p := &RoutePolicy{
		Access:      &SourceAccess{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		CORS:        &CORSPolicy{Origins: []string{"*"}},
		IdleTimeout: 5e9, Retries: &one, MaxRequestBytes: 10,
	}
	r := ClusterRoute("r", PrefixMatch("/"), "c")
	p.apply(r, false)
	if r.GetDirectResponse().GetStatus() != 403 || len(r.GetTypedPerFilterConfig()) != 0 {
		t.Errorf("proxyless: %v", r)
	}
	edge := EdgeRoute(ClusterRoute("r", PrefixMatch("/"), "c"))
	p.apply(edge, true)
	if len(edge.GetTypedPerFilterConfig()) != 3 || edge.GetRoute().GetIdleTimeout().GetSeconds() != 5 ||
		edge.GetRoute().GetRetryPolicy().GetNumRetries().GetValue() != 1 {
		t.Errorf("edge: %v", edge)
	}
	if err := edge.ValidateAll(); err != nil {
		t.Errorf("edge route does not validate: %v", err)
	}
}

// TestPerFilterConfigKeysNameEdgeFilters: Envoy finds a route's per-filter
// config by the filter's name in the connection manager, so every key a
// route with every policy sets must name a filter of the edge list, with
// a config of that filter's kind; otherwise the route's source ranges,
// CORS or body limit would silently not apply.
func TestPerFilterConfigKeysNameEdgeFilters(t *testing.T) {
	hcm := &hcmv3.HttpConnectionManager{}
	if err := HTTPConnectionManager("https", "https/a.example.com", LogFormat{}, ClientAddress{}).GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	perRouteType := map[string]string{}
	for _, f := range hcm.GetHttpFilters() {
		switch f.GetTypedConfig().GetTypeUrl() {
		case "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC":
			perRouteType[f.GetName()] = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute"
		case "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors":
			perRouteType[f.GetName()] = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy"
		case "type.googleapis.com/envoy.extensions.filters.http.filter_chain.v3.FilterChainConfig":
			perRouteType[f.GetName()] = "type.googleapis.com/envoy.extensions.filters.http.filter_chain.v3.FilterChainConfigPerRoute"
		}
	}
	p := &RoutePolicy{
		Access:          &SourceAccess{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		CORS:            &CORSPolicy{Origins: []string{"https://a.example.com"}},
		MaxRequestBytes: 1 << 20,
	}
	r := &routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{}}}
	p.apply(r, true)
	if len(r.GetTypedPerFilterConfig()) != 3 {
		t.Fatalf("per-filter configs %v, want source ranges, CORS and the body limit", r.GetTypedPerFilterConfig())
	}
	for key, cfg := range r.GetTypedPerFilterConfig() {
		want, ok := perRouteType[key]
		if !ok {
			t.Errorf("per-filter config %q names no filter of the edge list %v", key, hcm.GetHttpFilters())
		} else if cfg.GetTypeUrl() != want {
			t.Errorf("per-filter config %q is a %s, want %s", key, cfg.GetTypeUrl(), want)
		}
	}
}

package envoy

import (
	"net/netip"
	"slices"
	"testing"

	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
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
	want := []string{rbacFilter, corsFilter, filterChainFilter, routerFilter}
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

package translator

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	bodysizev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/body_size_limit/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	filterchainv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/filter_chain/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// perFilterEffect follows one HTTP filter's per-route config.
type perFilterEffect struct {
	filter string
	effect func(t *testing.T, cfg *anypb.Any, req request, out *outcome)
}

// perFilterEffects follow a route's typed_per_filter_config, in the order
// of the fleet's filter chain (envoy/httpfilters.go). A per-filter config
// of a filter not named here fails the test: a concern that adds one adds
// its effect here.
var perFilterEffects = []perFilterEffect{
	{"rbac", rbacEffect},
	{"cors", corsEffect},
	{"filter_chain", filterChainEffect},
}

func init() { routeEffects = append(routeEffects, followPerFilterConfig) }

// followPerFilterConfig runs the filters a route configures, in chain
// order, until one answers the request itself.
func followPerFilterConfig(t *testing.T, _ *routev3.VirtualHost, r *routev3.Route, req request, out *outcome) {
	t.Helper()
	cfgs := r.GetTypedPerFilterConfig()
	for name := range cfgs {
		if !slices.ContainsFunc(perFilterEffects, func(e perFilterEffect) bool { return e.filter == name }) {
			t.Fatalf("route %s: per-filter config of %s, which this evaluator does not follow", r.GetName(), name)
		}
	}
	for _, e := range perFilterEffects {
		if out.status != 0 {
			return
		}
		if cfg, ok := cfgs[e.filter]; ok {
			e.effect(t, cfg, req, out)
		}
	}
}

func unpack[M proto.Message](t *testing.T, a *anypb.Any, m M) M {
	t.Helper()
	if err := a.UnmarshalTo(m); err != nil {
		t.Fatalf("per-filter config %s: %v", a.GetTypeUrl(), err)
	}
	return m
}

// rbacEffect is Envoy's RBAC filter over the principals fairway emits:
// with an ALLOW policy, a request that no policy matches gets 403.
func rbacEffect(t *testing.T, cfg *anypb.Any, req request, out *outcome) {
	t.Helper()
	per := unpack(t, cfg, &rbacv3.RBACPerRoute{})
	rules := per.GetRbac().GetRules()
	if rules == nil || rules.GetAction() != rbacconfigv3.RBAC_ALLOW || per.GetRbac().GetMatcher() != nil || per.GetRbac().GetShadowRules() != nil {
		t.Fatalf("an RBAC config this evaluator does not know: %v", per)
	}
	if !req.client.IsValid() {
		t.Fatalf("a route with source ranges needs the request's client address")
	}
	for _, p := range rules.GetPolicies() {
		for _, perm := range p.GetPermissions() {
			if !perm.GetAny() {
				t.Fatalf("an RBAC permission this evaluator does not know: %v", perm)
			}
		}
		for _, pr := range p.GetPrincipals() {
			if principalMatches(t, pr, req.client) {
				return
			}
		}
	}
	out.status, out.cluster = 403, ""
}

func principalMatches(t *testing.T, p *rbacconfigv3.Principal, client netip.Addr) bool {
	t.Helper()
	switch id := p.GetIdentifier().(type) {
	case *rbacconfigv3.Principal_Any:
		return id.Any
	case *rbacconfigv3.Principal_RemoteIp:
		prefix, err := netip.ParsePrefix(id.RemoteIp.GetAddressPrefix() + "/" + strconv.Itoa(int(id.RemoteIp.GetPrefixLen().GetValue())))
		if err != nil || id.RemoteIp.GetPrefixLen() == nil {
			t.Fatalf("a remote_ip Envoy would refuse: %v", id.RemoteIp)
		}
		return prefix.Contains(client.Unmap())
	case *rbacconfigv3.Principal_OrIds:
		return slices.ContainsFunc(id.OrIds.GetIds(), func(q *rbacconfigv3.Principal) bool { return principalMatches(t, q, client) })
	case *rbacconfigv3.Principal_AndIds:
		for _, q := range id.AndIds.GetIds() {
			if !principalMatches(t, q, client) {
				return false
			}
		}
		return true
	case *rbacconfigv3.Principal_NotId:
		return !principalMatches(t, id.NotId, client)
	default:
		t.Fatalf("an RBAC principal this evaluator does not know (direct_remote_ip would be the wrong address): %v", p)
		return false
	}
}

// corsEffect is Envoy's CORS filter (cors_filter.cc) for one policy: a
// preflight (OPTIONS with Origin and Access-Control-Request-Method) is
// answered 200 by Envoy, an allowed origin's simple request gets the
// Access-Control-Allow-Origin, -Credentials and -Expose-Headers response
// headers.
func corsEffect(t *testing.T, cfg *anypb.Any, req request, out *outcome) {
	t.Helper()
	p := unpack(t, cfg, &corsv3.CorsPolicy{})
	if p.GetFilterEnabled() != nil || p.GetShadowEnabled() != nil || p.GetAllowPrivateNetworkAccess() != nil {
		t.Fatalf("a CORS setting this evaluator does not know: %v", p)
	}
	origin := header(req, "Origin")
	if origin == "" {
		return
	}
	allowed := slices.ContainsFunc(p.GetAllowOriginStringMatch(), func(m *matcherv3.StringMatcher) bool {
		return stringMatches(t, m, "*") || stringMatches(t, m, origin)
	})
	preflight := req.method == "OPTIONS" && header(req, "Access-Control-Request-Method") != ""
	if !preflight {
		if allowed {
			setResponseHeader(out, "Access-Control-Allow-Origin", origin)
			if p.GetAllowCredentials().GetValue() {
				setResponseHeader(out, "Access-Control-Allow-Credentials", "true")
			}
			if p.GetExposeHeaders() != "" {
				setResponseHeader(out, "Access-Control-Expose-Headers", p.GetExposeHeaders())
			}
		}
		return
	}
	if !allowed && (p.GetForwardNotMatchingPreflights() == nil || p.GetForwardNotMatchingPreflights().GetValue()) {
		return
	}
	out.status, out.cluster = 200, ""
	if allowed {
		setResponseHeader(out, "Access-Control-Allow-Origin", origin)
	}
	if p.GetAllowCredentials().GetValue() {
		setResponseHeader(out, "Access-Control-Allow-Credentials", "true")
	}
	for name, v := range map[string]string{
		"Access-Control-Allow-Methods": p.GetAllowMethods(), "Access-Control-Allow-Headers": p.GetAllowHeaders(), "Access-Control-Max-Age": p.GetMaxAge(),
	} {
		if v == "*" && name != "Access-Control-Max-Age" {
			v = header(req, strings.Replace(name, "Allow", "Request", 1))
		}
		if v != "" {
			setResponseHeader(out, name, v)
		}
	}
}

// chainFilterEffects follow the filters of a route's own filter chain
// (envoy/routechain.go) by name; a filter not named here fails the test.
// Each concern that puts a filter there adds its effect, in its own file.
var chainFilterEffects = map[string]func(t *testing.T, cfg *anypb.Any, req request, out *outcome){
	"envoy.filters.http.body_size_limit": bodyLimitEffect,
	"envoy.filters.http.ext_authz":       extAuthEffect,
	"envoy.filters.http.header_mutation": headerMutationEffect,
}

// filterChainEffect runs a route's own filter chain in order, until one
// filter answers the request itself.
func filterChainEffect(t *testing.T, cfg *anypb.Any, req request, out *outcome) {
	t.Helper()
	per := unpack(t, cfg, &filterchainv3.FilterChainConfigPerRoute{})
	for _, f := range per.GetFilterChain().GetFilters() {
		effect, ok := chainFilterEffects[f.GetName()]
		if !ok {
			t.Fatalf("a filter in a route's chain this evaluator does not know: %v", f)
		}
		effect(t, f.GetTypedConfig(), req, out)
		if out.status != 0 {
			return
		}
	}
}

// bodyLimitEffect is 413 for a body over the route's limit.
func bodyLimitEffect(t *testing.T, cfg *anypb.Any, req request, out *outcome) {
	t.Helper()
	limit := unpack(t, cfg, &bodysizev3.BodySizeLimit{})
	if max := limit.GetMaxRequestBytes().GetValue(); max > 0 && uint64(req.bodySize) > max {
		out.status, out.cluster = 413, ""
	}
}

func stringMatches(t *testing.T, m *matcherv3.StringMatcher, v string) bool {
	t.Helper()
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		if m.GetIgnoreCase() {
			return strings.EqualFold(p.Exact, v)
		}
		return p.Exact == v
	case *matcherv3.StringMatcher_SafeRegex:
		return fullMatch(p.SafeRegex.GetRegex(), v)
	case *matcherv3.StringMatcher_Prefix:
		return strings.HasPrefix(foldIf(m.GetIgnoreCase(), v), foldIf(m.GetIgnoreCase(), p.Prefix))
	case *matcherv3.StringMatcher_Suffix:
		return strings.HasSuffix(foldIf(m.GetIgnoreCase(), v), foldIf(m.GetIgnoreCase(), p.Suffix))
	case *matcherv3.StringMatcher_Contains:
		return strings.Contains(foldIf(m.GetIgnoreCase(), v), foldIf(m.GetIgnoreCase(), p.Contains))
	default:
		t.Fatalf("a string matcher this evaluator does not know: %v", m)
		return false
	}
}

// foldIf lowers s for an ignore_case string matcher.
func foldIf(ignoreCase bool, s string) string {
	if ignoreCase {
		return strings.ToLower(s)
	}
	return s
}

// header is a request header, case-insensitively.
func header(req request, name string) string {
	for k, v := range req.headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func setResponseHeader(out *outcome, name, value string) {
	if out.responseHeaders == nil {
		out.responseHeaders = map[string]string{}
	}
	out.responseHeaders[name] = value
}

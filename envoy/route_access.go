package envoy

import (
	"net/netip"

	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// SourceAccess admits a client when its address is in Allow (or Allow is
// empty) and not in Deny: deny wins, as in ingress-nginx.
type SourceAccess struct {
	Allow, Deny []netip.Prefix
}

// CORSPolicy is the CORS filter's per-route policy in plain fields.
type CORSPolicy struct {
	// Origins match an Origin exactly (case-insensitively); "*" admits
	// every origin. OriginRegexes match the whole Origin.
	Origins, OriginRegexes []string
	// The header values Envoy sends: comma-separated lists, max age in
	// seconds.
	AllowMethods, AllowHeaders, ExposeHeaders, MaxAge string
	AllowCredentials                                  bool
}

// SourceRangePolicy is the RBAC policy's name, which shows in Envoy's
// stats and debug logs.
const SourceRangePolicy = "source-ranges"

// ForbiddenStatus is what a refused client gets.
const ForbiddenStatus = 403

// applyAccess sets a route's source ranges and CORS policy on the fleet
// (a proxyless route with source ranges is denied: applyProxylessGuards).
// CORS is for browsers, which do not speak proxyless gRPC: nothing of it
// goes to gRPC.
func applyAccess(p *RoutePolicy, r *routev3.Route, edge bool) {
	if !edge {
		return
	}
	if p.Access != nil {
		setPerFilterConfig(r, rbacFilter, SourceRangeRBAC(*p.Access))
	}
	if p.CORS != nil {
		setPerFilterConfig(r, corsFilter, p.CORS.proto())
	}
}

// SourceRangeRBAC admits by remote_ip: the client address Envoy trusts
// after X-Forwarded-For's trusted hops and the PROXY protocol, rather
// than direct_remote_ip, which is the load balancer's address when there
// is one in front. A denied request gets 403.
func SourceRangeRBAC(a SourceAccess) *rbacv3.RBACPerRoute {
	var ids []*rbacconfigv3.Principal
	if len(a.Allow) > 0 {
		ids = append(ids, anyRemoteIP(a.Allow))
	}
	if len(a.Deny) > 0 {
		ids = append(ids, &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_NotId{NotId: anyRemoteIP(a.Deny)}})
	}
	principal := &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_Any{Any: true}}
	switch len(ids) {
	case 1:
		principal = ids[0]
	case 2:
		principal = &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_AndIds{AndIds: &rbacconfigv3.Principal_Set{Ids: ids}}}
	}
	return &rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: &rbacconfigv3.RBAC{
		Action: rbacconfigv3.RBAC_ALLOW,
		Policies: map[string]*rbacconfigv3.Policy{SourceRangePolicy: {
			Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}},
			Principals:  []*rbacconfigv3.Principal{principal},
		}},
	}}}
}

// anyRemoteIP matches a client address in any of the prefixes.
func anyRemoteIP(ps []netip.Prefix) *rbacconfigv3.Principal {
	ids := make([]*rbacconfigv3.Principal, len(ps))
	for i, p := range ps {
		ids[i] = &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_RemoteIp{RemoteIp: cidrRange(p)}}
	}
	if len(ids) == 1 {
		return ids[0]
	}
	return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_OrIds{OrIds: &rbacconfigv3.Principal_Set{Ids: ids}}}
}

// proto is the policy as the CORS filter takes it. A preflight from an
// origin that is not allowed is answered by Envoy (200, without
// Access-Control-Allow-Origin) rather than forwarded, as ingress-nginx
// answers every preflight itself.
func (c *CORSPolicy) proto() *corsv3.CorsPolicy {
	var origins []*matcherv3.StringMatcher
	for _, o := range c.Origins {
		origins = append(origins, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: o}, IgnoreCase: true})
	}
	for _, re := range c.OriginRegexes {
		origins = append(origins, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}})
	}
	return &corsv3.CorsPolicy{
		AllowOriginStringMatch:       origins,
		AllowMethods:                 c.AllowMethods,
		AllowHeaders:                 c.AllowHeaders,
		ExposeHeaders:                c.ExposeHeaders,
		MaxAge:                       c.MaxAge,
		AllowCredentials:             wrapperspb.Bool(c.AllowCredentials),
		ForwardNotMatchingPreflights: wrapperspb.Bool(false),
	}
}

// applyProxylessGuards ends a proxyless route that a guard protects as a
// direct response: a gRPC client runs no HTTP filters, so it can check
// neither its own address against source ranges, nor a password, nor
// an auth service, and the route would forward unguarded. gRPC treats a
// direct response as an unsupported action and fails the call (fail
// closed). External auth and source ranges answer 403, a password 401;
// external auth wins, then the password, as the fleet's chain asks the
// auth service last.
func applyProxylessGuards(p *RoutePolicy, r *routev3.Route, edge bool) {
	if edge {
		return
	}
	var status uint32
	switch {
	case p.ExtAuth != nil:
		status = ForbiddenStatus
	case p.BasicAuth != nil:
		status = UnauthorizedStatus
	case p.Access != nil:
		status = ForbiddenStatus
	default:
		return
	}
	r.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: status}}
	r.TypedPerFilterConfig = nil
}

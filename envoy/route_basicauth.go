package envoy

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	basicauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"
	filterchainv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/filter_chain/v3"
	"google.golang.org/protobuf/proto"
)

// BasicAuth asks a client for a user and password (HTTP Basic) before the
// route forwards: a wrong or missing one gets 401 with
// `WWW-Authenticate: Basic realm="<Realm>"`. The Authorization header
// goes on to the backend as it came, as nginx passes it.
type BasicAuth struct {
	// Users are htpasswd lines, "user:{SHA}<base64 of SHA-1>": the only
	// hash format Envoy's basic_auth filter checks.
	Users string
	// Realm is sent verbatim inside the quotes; it has no '"', '\' or
	// control character.
	Realm string
}

// BasicAuthFilter is the basic_auth filter's name in a route's own chain,
// which is also the namespace of its stats.
const BasicAuthFilter = "envoy.filters.http.basic_auth"

// UnauthorizedStatus is what a client without the right password gets.
const UnauthorizedStatus = 401

// basicAuthFilters are a route's basic authentication: the basic_auth
// filter in the route's own chain, at the auth phase, with its users
// inline (they change with the Secret, and the route config is where
// they are needed). A route that redirects asks for no password
// (routeChainFilters).
func basicAuthFilters(p *RoutePolicy) []*corev3.TypedExtensionConfig {
	if p.BasicAuth == nil {
		return nil
	}
	return []*corev3.TypedExtensionConfig{{
		Name: BasicAuthFilter,
		TypedConfig: mustAny(&basicauthv3.BasicAuth{
			Users: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: p.BasicAuth.Users}},
			Realm: p.BasicAuth.Realm,
		}),
	}}
}

// RedactedUsers replaces basic-auth users wherever configuration is shown
// rather than sent (the debug endpoint, `fairway translate` without
// --show-secrets, the goldens): they are password hashes.
const RedactedUsers = "[redacted: basic-auth users]"

// RedactRouteConfig is rc with every route's basic-auth users replaced by
// RedactedUsers; rc itself when it has none, which is nearly always.
func RedactRouteConfig(rc *routev3.RouteConfiguration) *routev3.RouteConfiguration {
	var out *routev3.RouteConfiguration
	for vi, vh := range rc.GetVirtualHosts() {
		for ri, r := range vh.GetRoutes() {
			redacted, ok := redactRoute(r)
			if !ok {
				continue
			}
			if out == nil {
				out = proto.Clone(rc).(*routev3.RouteConfiguration)
			}
			out.VirtualHosts[vi].Routes[ri] = redacted
		}
	}
	if out == nil {
		return rc
	}
	return out
}

// redactRoute is a copy of r without its users, or false when it has no
// basic authentication.
func redactRoute(r *routev3.Route) (*routev3.Route, bool) {
	a := r.GetTypedPerFilterConfig()[filterChainFilter]
	if a == nil {
		return nil, false
	}
	var fc filterchainv3.FilterChainConfigPerRoute
	if a.UnmarshalTo(&fc) != nil {
		return nil, false
	}
	found := false
	for _, f := range fc.GetFilterChain().GetFilters() {
		var ba basicauthv3.BasicAuth
		if f.GetTypedConfig().UnmarshalTo(&ba) != nil {
			continue
		}
		ba.Users = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: RedactedUsers}}
		f.TypedConfig = mustAny(&ba)
		found = true
	}
	if !found {
		return nil, false
	}
	out := proto.Clone(r).(*routev3.Route)
	setPerFilterConfig(out, filterChainFilter, &fc)
	return out, true
}

package envoy

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// RouteConfiguration is a route table of the fleet's virtual hosts. The
// port in the Host header is ignored when picking a virtual host, so
// "foo.com:8080" finds "foo.com" without rewriting the header the backend
// sees. Every forwarded request gets X-Real-IP (clientaddress.go).
func RouteConfiguration(name string, vhosts []*routev3.VirtualHost) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{
		Name:                     name,
		VirtualHosts:             vhosts,
		IgnorePortInHostMatching: true,
		RequestHeadersToAdd:      realIPHeaders(),
	}
}

// VirtualHost serves the given domains with routes tried in order.
func VirtualHost(name string, domains []string, routes []*routev3.Route) *routev3.VirtualHost {
	return &routev3.VirtualHost{Name: name, Domains: domains, Routes: routes}
}

// ExactPathMatch matches the request path (without query) exactly and
// case-sensitively.
func ExactPathMatch(path string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: path}}
}

// PrefixMatch matches every path that starts with prefix, byte for byte.
func PrefixMatch(prefix string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}}
}

// WithAuthorityRegex narrows m to requests whose :authority matches the RE2
// expression, or, inverted, does not match it. Used where Envoy's domain
// matching is wider than the rule's.
func WithAuthorityRegex(m *routev3.RouteMatch, regex string, invert bool) *routev3.RouteMatch {
	m.Headers = append(m.Headers, &routev3.HeaderMatcher{
		Name: ":authority",
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: regex}},
		}},
		InvertMatch: invert,
	})
	return m
}

// ClusterRoute forwards matching requests to a cluster. The name shows in
// Envoy's config dump and access logs, so it names the route's origin.
func ClusterRoute(name string, match *routev3.RouteMatch, cluster string) *routev3.Route {
	return &routev3.Route{
		Name:  name,
		Match: match,
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster},
		}},
	}
}

// EdgeRoute gives a forwarding route the fleet's default: no timeout
// (RouteTimeout) instead of Envoy's 15 s. It returns r.
func EdgeRoute(r *routev3.Route) *routev3.Route {
	r.GetRoute().Timeout = durationpb.New(RouteTimeout)
	return r
}

// EdgeVirtualHost is a fleet virtual host: its routes retry a request that
// never reached a pod on another pod (edgeRetryPolicy). The policy sits on
// the virtual host, once, rather than on each of its routes, and a route's
// own policy would take precedence.
func EdgeVirtualHost(name string, domains []string, routes []*routev3.Route) *routev3.VirtualHost {
	vh := VirtualHost(name, domains, routes)
	vh.RetryPolicy = edgeRetryPolicy()
	return vh
}

// DirectResponseRoute answers matching requests itself with an empty body:
// used for a route whose backend cannot be resolved, so that the path fails
// visibly instead of falling through to a less specific route.
func DirectResponseRoute(name string, match *routev3.RouteMatch, status uint32) *routev3.Route {
	return &routev3.Route{
		Name:   name,
		Match:  match,
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: status}},
	}
}

package envoy

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// PathPolicy is what a route does to the request's path and host, or the
// redirect it answers with instead of forwarding.
//
// Rewrites are the fleet's only: a proxyless gRPC client dials the pod
// itself and grpc-go ignores them, so proxyless routes go without them
// rather than carry settings nobody honours. A redirect replaces the
// action in both tables: a gRPC client fails the call on it ("unsupported
// action"), which is the closed way to fail, where forwarding would send
// the call where the user said it must not go.
type PathPolicy struct {
	// RegexRewrite replaces the whole path (not the query) as matched by
	// Pattern with Substitution, which holds \1..\9 for capture groups.
	RegexRewrite *RegexRewrite
	// PrefixRewrite replaces the part of the path that the route's
	// segment prefix matched (the Gateway API's ReplacePrefixMatch); ""
	// leaves it, and "/" strips it (segmentRewrite).
	PrefixRewrite string
	// HostRewrite is the Host (:authority) the backend sees.
	HostRewrite string
	// XForwardedPrefix is sent to the backend as X-Forwarded-Prefix.
	XForwardedPrefix string
	// Redirect answers instead of forwarding.
	Redirect *Redirect
	// AppRoot, on a route that matches "/", answers a request for exactly
	// "/" with a 302 to this path, ahead of the route.
	AppRoot string
}

// RegexRewrite is a regex_rewrite: RE2 pattern and substitution.
type RegexRewrite struct{ Pattern, Substitution string }

// Redirect is a redirect action's parts; "" and 0 keep the request's.
type Redirect struct {
	Scheme, Host string
	Port         uint32
	// Path with Query replaces the request's path and query; with Path
	// "" both are kept.
	Path, Query string
	// KeepQuery keeps the request's query with a new Path, as the
	// Gateway API's redirects do; an Ingress's redirect names the whole
	// URL.
	KeepQuery bool
	// PathPrefix replaces the part of the path the route's segment
	// prefix matched instead (ReplacePrefixMatch); "" for none.
	PathPrefix string
	Code       int // 301, 302, 303, 307 or 308
}

func applyPathPolicy(p *RoutePolicy, r *routev3.Route, edge bool) {
	pp := &p.Paths
	if pp.Redirect != nil {
		a := RedirectAction(pp.Redirect)
		if pp.Redirect.PathPrefix != "" {
			a.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: segmentRewrite(r.Match, pp.Redirect.PathPrefix)}
		}
		r.Action = &routev3.Route_Redirect{Redirect: a}
		return
	}
	a := r.GetRoute()
	if !edge || a == nil {
		return
	}
	if pp.RegexRewrite != nil {
		a.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{
			Pattern:      &matcherv3.RegexMatcher{Regex: pp.RegexRewrite.Pattern},
			Substitution: pp.RegexRewrite.Substitution,
		}
	}
	if pp.PrefixRewrite != "" {
		a.PrefixRewrite = segmentRewrite(r.Match, pp.PrefixRewrite)
	}
	if pp.HostRewrite != "" {
		a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: pp.HostRewrite}
	}
	if pp.XForwardedPrefix != "" {
		r.RequestHeadersToAdd = append(r.RequestHeadersToAdd, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: "x-forwarded-prefix", Value: literalHeaderValue(pp.XForwardedPrefix)},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
}

// literalHeaderValue escapes a header value for request_headers_to_add,
// where Envoy reads "%...%" as a command operator (%DOWNSTREAM_REMOTE_ADDRESS%
// and the like): "%%" is a literal "%". A user's value must never be a
// formatter.
func literalHeaderValue(v string) string { return strings.ReplaceAll(v, "%", "%%") }

var redirectCodes = map[int]routev3.RedirectAction_RedirectResponseCode{
	301: routev3.RedirectAction_MOVED_PERMANENTLY,
	302: routev3.RedirectAction_FOUND,
	303: routev3.RedirectAction_SEE_OTHER,
	307: routev3.RedirectAction_TEMPORARY_REDIRECT,
	308: routev3.RedirectAction_PERMANENT_REDIRECT,
}

// RedirectAction answers with a redirect built from rd's parts. A path
// given without a query drops the request's query (strip_query), since
// the target names the whole URL; Envoy keeps neither query when
// path_redirect holds one.
func RedirectAction(rd *Redirect) *routev3.RedirectAction {
	a := &routev3.RedirectAction{ResponseCode: redirectCodes[rd.Code], HostRedirect: rd.Host, PortRedirect: rd.Port}
	if rd.Scheme != "" {
		a.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: rd.Scheme}
	}
	if rd.Path != "" {
		path := rd.Path
		if rd.Query != "" {
			path += "?" + rd.Query
		} else {
			a.StripQuery = !rd.KeepQuery
		}
		a.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: path}
	}
	return a
}

// segmentRewrite is the prefix_rewrite that replaces a segment prefix P
// with to, for each of the two Envoy routes of P (RouteSpec): the exact
// route's whole path P becomes to, and the prefix route's "P/" becomes
// "to/", so that the rest of the path keeps its leading slash. A
// trailing slash of to is dropped first, so that "/foo/bar" becomes
// "/xyz/bar" whether to is "/xyz" or "/xyz/", and "/" strips P: the
// Gateway API's table for ReplacePrefixMatch. The exact route's path
// never becomes empty.
func segmentRewrite(m *routev3.RouteMatch, to string) string {
	to = strings.TrimRight(to, "/")
	if _, exact := m.GetPathSpecifier().(*routev3.RouteMatch_Path); exact && to == "" {
		return "/"
	} else if exact {
		return to
	}
	return to + "/"
}

// appRootRoute is the route that sends "/" to the app root, for a route
// of the fleet whose policy has one; it takes the route's name and
// :authority guard.
func appRootRoute(r RouteSpec, edge bool) *routev3.Route {
	if !edge || r.Policy == nil || r.Policy.Paths.AppRoot == "" || r.Policy.Paths.Redirect != nil {
		return nil
	}
	m := ExactPathMatch("/")
	if r.AuthorityRegex != "" {
		WithAuthorityRegex(m, r.AuthorityRegex, r.InvertAuthority)
	}
	return &routev3.Route{Name: r.Name, Match: m, Action: &routev3.Route_Redirect{
		Redirect: RedirectAction(&Redirect{Path: r.Policy.Paths.AppRoot, Code: 302}),
	}}
}

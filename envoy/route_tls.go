package envoy

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// applyHTTPSRedirect replaces a fleet route's action with the redirect to
// https, 308 as ingress-nginx answers (a 308 keeps the method and body,
// where a 301 lets clients turn a POST into a GET). Envoy's https_redirect
// swaps the scheme and drops an explicit ":80"; a port other than 443 is
// set explicitly. A proxyless route never redirects: gRPC clients would
// fail the RPC, and they dial the API listener, which has no plain-HTTP
// side.
func applyHTTPSRedirect(p *RoutePolicy, r *routev3.Route, edge bool) {
	if !p.HTTPSRedirect || !edge {
		return
	}
	r.Action = &routev3.Route_Redirect{Redirect: HTTPSRedirectAction(p.HTTPSPort)}
}

// HTTPSRedirectAction is the redirect of a plain-HTTP request to the same
// host, path and query on https at port (443: no port in the URL).
func HTTPSRedirectAction(port uint32) *routev3.RedirectAction {
	a := &routev3.RedirectAction{
		SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
		ResponseCode:           routev3.RedirectAction_PERMANENT_REDIRECT,
	}
	if port != 0 && port != 443 {
		a.PortRedirect = port
	}
	return a
}

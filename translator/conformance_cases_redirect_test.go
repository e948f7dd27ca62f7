package translator

import "sigs.k8s.io/gateway-api/pkg/features"

// GATEWAY-HTTP: RequestRedirect. The suite's client does not follow the
// redirect; it reads the status and the Location's scheme, host, port and
// path, each defaulting to the request's own when the test leaves it out.

// redirectTo is a GET of path that Envoy answers with status and a
// Location of want.
func redirectTo(path string, status int, want confRedirect) confRequest {
	return confRequest{path: path, status: status, redirect: &want}
}

// oneRoute is a test with one route of that name on same-namespace,
// accepted with its refs resolved.
func oneRoute(short, name, route string, fs ...features.FeatureName) *conformanceCase {
	return port(short, name, fs...).on(sameNS).accepted(httpRouteK, sameNS, infra(route)).resolved(httpRouteK, sameNS, infra(route))
}

func init() {
	register(
		oneRoute("HTTPRoute303Redirect", "httproute-303-redirect", "303-redirect", plus(fHTTP, features.SupportHTTPRoute303RedirectStatusCode)...).
			get(confRequest{method: "POST", path: "/see-other", status: 303, redirect: &confRedirect{path: "/see-other"}}),
		oneRoute("HTTPRoute307Redirect", "httproute-307-redirect", "307-redirect", plus(fHTTP, features.SupportHTTPRoute307RedirectStatusCode)...).
			get(redirectTo("/temporary", 307, confRedirect{path: "/temporary"})),
		oneRoute("HTTPRoute308Redirect", "httproute-308-redirect", "308-redirect", plus(fHTTP, features.SupportHTTPRoute308RedirectStatusCode)...).
			get(redirectTo("/permanent", 308, confRedirect{path: "/permanent"})),
		oneRoute("HTTPRouteRedirectHostAndStatus", "httproute-redirect-host-and-status", "redirect-host-and-status", fHTTP...).
			get(redirectTo("/hostname-redirect", 302, confRedirect{host: "example.org"}),
				redirectTo("/host-and-status", 301, confRedirect{host: "example.org"})),
		oneRoute("HTTPRouteRedirectPath", "httproute-redirect-path", "redirect-path", plus(fHTTP, features.SupportHTTPRoutePathRedirect)...).
			get(redirectTo("/original-prefix/lemon", 302, confRedirect{path: "/replacement-prefix/lemon"}),
				redirectTo("/full/path/original", 302, confRedirect{path: "/full-path-replacement"}),
				redirectTo("/path-and-host", 302, confRedirect{host: "example.org", path: "/replacement-prefix"}),
				redirectTo("/path-and-status", 301, confRedirect{path: "/replacement-prefix"}),
				redirectTo("/full-path-and-host", 302, confRedirect{host: "example.org", path: "/replacement-full"}),
				redirectTo("/full-path-and-status", 301, confRedirect{path: "/replacement-full"})),
		oneRoute("HTTPRouteRedirectPort", "httproute-redirect-port", "redirect-port", plus(fHTTP, features.SupportHTTPRoutePortRedirect)...).
			get(redirectTo("/port", 302, confRedirect{port: "8083"}),
				redirectTo("/port-and-host", 302, confRedirect{host: "example.org", port: "8083"}),
				redirectTo("/port-and-status", 301, confRedirect{port: "8083"}),
				redirectTo("/port-and-host-and-status", 302, confRedirect{host: "example.org", port: "8083"})),
		oneRoute("HTTPRouteRedirectScheme", "httproute-redirect-scheme", "redirect-scheme", plus(fHTTP, features.SupportHTTPRouteSchemeRedirect)...).
			get(redirectTo("/scheme", 302, confRedirect{scheme: "https"}),
				redirectTo("/scheme-and-host", 302, confRedirect{host: "example.org", scheme: "https"}),
				redirectTo("/scheme-and-status", 301, confRedirect{scheme: "https"}),
				redirectTo("/scheme-and-host-and-status", 302, confRedirect{scheme: "https", host: "example.org"})),
	)
}

// redirectPortAndScheme ports httproute-redirect-port-and-scheme.go: the
// redirect's port follows the scheme and the listener's port as the
// spec's table says, on listeners at 80, 8080 and 443.
func init() {
	gw8080 := infra("same-namespace-with-http-listener-on-8080")
	at := func(gw string, port int, https bool) func(path string, want confRedirect) confRequest {
		return func(path string, want confRedirect) confRequest {
			want.host = "example.org"
			r := confRequest{gateway: gw, port: port, https: https, path: path, status: 302, redirect: &want}
			if https {
				r.host = "example.org"
			}
			return r
		}
	}
	on80, on8080, on443 := at(sameNS, 0, false), at(gw8080, 8080, false), at(httpsGW, 0, true)
	fs := plus(fHTTP, features.SupportHTTPRoutePortRedirect, features.SupportGatewayPort8080)
	c := port("HTTPRouteRedirectPortAndScheme", "httproute-redirect-port-and-scheme", fs...).on(sameNS, gw8080, httpsGW)
	for _, p := range []struct{ gw, route string }{{sameNS, "http-route-for-listener-on-port-80"}, {gw8080, "http-route-for-listener-on-port-8080"}, {httpsGW, "http-route-for-listener-on-port-443"}} {
		c.accepted(httpRouteK, p.gw, infra(p.route)).resolved(httpRouteK, p.gw, infra(p.route))
	}
	register(c.get(
		on80("/scheme-nil-and-port-nil", confRedirect{scheme: "http"}),
		on80("/scheme-nil-and-port-80", confRedirect{scheme: "http"}),
		on80("/scheme-nil-and-port-8080", confRedirect{scheme: "http", port: "8080"}),
		on80("/scheme-https-and-port-nil", confRedirect{scheme: "https"}),
		on80("/scheme-https-and-port-443", confRedirect{scheme: "https"}),
		on80("/scheme-https-and-port-8443", confRedirect{scheme: "https", port: "8443"}),
		on8080("/scheme-nil-and-port-nil", confRedirect{scheme: "http", port: "8080"}),
		on8080("/scheme-nil-and-port-80", confRedirect{scheme: "http"}),
		on8080("/scheme-https-and-port-nil", confRedirect{scheme: "https"}),
		on443("/scheme-nil-and-port-nil", confRedirect{scheme: "https"}),
		on443("/scheme-nil-and-port-443", confRedirect{scheme: "https"}),
		on443("/scheme-nil-and-port-8443", confRedirect{scheme: "https", port: "8443"}),
		on443("/scheme-http-and-port-nil", confRedirect{scheme: "http"}),
		on443("/scheme-http-and-port-80", confRedirect{scheme: "http"}),
		on443("/scheme-http-and-port-8080", confRedirect{scheme: "http", port: "8080"}),
	))
}

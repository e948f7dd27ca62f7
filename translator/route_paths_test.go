package translator

import (
	"maps"
	"regexp"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

func init() { routeEffects = append(routeEffects, pathEffects) }

// pathEffects follows what a forwarding route does to the path, the host
// and the X-Forwarded-Prefix header on the way to the backend. A path or
// host setting it does not know fails the test.
func pathEffects(t *testing.T, _ *routev3.VirtualHost, r *routev3.Route, req request, out *outcome) {
	t.Helper()
	a := r.GetRoute()
	if a == nil {
		return
	}
	if a.GetPathRewrite() != "" || a.GetPathRewritePolicy() != nil {
		t.Fatalf("route %s: a path rewrite this evaluator does not follow: %v", r.GetName(), a)
	}
	if p := a.GetPrefixRewrite(); p != "" {
		out.path = prefixRewrite(t, r.GetMatch(), p, req.path)
	}
	if rw := a.GetRegexRewrite(); rw != nil {
		out.path = regexRewrite(t, rw.GetPattern().GetRegex(), rw.GetSubstitution(), req.path)
	}
	switch h := a.GetHostRewriteSpecifier().(type) {
	case nil:
	case *routev3.RouteAction_HostRewriteLiteral:
		out.host = h.HostRewriteLiteral
	default:
		t.Fatalf("route %s: a host rewrite this evaluator does not follow: %T", r.GetName(), h)
	}
	for _, h := range r.GetRequestHeadersToAdd() {
		if !strings.EqualFold(h.GetHeader().GetKey(), "x-forwarded-prefix") {
			continue // another concern's header
		}
		if h.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
			t.Fatalf("route %s: X-Forwarded-Prefix must replace the client's: %v", r.GetName(), h)
		}
		if out.upstreamHeaders == nil {
			out.upstreamHeaders = map[string]string{}
		}
		out.upstreamHeaders["x-forwarded-prefix"] = unformatPrefixHeader(t, h.GetHeader().GetValue())
	}
}

// regexRewrite is Envoy's regex_rewrite: every match of pattern in the
// path (not the query) is replaced by the substitution, in which \N is a
// capture group and \\ a backslash; the query is kept.
func regexRewrite(t *testing.T, pattern, sub, full string) string {
	t.Helper()
	path, query, hasQuery := strings.Cut(full, "?")
	var tmpl strings.Builder
	for i := 0; i < len(sub); i++ {
		switch c := sub[i]; {
		case c == '\\' && i+1 < len(sub) && sub[i+1] >= '0' && sub[i+1] <= '9':
			tmpl.WriteString("${" + string(sub[i+1]) + "}")
			i++
		case c == '\\' && i+1 < len(sub) && sub[i+1] == '\\':
			tmpl.WriteByte('\\')
			i++
		case c == '\\':
			t.Fatalf("substitution %q: a lone backslash, which RE2 refuses", sub)
		case c == '$':
			tmpl.WriteString("$$")
		default:
			tmpl.WriteByte(c)
		}
	}
	out := regexp.MustCompile(pattern).ReplaceAllString(path, tmpl.String())
	if hasQuery {
		out += "?" + query
	}
	return out
}

// unformatPrefixHeader reads a request_headers_to_add value as Envoy's header
// formatter does, for values fairway writes: "%%" is "%", and any other
// "%" would be a command operator, which fairway never emits from user
// text.
func unformatPrefixHeader(t *testing.T, v string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 >= len(v) || v[i+1] != '%' {
			t.Fatalf("header value %q holds a command operator", v)
		}
		b.WriteByte('%')
		i++
	}
	return b.String()
}

// pathCheck is a request and what it must get: status, location,
// cluster, path, host and upstream headers are compared.
type pathCheck struct {
	req  request
	want outcome
}

const pathsWeb, pathsAPI = "default/web/80", "default/api/80"

// forwardedTo is a request forwarded to cluster with path.
func forwardedTo(cluster, path string) outcome { return outcome{cluster: cluster, path: path} }

// pathGoldenOutcomes are requests through the paths group's goldens, by
// case.
var pathGoldenOutcomes = map[string][]pathCheck{
	"annotation-use-regex": {
		{request{authority: "shop.example.com", path: "/api/v1/orders/7"}, forwardedTo(pathsWeb, "/api/v1/orders/7")}, // the longer literal prefix ranks first
		{request{authority: "shop.example.com", path: "/API/V2/orders"}, forwardedTo(pathsAPI, "/API/V2/orders")},     // case-insensitive
		{request{authority: "shop.example.com", path: "/api/v2"}, outcome{status: 404}},                               // the regex needs its trailing "/"
		{request{authority: "shop.example.com", path: "/x/api/v2/"}, outcome{status: 404}},                            // anchored at the start
		{request{authority: "shop.example.com", path: "/css/site.css"}, forwardedTo(pathsWeb, "/css/site.css")},       // the alternation stays grouped
		{request{authority: "shop.example.com", path: "/img|/css/x"}, forwardedTo(pathsWeb, "/img|/css/x")},           // the plain Ingress's literal prefix
		{request{authority: "shop.example.com", path: "/exact"}, forwardedTo(pathsWeb, "/exact")},                     // "$" ends the path
		{request{authority: "shop.example.com", path: "/exact/more"}, outcome{status: 404}},                           // ... and nothing may follow
		{request{authority: "shop.example.com", path: "/EXACT?q=1"}, forwardedTo(pathsWeb, "/EXACT?q=1")},             // the query is not matched
	},
	"annotation-rewrite-target": {
		{request{authority: "shop.example.com", path: "/something/a/b?q=1"}, forwardedTo(pathsAPI, "/a/b$x?q=1")},
		{request{authority: "shop.example.com", path: "/SOMETHING"}, forwardedTo(pathsAPI, "/$x")},
		{request{authority: "shop.example.com", path: "/legacy/page"}, forwardedTo(pathsWeb, "/")},
		{request{authority: "shop.example.com", path: "/Legacyish"}, forwardedTo(pathsWeb, "/")}, // a regex, not a segment prefix
	},
	"annotation-rewrite-target-invalid": {
		{request{authority: "shop.example.com", path: "/two/x"}, forwardedTo(pathsAPI, "/x")},
		{request{authority: "shop.example.com", path: "/one/x"}, outcome{status: 404}},
		{request{authority: "other.example.com", path: "/old/x"}, forwardedTo(pathsWeb, "/old/x")},
	},
	"annotation-app-root": {
		{request{authority: "shop.example.com", path: "/?utm=1"}, outcome{status: 302, location: "http://shop.example.com/app1"}},
		{request{authority: "shop.example.com", path: "/app1"}, forwardedTo(pathsWeb, "/app1")},
		{request{authority: "shop.example.com", path: "/api"}, forwardedTo(pathsAPI, "/api")},
	},
	"annotation-x-forwarded-prefix": {
		{request{authority: "shop.example.com", path: "/api/x"}, outcome{cluster: pathsAPI, path: "/api/x", upstreamHeaders: map[string]string{"x-forwarded-prefix": "/shop%DOWNSTREAM_REMOTE_ADDRESS%"}}},
		{request{authority: "elsewhere.example.com", path: "/"}, outcome{cluster: pathsWeb, path: "/", upstreamHeaders: map[string]string{"x-forwarded-prefix": "/shop%DOWNSTREAM_REMOTE_ADDRESS%"}}},
	},
	"annotation-upstream-vhost": {
		{request{authority: "shop.example.com", path: "/api"}, outcome{cluster: pathsAPI, path: "/api", host: "internal.example.com:8080"}},
	},
	"annotation-permanent-redirect": {
		{request{authority: "old.example.com", path: "/any/path?x=1"}, outcome{status: 301, location: "https://new.example.com:8443/shop?from=old"}},
		{request{authority: "redirect", path: "/something?x=1"}, outcome{status: 308, location: "http://redirect.example.com/"}},
		{request{authority: "redirect", path: "/other"}, outcome{status: 404}},
	},
	"annotation-permanent-redirect-invalid": {
		{request{authority: "a.example.com", path: "/x"}, forwardedTo(pathsWeb, "/x")},
		{request{authority: "b.example.com", path: "/x"}, outcome{status: 301, location: "https://new.example.com/"}},
	},
	"annotation-temporal-redirect": {
		{request{authority: "shop.example.com", path: "/checkout?cart=1", scheme: "https"}, outcome{status: 307, location: "https://shop.example.com/maintenance.html"}},
	},
	"annotation-from-to-www-redirect": {
		{request{authority: "www.a.example.com", path: "/p?q=1"}, outcome{status: 308, location: "http://a.example.com/p?q=1"}},
		{request{authority: "www.a.example.com", path: "/p", scheme: "https"}, outcome{status: 308, location: "https://a.example.com/p"}},
		{request{authority: "c.example.com:8080", path: "/"}, outcome{status: 308, location: "http://www.c.example.com/"}},
		{request{authority: "www.b.example.com", path: "/"}, forwardedTo(pathsAPI, "/")}, // served by another Ingress: not redirected
		{request{authority: "a.example.com", path: "/"}, forwardedTo(pathsWeb, "/")},
		{request{authority: "www.x.d.example.com", path: "/"}, outcome{status: 404}}, // a wildcard has no twin
	},
	"annotation-server-alias": {
		{request{authority: "store.example.com", path: "/"}, forwardedTo(pathsWeb, "/")},           // the alias gets the shop's "/"
		{request{authority: "store.example.com", path: "/api/x"}, forwardedTo(pathsWeb, "/api/x")}, // ... but the older store Ingress keeps /api
		{request{authority: "shop.example.com", path: "/api/x"}, forwardedTo(pathsAPI, "/api/x")},
		{request{authority: "a.shop.example.org", path: "/api"}, forwardedTo(pathsAPI, "/api")}, // a wildcard alias takes one label
		{request{authority: "a.b.shop.example.org", path: "/api"}, outcome{status: 404}},
	},
	"annotation-server-alias-invalid": {
		{request{authority: "ok.example.com", path: "/"}, forwardedTo(pathsWeb, "/")},
		{request{authority: "bad_name.example.com", path: "/"}, outcome{status: 404}},
	},
}

// TestPathAnnotationOutcomes follows requests through the route tables of
// the paths group's goldens: what each annotation does to a request, not
// only the shape it emits.
func TestPathAnnotationOutcomes(t *testing.T) {
	for name, checks := range pathGoldenOutcomes {
		in := readGoldenInput(t, "testdata/"+name+"/input.yaml")
		rc := Translate(in.Input, in.Options).Routes[0]
		for _, c := range checks {
			got := evaluate(t, rc, c.req)
			w := c.want
			if w.status == 0 && w.host == "" {
				w.host = c.req.authority
			}
			if got.status != w.status || got.location != w.location || got.cluster != w.cluster ||
				(w.status == 0 && (got.path != w.path || got.host != w.host)) || !samePathHeaders(got.upstreamHeaders, w.upstreamHeaders) {
				t.Errorf("%s: %s %s%s: got status %d location %q cluster %q path %q host %q headers %v; want %d %q %q %q %q %v",
					name, c.req.scheme, c.req.authority, c.req.path, got.status, got.location, got.cluster, got.path, got.host, got.upstreamHeaders,
					w.status, w.location, w.cluster, w.path, w.host, w.upstreamHeaders)
			}
		}
	}
}

func samePathHeaders(a, b map[string]string) bool {
	a = routeHeaders(a)
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// routeHeaders are the upstream headers a route itself adds: without
// X-Real-IP, which every route table sets for every request (edge_test.go
// checks it).
func routeHeaders(h map[string]string) map[string]string {
	if _, ok := h["x-real-ip"]; !ok {
		return h
	}
	out := maps.Clone(h)
	delete(out, "x-real-ip")
	return out
}

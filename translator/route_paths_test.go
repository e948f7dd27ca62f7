package translator

import (
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
	if a.GetPrefixRewrite() != "" || a.GetPathRewrite() != "" || a.GetPathRewritePolicy() != nil {
		t.Fatalf("route %s: a path rewrite this evaluator does not follow: %v", r.GetName(), a)
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
		out.upstreamHeaders["x-forwarded-prefix"] = unformatHeader(t, h.GetHeader().GetValue())
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

// unformatHeader reads a request_headers_to_add value as Envoy's header
// formatter does, for values fairway writes: "%%" is "%", and any other
// "%" would be a command operator, which fairway never emits from user
// text.
func unformatHeader(t *testing.T, v string) string {
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

package envoy

import (
	"bytes"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

func pathsSpec(p PathPolicy) RouteSpec {
	return RouteSpec{Name: "ns/ing", Path: "/", Cluster: "ns/svc/80", Policy: &RoutePolicy{Regex: "(?i)(?:/(.*)).*", Paths: p}}
}

// TestPathPolicyEdgeAndProxyless: the fleet's route carries the rewrites,
// valid by Envoy's own rules; the proxyless route keeps the regex match
// and the cluster and nothing gRPC would ignore.
func TestPathPolicyEdgeAndProxyless(t *testing.T) {
	s := pathsSpec(PathPolicy{
		RegexRewrite: &RegexRewrite{Pattern: "^(?i)(?:/(.*)).*", Substitution: `/v2/\1`},
		HostRewrite:  "internal:8080", XForwardedPrefix: "/a%b", AppRoot: "/app",
	})
	edge := s.routes(true)
	if len(edge) != 2 || edge[0].GetRedirect().GetPathRedirect() != "/app" || edge[0].GetMatch().GetPath() != "/" {
		t.Fatalf("edge: want the app root redirect first, then the route: %v", edge)
	}
	a := edge[1].GetRoute()
	if a.GetRegexRewrite().GetSubstitution() != `/v2/\1` || a.GetHostRewriteLiteral() != "internal:8080" || a.GetTimeout() == nil {
		t.Errorf("edge route action: %v", a)
	}
	if h := edge[1].GetRequestHeadersToAdd(); len(h) != 1 || h[0].GetHeader().GetValue() != "/a%%b" {
		t.Errorf("X-Forwarded-Prefix must be escaped for Envoy's formatter: %v", h)
	}
	for _, r := range edge {
		if err := r.ValidateAll(); err != nil {
			t.Errorf("edge route %v: %v", r, err)
		}
	}
	px := s.routes(false)
	if len(px) != 1 || px[0].GetMatch().GetSafeRegex().GetRegex() != "(?i)(?:/(.*)).*" || px[0].GetRoute().GetCluster() != "ns/svc/80" {
		t.Fatalf("proxyless: %v", px)
	}
	if a := px[0].GetRoute(); a.GetRegexRewrite() != nil || a.GetHostRewriteSpecifier() != nil || len(px[0].GetRequestHeadersToAdd()) > 0 {
		t.Errorf("proxyless route carries Envoy-only rewrites: %v", px[0])
	}
}

// TestPathPolicyRedirect: a redirect replaces the action in both tables
// and is built from its parts; a path without a query drops the request's.
func TestPathPolicyRedirect(t *testing.T) {
	s := pathsSpec(PathPolicy{Redirect: &Redirect{Scheme: "https", Host: "new.example.com", Port: 8443, Path: "/x", Code: 308}, AppRoot: "/ignored"})
	for _, edge := range []bool{true, false} {
		rs := s.routes(edge)
		if len(rs) != 1 {
			t.Fatalf("edge=%v: %d routes, want the redirect alone", edge, len(rs))
		}
		rd := rs[0].GetRedirect()
		if rd.GetSchemeRedirect() != "https" || rd.GetHostRedirect() != "new.example.com" || rd.GetPortRedirect() != 8443 ||
			rd.GetPathRedirect() != "/x" || !rd.GetStripQuery() || rd.GetResponseCode() != routev3.RedirectAction_PERMANENT_REDIRECT {
			t.Errorf("edge=%v: %v", edge, rd)
		}
		if err := rs[0].ValidateAll(); err != nil {
			t.Errorf("edge=%v: %v", edge, err)
		}
	}
	withQuery := RedirectAction(&Redirect{Path: "/p", Query: "a=1", Code: 302})
	if withQuery.GetPathRedirect() != "/p?a=1" || withQuery.GetStripQuery() || withQuery.GetResponseCode() != routev3.RedirectAction_FOUND {
		t.Errorf("a target query replaces the request's: %v", withQuery)
	}
	keep := RedirectAction(&Redirect{Host: "a.example.com", Code: 308})
	if keep.GetPathRedirect() != "" || keep.GetStripQuery() {
		t.Errorf("no path keeps the request's path and query: %v", keep)
	}
}

// TestPathPolicyEncoding: routes with a path policy are encoded as their
// messages marshal, in a virtual host and in an API listener.
func TestPathPolicyEncoding(t *testing.T) {
	specs := []RouteSpec{
		pathsSpec(PathPolicy{RegexRewrite: &RegexRewrite{Pattern: "^x", Substitution: "/"}, AppRoot: "/app", XForwardedPrefix: "/p"}),
		pathsSpec(PathPolicy{Redirect: &Redirect{Host: "b", Code: 301}}),
		{Name: "plain", Path: "/plain", Cluster: "c"},
	}
	var routes []*routev3.Route
	for _, s := range specs {
		routes = append(routes, s.Routes()...)
	}
	want := mustMarshal(t, EdgeVirtualHost("h", []string{"h"}, routes))
	if got := AppendVirtualHost(nil, "h", []string{"h"}, specs); !bytes.Equal(got, want) {
		t.Errorf("virtual host encodings differ")
	}
	wantAPI := mustMarshal(t, APIListener("h", specs))
	if got := AppendAPIListener(nil, "h", specs); !bytes.Equal(got, wantAPI) {
		t.Errorf("API listener encodings differ")
	}
}

package envoy

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func gatewaySpec(p RoutePolicy) RouteSpec {
	return RouteSpec{Name: "ns/route", Exact: true, Path: "/api", Cluster: "ns/a/80", Policy: &p}
}

func exactString(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}
}

func regexString(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: s}}}
}

// TestRequestMatchRoute: a method, headers (exact and regex, names
// lower-cased) and query parameters (exact and regex, names as written)
// become the route's matchers, on the fleet's route and the proxyless
// one alike; the regex path matches the whole path as written.
func TestRequestMatchRoute(t *testing.T) {
	s := RouteSpec{Name: "ns/route", Cluster: "ns/a/80", Policy: &RoutePolicy{
		Regex:   "/v[0-9]+/.*",
		Headers: []HeaderCondition{MethodCondition("GET"), HeaderConditionOf("X-Version", "v1", false), HeaderConditionOf("X-Tenant", "a.*", true)},
		Query:   []QueryCondition{{Name: "Page", Exact: "1"}, {Name: "q", Regex: "[a-z]+"}},
	}}
	want := &routev3.RouteMatch{
		PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "/v[0-9]+/.*"}},
		Headers: []*routev3.HeaderMatcher{
			{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exactString("GET")}},
			{Name: "x-version", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exactString("v1")}},
			{Name: "x-tenant", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: regexString("a.*")}},
		},
		QueryParameters: []*routev3.QueryParameterMatcher{
			{Name: "Page", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: exactString("1")}},
			{Name: "q", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: regexString("[a-z]+")}},
		},
	}
	for _, edge := range []bool{true, false} {
		rs := s.routes(edge)
		if len(rs) != 1 {
			t.Fatalf("edge=%v: %d routes, want 1", edge, len(rs))
		}
		wantProto(t, "match", rs[0].GetMatch(), want)
		if err := rs[0].ValidateAll(); err != nil {
			t.Errorf("edge=%v: %v", edge, err)
		}
	}
}

// TestWeightedClusters: several backends become weighted_clusters whose
// total is the sum of the weights; the unresolved share names the
// cluster nobody has and the route answers a missing cluster with 500;
// a proxyless route names the plain clusters.
func TestWeightedClusters(t *testing.T) {
	w := &Weighted{Clusters: []ClusterWeight{{Name: "ns/a/80/h2c", Plain: "ns/a/80", Weight: 3}, {Name: "ns/b/80", Weight: 1}}, Unresolved: 2}
	s := gatewaySpec(RoutePolicy{Weighted: w})
	edge := s.routes(true)[0].GetRoute()
	wantProto(t, "edge weighted clusters", edge.GetWeightedClusters(), &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
		{Name: "ns/a/80/h2c", Weight: wrapperspb.UInt32(3)},
		{Name: "ns/b/80", Weight: wrapperspb.UInt32(1)},
		{Name: UnresolvedBackendCluster, Weight: wrapperspb.UInt32(2)},
	}})
	if edge.GetClusterNotFoundResponseCode() != routev3.RouteAction_INTERNAL_SERVER_ERROR || edge.GetTimeout() == nil {
		t.Errorf("edge action: %v", edge)
	}
	px := s.routes(false)[0].GetRoute()
	if got := px.GetWeightedClusters().GetClusters(); len(got) != 3 || got[0].GetName() != "ns/a/80" || got[1].GetName() != "ns/b/80" {
		t.Errorf("proxyless weighted clusters: %v", got)
	}
	resolved := gatewaySpec(RoutePolicy{Weighted: &Weighted{Clusters: w.Clusters}}).routes(true)[0].GetRoute()
	if resolved.GetClusterNotFoundResponseCode() != routev3.RouteAction_SERVICE_UNAVAILABLE || len(resolved.GetWeightedClusters().GetClusters()) != 2 {
		t.Errorf("without an unresolved share: %v", resolved)
	}
	for _, r := range append(s.routes(true), s.routes(false)...) {
		if err := r.ValidateAll(); err != nil {
			t.Error(err)
		}
	}
	if strings.Contains(UnresolvedBackendCluster, "/") {
		t.Errorf("%q could be a Service cluster's name", UnresolvedBackendCluster)
	}
}

// TestWeightedClusterHeaderEdits: a weighted cluster's own header edits
// (a backendRef's filters) are on its entry for the fleet, escaped and
// without Host, and left out of the proxyless table, as a route's are.
func TestWeightedClusterHeaderEdits(t *testing.T) {
	edits := HeaderEdits{Set: []HeaderValue{{Name: "x-backend", Value: "50%"}, {Name: "Host", Value: "evil"}}, Add: []HeaderValue{{Name: "x-add", Value: "a"}}, Remove: []string{"x-drop", ":path"}}
	w := &Weighted{Clusters: []ClusterWeight{
		{Name: "ns/a/80", Weight: 1, RequestHeaders: edits, ResponseHeaders: HeaderEdits{Remove: []string{"server"}}},
		{Name: "ns/b/80", Weight: 1},
	}}
	s := gatewaySpec(RoutePolicy{Weighted: w})
	edge := s.routes(true)[0].GetRoute().GetWeightedClusters().GetClusters()
	wantProto(t, "edited cluster", edge[0], &routev3.WeightedCluster_ClusterWeight{
		Name: "ns/a/80", Weight: wrapperspb.UInt32(1),
		RequestHeadersToAdd: []*corev3.HeaderValueOption{
			{Header: &corev3.HeaderValue{Key: "x-backend", Value: "50%%"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD},
			{Header: &corev3.HeaderValue{Key: "x-add", Value: "a"}, AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD},
		},
		RequestHeadersToRemove:  []string{"x-drop"},
		ResponseHeadersToRemove: []string{"server"},
	})
	wantProto(t, "plain cluster", edge[1], &routev3.WeightedCluster_ClusterWeight{Name: "ns/b/80", Weight: wrapperspb.UInt32(1)})
	for _, c := range s.routes(false)[0].GetRoute().GetWeightedClusters().GetClusters() {
		if len(c.GetRequestHeadersToAdd())+len(c.GetRequestHeadersToRemove())+len(c.GetResponseHeadersToAdd())+len(c.GetResponseHeadersToRemove()) > 0 {
			t.Errorf("proxyless cluster %s carries header edits: %v", c.GetName(), c)
		}
	}
	for _, r := range append(s.routes(true), s.routes(false)...) {
		if err := r.ValidateAll(); err != nil {
			t.Error(err)
		}
	}
}

// TestHeaderEdits: Set overwrites, Add appends, Remove drops, for the
// request and the response; a value's "%" is escaped; Host and
// pseudo-headers, which Envoy refuses to edit, are left out; a proxyless
// route carries none.
func TestHeaderEdits(t *testing.T) {
	s := gatewaySpec(RoutePolicy{
		RequestHeaders: HeaderEdits{
			Set:    []HeaderValue{{"X-Set", "a%b"}, {"Host", "evil"}},
			Add:    []HeaderValue{{"X-Add", "1"}, {":path", "/x"}},
			Remove: []string{"X-Drop", "host"},
		},
		ResponseHeaders: HeaderEdits{Set: []HeaderValue{{"X-Resp", "r"}}, Remove: []string{"Server"}},
	})
	r := s.routes(true)[0]
	opt := func(k, v string, a corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
		return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}, AppendAction: a}
	}
	want := &routev3.Route{
		Name:  "ns/route",
		Match: ExactPathMatch("/api"),
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "ns/a/80"}, Timeout: durationpb.New(RouteTimeout),
		}},
		RequestHeadersToAdd: []*corev3.HeaderValueOption{
			opt("X-Set", "a%%b", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
			opt("X-Add", "1", corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD),
		},
		RequestHeadersToRemove:  []string{"X-Drop"},
		ResponseHeadersToAdd:    []*corev3.HeaderValueOption{opt("X-Resp", "r", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)},
		ResponseHeadersToRemove: []string{"Server"},
	}
	wantProto(t, "edge route", r, want)
	if err := r.ValidateAll(); err != nil {
		t.Error(err)
	}
	px := s.routes(false)[0]
	if len(px.GetRequestHeadersToAdd())+len(px.GetRequestHeadersToRemove())+len(px.GetResponseHeadersToAdd())+len(px.GetResponseHeadersToRemove()) > 0 {
		t.Errorf("proxyless route carries header edits: %v", px)
	}
}

// TestMirrors: every request, or a share in millionths, is mirrored to
// each cluster; a proxyless route mirrors nothing.
func TestMirrors(t *testing.T) {
	s := gatewaySpec(RoutePolicy{Mirrors: []Mirror{{Cluster: "ns/m/80"}, {Cluster: "ns/n/80", PerMillion: 250_000}}})
	wantProto(t, "mirrors", &routev3.RouteAction{RequestMirrorPolicies: s.routes(true)[0].GetRoute().GetRequestMirrorPolicies()}, &routev3.RouteAction{
		RequestMirrorPolicies: []*routev3.RouteAction_RequestMirrorPolicy{
			{Cluster: "ns/m/80"},
			{Cluster: "ns/n/80", RuntimeFraction: &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 250_000, Denominator: typev3.FractionalPercent_MILLION}}},
		},
	})
	if got := s.routes(false)[0].GetRoute().GetRequestMirrorPolicies(); len(got) > 0 {
		t.Errorf("proxyless route mirrors: %v", got)
	}
	if err := s.routes(true)[0].ValidateAll(); err != nil {
		t.Error(err)
	}
}

// TestRouteTimeouts: the request timeout replaces the fleet's none; the
// backend request timeout is a per-try timeout on the fleet's retry
// policy, or on the route's own retries; neither reaches a proxyless
// route, and a route without them keeps the fleet's default.
func TestRouteTimeouts(t *testing.T) {
	s := gatewaySpec(RoutePolicy{Timeout: 10 * time.Second, PerTryTimeout: 2 * time.Second})
	a := s.routes(true)[0].GetRoute()
	wantProto(t, "action", a, &routev3.RouteAction{
		ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "ns/a/80"},
		Timeout:          durationpb.New(10 * time.Second),
		RetryPolicy: &routev3.RetryPolicy{
			RetryOn: RouteRetryOn, NumRetries: wrapperspb.UInt32(RouteNumRetries), PerTryTimeout: durationpb.New(2 * time.Second),
		},
	})
	retries := uint32(4)
	own := gatewaySpec(RoutePolicy{Retries: &retries, PerTryTimeout: time.Second}).routes(true)[0].GetRoute().GetRetryPolicy()
	if own.GetNumRetries().GetValue() != 4 || own.GetPerTryTimeout().AsDuration() != time.Second {
		t.Errorf("own retries with a per-try timeout: %v", own)
	}
	if px := s.routes(false)[0].GetRoute(); px.GetTimeout() != nil || px.GetRetryPolicy() != nil {
		t.Errorf("proxyless route: %v", px)
	}
	if d := gatewaySpec(RoutePolicy{Query: []QueryCondition{{Name: "a", Exact: "b"}}}).routes(true)[0].GetRoute().GetTimeout(); d == nil || d.AsDuration() != RouteTimeout {
		t.Errorf("a route without timeouts: timeout %v, want the fleet's %v", d, RouteTimeout)
	}
}

// envoyPrefixRewrite applies a route's prefix_rewrite as Envoy does: the
// part of the path its match matched (the prefix, or the whole exact
// path) is replaced.
func envoyPrefixRewrite(t *testing.T, routes []*routev3.Route, path string) (string, bool) {
	t.Helper()
	for _, r := range routes {
		m := r.GetMatch()
		var matched string
		switch {
		case m.GetPath() != "" && m.GetPath() == path:
			matched = path
		case m.GetPrefix() != "" && strings.HasPrefix(path, m.GetPrefix()):
			matched = m.GetPrefix()
		default:
			continue
		}
		if rd := r.GetRedirect(); rd != nil {
			return rd.GetPrefixRewrite() + path[len(matched):], true
		}
		return r.GetRoute().GetPrefixRewrite() + path[len(matched):], true
	}
	return "", false
}

// TestSegmentPrefixRewrite: ReplacePrefixMatch on the two Envoy routes of
// a segment prefix gives the Gateway API's table (HTTPPathModifier's
// godoc), for a rewrite and for a redirect alike.
func TestSegmentPrefixRewrite(t *testing.T) {
	for _, c := range []struct{ prefix, to, path, want string }{
		{"/foo", "/xyz", "/foo/bar", "/xyz/bar"},
		{"/foo", "/xyz/", "/foo/bar", "/xyz/bar"},
		{"/foo", "/xyz", "/foo", "/xyz"},
		{"/foo", "/xyz", "/foo/", "/xyz/"},
		{"/foo", "/", "/foo/bar", "/bar"},
		{"/foo", "/", "/foo/", "/"},
		{"/foo", "/", "/foo", "/"},
		{"/strip-prefix", "/", "/strip-prefix/three", "/three"},
		{"/prefix/one", "/one", "/prefix/one/two", "/one/two"},
		{"/", "/xyz", "/bar", "/xyz/bar"},
	} {
		for _, redirect := range []bool{false, true} {
			p := PathPolicy{PrefixRewrite: c.to}
			if redirect {
				p = PathPolicy{Redirect: &Redirect{PathPrefix: c.to, KeepQuery: true, Code: 302}}
			}
			routes := RouteSpec{Name: "r", Path: c.prefix, Cluster: "c", Policy: &RoutePolicy{Paths: p}}.routes(true)
			got, ok := envoyPrefixRewrite(t, routes, c.path)
			if !ok || got != c.want {
				t.Errorf("prefix %s to %q, redirect=%v: %s became %q (matched %v), want %q", c.prefix, c.to, redirect, c.path, got, ok, c.want)
			}
			for _, r := range routes {
				if err := r.ValidateAll(); err != nil {
					t.Error(err)
				}
				if rd := r.GetRedirect(); rd != nil && rd.GetStripQuery() {
					t.Errorf("a Gateway redirect keeps the query: %v", rd)
				}
			}
		}
	}
}

// TestGatewayRouteEncoding: a route with every Gateway part is encoded
// as its messages marshal, in a virtual host and an API listener.
func TestGatewayRouteEncoding(t *testing.T) {
	specs := []RouteSpec{
		gatewaySpec(RoutePolicy{
			Headers: []HeaderCondition{MethodCondition("POST")}, Query: []QueryCondition{{Name: "a", Exact: "b"}},
			Weighted:       &Weighted{Clusters: []ClusterWeight{{Name: "x", Weight: 1}, {Name: "y", Weight: 2}}, Unresolved: 1},
			RequestHeaders: HeaderEdits{Set: []HeaderValue{{"a", "b"}}}, Mirrors: []Mirror{{Cluster: "m"}}, Timeout: time.Second,
		}),
		{Name: "plain", Path: "/plain", Cluster: "c"},
	}
	var routes []*routev3.Route
	for _, s := range specs {
		routes = append(routes, s.Routes()...)
	}
	if got, want := AppendVirtualHost(nil, "h", []string{"h"}, specs), mustMarshal(t, EdgeVirtualHost("h", []string{"h"}, routes)); !bytes.Equal(got, want) {
		t.Errorf("virtual host encodings differ")
	}
	if got, want := AppendAPIListener(nil, "h", specs), mustMarshal(t, APIListener("h", specs)); !bytes.Equal(got, want) {
		t.Errorf("API listener encodings differ")
	}
}

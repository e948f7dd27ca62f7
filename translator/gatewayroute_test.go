package translator

import (
	"slices"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
	"github.com/fairwayhq/fairway/translator/policy"
)

func gatewayService(ns, name string, port int32, appProtocol string) *corev1.Service {
	sp := corev1.ServicePort{Name: "http", Port: port}
	if appProtocol != "" {
		sp.AppProtocol = &appProtocol
	}
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{sp}}}
}

// gatewayScope is a translation over Services a, b and m in ns "gw".
func gatewayScope(t *testing.T) (*Engine, *translation) {
	t.Helper()
	e := NewEngine(Options{Proxyless: true})
	e.Sync(Input{Services: []*corev1.Service{
		gatewayService("gw", "a", 80, ""), gatewayService("gw", "b", 8080, ""), gatewayService("gw", "m", 80, ""),
	}})
	return e, e.scope()
}

func httpRule(p policy.PathMatch, backends ...policy.Backend) *gatewayapi.HTTPRule {
	return &gatewayapi.HTTPRule{Route: gatewayapi.Object{Kind: "HTTPRoute", Namespace: "gw", Name: "web"}, Path: p, Backends: backends}
}

func prefix(v string) policy.PathMatch { return policy.PathMatch{Kind: policy.PathPrefix, Value: v} }

func backend(name string, port, weight int32) policy.Backend {
	return policy.Backend{Namespace: "gw", Name: name, Port: port, Weight: weight}
}

func refClusters(refs []Ref) []string {
	var out []string
	for _, r := range refs {
		if r.Kind == KindCluster && !slices.Contains(out, r.Name) {
			out = append(out, r.Name)
		}
	}
	slices.Sort(out)
	return out
}

// TestGatewayRouteOneBackend: a rule with one backend is a plain route
// to its cluster, encoded by the fast path like an Ingress path (no
// policy), and the rule's route is named by its origin.
func TestGatewayRouteOneBackend(t *testing.T) {
	_, tr := gatewayScope(t)
	r := tr.gatewayRoute("a.example.com", httpRule(prefix("/shop/"), backend("a", 80, 1)))
	s := r.spec()
	if s.Cluster != "gw/a/80" || s.Policy != nil || s.Path != "/shop" || s.Exact || s.Name != "gw/web" {
		t.Fatalf("spec %+v, want a plain segment-prefix route /shop to gw/a/80", s)
	}
	if r.origin != (ObjectRef{Kind: "HTTPRoute", Namespace: "gw", Name: "web"}) || len(tr.problems) > 0 {
		t.Errorf("origin %v, problems %v", r.origin, tr.problems)
	}
}

// TestGatewayRouteWeighted: valid backends are weighted clusters (one
// Service port named twice is one, with both weights), and the
// rule's invalid share plus a backend whose Service is missing are the
// unresolved share; the host's references name both clusters and never
// the unresolved one; the missing Service is a Problem.
func TestGatewayRouteWeighted(t *testing.T) {
	e, tr := gatewayScope(t)
	rule := httpRule(prefix("/"), backend("a", 80, 2), backend("b", 8080, 1), backend("gone", 80, 1), backend("b", 8080, 0), backend("a", 80, 1))
	rule.Invalid = 2
	r := tr.gatewayRoute("a.example.com", rule)
	want := &envoy.Weighted{Clusters: []envoy.ClusterWeight{{Name: "gw/a/80", Weight: 3}, {Name: "gw/b/8080", Weight: 1}}, Unresolved: 3}
	if d := cmp.Diff(want, r.gw.weighted); d != "" {
		t.Fatalf("weighted (-want +got):\n%s", d)
	}
	if len(tr.problems) != 1 || tr.problems[0].Reason != BackendNotFound || !strings.Contains(tr.problems[0].Message, "spec.rules[0].backendRefs") {
		t.Errorf("problems %v, want BackendNotFound for gw/gone", tr.problems)
	}
	hr := e.routesOf("a.example.com", &hostState{own: []*httpRoute{r}})
	if got := refClusters(hr.refs); !slices.Equal(got, []string{"gw/a/80", "gw/b/8080"}) {
		t.Errorf("refs %v", got)
	}
	a := hr.table[0].Routes()[0].GetRoute()
	if len(a.GetWeightedClusters().GetClusters()) != 3 || a.GetClusterNotFoundResponseCode() != routev3.RouteAction_INTERNAL_SERVER_ERROR {
		t.Errorf("action %v", a)
	}
	px, pxRefs := proxylessTable(hr.table, hr.refs, hr.plains, hr.splits)
	if got := refClusters(pxRefs); !slices.Equal(got, []string{"gw/a/80", "gw/b/8080", envoy.UnresolvedBackendCluster}) {
		t.Errorf("proxyless refs %v, want the unresolved share's too (the proxyless set holds it)", got)
	}
	if c := envoy.APIListener("a.example.com", px); c.ValidateAll() != nil {
		t.Error(c.ValidateAll())
	}
}

// TestGatewayRouteNoBackend: a rule whose backends all fail, or that has
// none, answers 500, where an Ingress path answers 503.
func TestGatewayRouteNoBackend(t *testing.T) {
	_, tr := gatewayScope(t)
	for _, rule := range []*gatewayapi.HTTPRule{
		httpRule(prefix("/")),
		httpRule(prefix("/"), backend("gone", 80, 1)),
		func() *gatewayapi.HTTPRule { r := httpRule(prefix("/")); r.Invalid = 1; return r }(),
	} {
		s := tr.gatewayRoute("", rule).spec()
		if s.Cluster != "" || s.Status != 500 {
			t.Errorf("backends %v invalid %d: spec %+v, want a direct 500", rule.Backends, rule.Invalid, s)
		}
		if got := s.Routes()[0].GetDirectResponse().GetStatus(); got != 500 {
			t.Errorf("direct response %d", got)
		}
	}
}

// TestGatewayRouteGRPC: a GRPCRoute's backends are spoken to over h2c,
// and proxyless clients get the plain cluster.
func TestGatewayRouteGRPC(t *testing.T) {
	e, tr := gatewayScope(t)
	rule := httpRule(policy.PathMatch{Kind: policy.PathExact, Value: "/shop.Cart/Get"}, backend("a", 80, 1), backend("b", 8080, 1))
	rule.GRPC, rule.Route.Kind = true, "GRPCRoute"
	r := tr.gatewayRoute("grpc.example.com", rule)
	if r.cluster == "gw/a/80" || !strings.HasPrefix(r.cluster, "gw/a/80/") {
		t.Fatalf("cluster %q, want the h2c variant of gw/a/80", r.cluster)
	}
	var h2 int
	for _, u := range tr.clusters {
		if u.key.up.HTTP2 {
			h2++
		}
	}
	if h2 != 2 {
		t.Errorf("%d of %d clusters speak HTTP/2, want both", h2, len(tr.clusters))
	}
	hr := e.routesOf("grpc.example.com", &hostState{own: []*httpRoute{r}})
	px, refs := proxylessTable(hr.table, hr.refs, hr.plains, hr.splits)
	if got := refClusters(refs); !slices.Equal(got, []string{"gw/a/80", "gw/b/8080"}) {
		t.Errorf("proxyless refs %v, want the plain clusters", got)
	}
	for _, c := range px[0].Policy.Weighted.Clusters {
		if c.Plain == "" {
			t.Errorf("weighted cluster %+v has no plain cluster", c)
		}
	}
}

// TestGatewayRouteMirrorsAndFilters: mirrors resolve to clusters that the
// fleet's table references and the proxyless table neither carries nor
// references; header edits, timeouts and a prefix rewrite reach the
// fleet's route; an edit of Host is a Problem and left out.
func TestGatewayRouteMirrorsAndFilters(t *testing.T) {
	e, tr := gatewayScope(t)
	rule := httpRule(prefix("/api"), backend("a", 80, 1))
	rule.Policy = &policy.Route{
		Mirrors:         []policy.Mirror{{Backend: backend("m", 80, 1), Fraction: &policy.Fraction{Numerator: 1, Denominator: 4}}},
		RequestHeaders:  policy.HeaderEdits{Set: []policy.Header{{Name: "X-A", Value: "1"}, {Name: "Host", Value: "x"}}},
		ResponseHeaders: policy.HeaderEdits{Remove: []string{"Server"}},
		GatewayTimeouts: policy.GatewayTimeouts{Request: 5 * time.Second, BackendRequest: time.Second},
		Rewrite:         policy.Rewrite{PathPrefix: "/v2"},
	}
	r := tr.gatewayRoute("a.example.com", rule)
	if len(tr.problems) != 1 || tr.problems[0].Reason != UnsupportedFilter {
		t.Errorf("problems %v, want UnsupportedFilter for Host", tr.problems)
	}
	hr := e.routesOf("a.example.com", &hostState{own: []*httpRoute{r}})
	if got := refClusters(append(slices.Clone(hr.refs), hr.authRefs...)); !slices.Equal(got, []string{"gw/a/80", "gw/m/80"}) {
		t.Errorf("fleet refs %v", got)
	}
	routes := hr.table[0].Routes()
	if len(routes) != 2 {
		t.Fatalf("%d routes, want the exact and the prefix route of /api", len(routes))
	}
	for i, want := range []string{"/v2", "/v2/"} {
		a := routes[i].GetRoute()
		if a.GetPrefixRewrite() != want || a.GetTimeout().AsDuration() != 5*time.Second || a.GetRetryPolicy().GetPerTryTimeout().AsDuration() != time.Second {
			t.Errorf("route %d action %v", i, a)
		}
		if m := a.GetRequestMirrorPolicies(); len(m) != 1 || m[0].GetCluster() != "gw/m/80" || m[0].GetRuntimeFraction().GetDefaultValue().GetNumerator() != 250_000 {
			t.Errorf("route %d mirrors %v", i, m)
		}
		if h := routes[i].GetRequestHeadersToAdd(); len(h) != 1 || h[0].GetHeader().GetKey() != "X-A" {
			t.Errorf("route %d request headers %v", i, h)
		}
	}
	px, refs := proxylessTable(hr.table, hr.refs, hr.plains, hr.splits)
	if got := refClusters(refs); !slices.Equal(got, []string{"gw/a/80"}) {
		t.Errorf("proxyless refs %v, want no mirror", got)
	}
	if m := envoy.APIListener("h", px); strings.Contains(m.String(), "gw/m/80") {
		t.Errorf("proxyless listener names the mirror: %v", m)
	}
}

// TestGatewayRouteRedirect: a redirect keeps the query, defaults to 302,
// replaces the matched prefix, and carries no port_redirect for the new
// scheme's well-known port; the rule's own policy is left as the front
// end made it.
func TestGatewayRouteRedirect(t *testing.T) {
	_, tr := gatewayScope(t)
	rule := httpRule(prefix("/old"))
	rule.Policy = &policy.Route{Redirect: &policy.Redirect{Scheme: "https", PathPrefix: "/new"}}
	r := tr.gatewayRoute("a.example.com", rule)
	if rule.Policy.Redirect.Code != 0 || rule.Policy.Redirect.Port != 0 {
		t.Fatalf("the front end's policy was changed: %+v", rule.Policy.Redirect)
	}
	rs := r.spec().Routes()
	want := []string{"/new", "/new/"}
	for i, route := range rs {
		rd := route.GetRedirect()
		if rd.GetSchemeRedirect() != "https" || rd.GetPortRedirect() != 0 || rd.GetResponseCode() != routev3.RedirectAction_FOUND ||
			rd.GetStripQuery() || rd.GetPrefixRewrite() != want[i] {
			t.Errorf("redirect %d: %v", i, rd)
		}
	}
	rule.Policy = &policy.Route{Redirect: &policy.Redirect{Scheme: "http", Port: 8080, Code: 301}}
	if rd := tr.gatewayRoute("", rule).spec().Routes()[0].GetRedirect(); rd.GetPortRedirect() != 8080 || rd.GetResponseCode() != routev3.RedirectAction_MOVED_PERMANENTLY {
		t.Errorf("explicit port and code: %v", rd)
	}
	rule.Policy = &policy.Route{Redirect: &policy.Redirect{Host: "example.org"}}
	if rd := tr.gatewayRoute("", rule).spec().Routes()[0].GetRedirect(); rd.GetPortRedirect() != 0 || rd.GetSchemeRewriteSpecifier() != nil {
		t.Errorf("no scheme and no port keep the request's: %v", rd)
	}
}

// TestGatewayRoutePaths: a regular expression matches the whole path as
// written; one Envoy would refuse is not served, with a Problem naming
// the match; Exact and a trailing-slash prefix are kept and trimmed.
func TestGatewayRoutePaths(t *testing.T) {
	_, tr := gatewayScope(t)
	r := tr.gatewayRoute("", httpRule(policy.PathMatch{Kind: policy.PathRegex, Value: "/v[0-9]+/.*"}, backend("a", 80, 1)))
	if got := r.spec().Routes()[0].GetMatch().GetSafeRegex().GetRegex(); got != "/v[0-9]+/.*" {
		t.Errorf("regex %q", got)
	}
	bad := httpRule(policy.PathMatch{Kind: policy.PathRegex, Value: "/(a"}, backend("a", 80, 1))
	bad.Rule, bad.Match = 2, 1
	if r := tr.gatewayRoute("", bad); r != nil {
		t.Errorf("an invalid regex is served: %+v", r)
	}
	if len(tr.problems) != 1 || tr.problems[0].Reason != InvalidPath || !strings.Contains(tr.problems[0].Message, "spec.rules[2].matches[1].path") {
		t.Errorf("problems %v", tr.problems)
	}
	badHeader := httpRule(prefix("/"), backend("a", 80, 1))
	badHeader.Request.Headers = []policy.ValueMatch{{Name: "x", Value: "(", Regex: true}}
	if tr.gatewayRoute("", badHeader) != nil {
		t.Error("an invalid header regex is served")
	}
	if m := tr.gatewayRoute("", httpRule(policy.PathMatch{Kind: policy.PathExact, Value: "/a/"}, backend("a", 80, 1))).match; m != (pathMatch{exact: true, path: "/a/"}) {
		t.Errorf("exact %+v", m)
	}
	if m := tr.gatewayRoute("", httpRule(prefix(""), backend("a", 80, 1))).match; m != (pathMatch{path: "/"}) {
		t.Errorf("default match %+v", m)
	}
}

// TestUnresolvedClusterFollowsReferences: the proxyless set holds the
// unresolved share's cluster, with no endpoints, exactly while an API
// listener names it, so that grpc-go never waits for a cluster no
// response holds; the set's references stay whole throughout.
func TestUnresolvedClusterFollowsReferences(t *testing.T) {
	e, tr := gatewayScope(t)
	rule := httpRule(prefix("/"), backend("a", 80, 1))
	rule.Invalid = 1
	r := tr.gatewayRoute("gw.example.com", rule)
	hr := e.routesOf("gw.example.com", &hostState{own: []*httpRoute{r}})
	table, refs := proxylessTable(hr.table, hr.refs, hr.plains, hr.splits)
	if got := refClusters(refs); !slices.Equal(got, []string{"gw/a/80", envoy.UnresolvedBackendCluster}) {
		t.Fatalf("proxyless refs %v", got)
	}
	api := newResource("gw.example.com", envoy.AppendAPIListener(nil, "gw.example.com", table), refs)
	e.grpc.put(KindCluster, newResource("gw/a/80", nil, nil)) // the Service port's, as proxyless.go publishes it
	e.publishHostAPI("gw.example.com", &hostState{api: api})
	if e.grpc.Get(KindCluster, envoy.UnresolvedBackendCluster) == nil || e.grpc.Get(KindEndpoint, envoy.UnresolvedBackendCluster) == nil {
		t.Fatal("the unresolved share's cluster is not published while a listener names it")
	}
	if err := CheckAll(e.grpc); err != nil {
		t.Errorf("proxyless set: %v", err)
	}
	if e.envoy.Get(KindCluster, envoy.UnresolvedBackendCluster) != nil {
		t.Error("the fleet got the unresolved share's cluster; Envoy must find it missing to answer 500")
	}
	e.publishHostAPI("gw.example.com", nil)
	if e.grpc.Get(KindCluster, envoy.UnresolvedBackendCluster) != nil || e.grpc.Get(KindEndpoint, envoy.UnresolvedBackendCluster) != nil {
		t.Error("the unresolved share's cluster outlives the last listener naming it")
	}
}

// TestValidateGatewayReferences: the offline check counts weighted and
// mirror clusters as references, and not the unresolved share's name,
// which is missing from the fleet by design.
func TestValidateGatewayReferences(t *testing.T) {
	spec := envoy.RouteSpec{Name: "gw/web", Path: "/", Cluster: "gw/a/80", Policy: &envoy.RoutePolicy{
		Weighted: &envoy.Weighted{Clusters: []envoy.ClusterWeight{{Name: "gw/a/80", Weight: 1}, {Name: "gw/b/80", Weight: 1}}, Unresolved: 1},
		Mirrors:  []envoy.Mirror{{Cluster: "gw/m/80"}},
	}}
	rc := envoy.RouteConfiguration("http", []*routev3.VirtualHost{envoy.EdgeVirtualHost("h", []string{"h"}, spec.Routes())})
	clusters := func(names ...string) (out []*clusterv3.Cluster) {
		for _, n := range names {
			out = append(out, envoy.EDSCluster(n))
		}
		return out
	}
	loads := func(names ...string) (out []*endpointv3.ClusterLoadAssignment) {
		for _, n := range names {
			out = append(out, envoy.ClusterLoadAssignment(n, nil))
		}
		return out
	}
	all := []string{"gw/a/80", "gw/b/80", "gw/m/80"}
	if err := validateSet(nil, []*routev3.RouteConfiguration{rc}, clusters(all...), loads(all...), nil); err != nil {
		t.Errorf("with every cluster: %v", err)
	}
	for _, gone := range []string{"gw/b/80", "gw/m/80"} {
		rest := slices.DeleteFunc(slices.Clone(all), func(n string) bool { return n == gone })
		err := validateSet(nil, []*routev3.RouteConfiguration{rc}, clusters(rest...), loads(rest...), nil)
		if err == nil || !strings.Contains(err.Error(), gone) {
			t.Errorf("without %s: %v, want it missing", gone, err)
		}
	}
}

// TestGatewayRouteMirrorUnresolved: a mirror whose Service is missing is
// left out with a Problem naming the mirror, and the route still
// forwards.
func TestGatewayRouteMirrorUnresolved(t *testing.T) {
	_, tr := gatewayScope(t)
	rule := httpRule(prefix("/"), backend("a", 80, 1))
	rule.Rule = 1
	rule.Policy = &policy.Route{Mirrors: []policy.Mirror{{Backend: backend("gone", 80, 1)}}}
	r := tr.gatewayRoute("", rule)
	if r.cluster != "gw/a/80" || len(r.gw.mirrors) != 0 {
		t.Errorf("cluster %q, mirrors %v", r.cluster, r.gw.mirrors)
	}
	if len(tr.problems) != 1 || tr.problems[0].Reason != BackendNotFound || !strings.Contains(tr.problems[0].Message, "spec.rules[1].filters[].requestMirror.backendRef") {
		t.Errorf("problems %v", tr.problems)
	}
}

// TestRedirectPort: the Location's port for the conformance suite's
// httproute-redirect-port-and-scheme cases, on its three listeners: the
// given port, else the new scheme's, else the listener's, and none when
// that is the Location scheme's well-known port (Envoy writes any
// port_redirect it is given, even 443 on https).
func TestRedirectPort(t *testing.T) {
	http80, http8080, https443 := redirectListener{port: 80}, redirectListener{port: 8080}, redirectListener{port: 443, https: true}
	for _, c := range []struct {
		l      redirectListener
		scheme string
		port   uint32
		want   uint32
	}{
		{http80, "", 0, 0}, {http80, "", 80, 0}, {http80, "", 8080, 8080},
		{http80, "https", 0, 0}, {http80, "https", 443, 0}, {http80, "https", 8443, 8443},
		{http8080, "", 0, 8080}, {http8080, "", 80, 0}, {http8080, "https", 0, 0},
		{https443, "", 0, 0}, {https443, "", 443, 0}, {https443, "", 8443, 8443},
		{https443, "http", 0, 0}, {https443, "http", 80, 0}, {https443, "http", 8080, 8080},
		{https443, "", 80, 80}, // http's port on an https Location stays
	} {
		if got := redirectPort(policy.Redirect{Scheme: c.scheme, Port: c.port}, c.l); got != c.want {
			t.Errorf("listener %+v, scheme %q, port %d: port_redirect %d, want %d", c.l, c.scheme, c.port, got, c.want)
		}
	}
	l := &gatewayapi.Listener{Port: 8080, Protocol: "HTTP"}
	rule := httpRule(prefix("/"))
	rule.Policy = &policy.Route{Redirect: &policy.Redirect{Host: "example.org"}}
	_, tr := gatewayScope(t)
	if rd := tr.gatewayRouteOn("", l, rule).spec().Routes()[0].GetRedirect(); rd.GetPortRedirect() != 8080 || rd.GetHostRedirect() != "example.org" {
		t.Errorf("on a listener at 8080: %v, want the listener's port (Envoy drops the request's with a new host)", rd)
	}
}

// TestGatewayHostEncoding: a host whose routes come from an Ingress and
// from Gateway API rules is one virtual host, in precedence order, that
// Envoy's rules accept, encoded as its messages marshal; its references
// name every cluster it forwards or mirrors to and never the unresolved
// share's, and its proxyless listener is valid and names the plain
// clusters and the unresolved share's.
func TestGatewayHostEncoding(t *testing.T) {
	e, tr := gatewayScope(t)
	const host = "a.example.com"
	split := httpRule(prefix("/api"), backend("a", 80, 1), backend("b", 8080, 1))
	split.Invalid = 1
	split.Request = policy.RequestMatch{Headers: []policy.ValueMatch{{Name: "X-Canary", Value: "yes"}}}
	mirrored := httpRule(prefix("/api"), backend("a", 80, 1))
	mirrored.Rule = 1
	mirrored.Policy = &policy.Route{Mirrors: []policy.Mirror{{Backend: backend("m", 80, 1)}}}
	ingress := &httpRoute{host: host, match: pathMatch{path: "/"}, origin: ObjectRef{Kind: "Ingress", Namespace: "gw", Name: "site"}, cluster: "gw/b/8080"}
	own := []*httpRoute{ingress, tr.gatewayRoute(host, mirrored), tr.gatewayRoute(host, split)}
	sortByPrecedence(own)
	if own[0].gw.weighted == nil || own[1].gw.mirrors == nil || own[2] != ingress {
		t.Fatalf("order: the header match, then the plain /api, then the Ingress's /: %+v", own)
	}
	st := &hostState{own: own}
	e.encodeHost(host, st)
	var vh routev3.VirtualHost
	if err := proto.Unmarshal(st.vhost.Bytes, &vh); err != nil {
		t.Fatal(err)
	}
	if err := vh.ValidateAll(); err != nil {
		t.Fatalf("virtual host: %v", err)
	}
	var specs []envoy.RouteSpec
	for _, r := range own {
		specs = append(specs, r.spec())
	}
	if want := envoy.AppendVirtualHost(nil, host, []string{host}, specs); string(want) != string(st.vhost.Bytes) {
		t.Error("the virtual host is not its routes' encoding")
	}
	if got := refClusters(st.vhost.Refs); !slices.Equal(got, []string{"gw/a/80", "gw/b/8080", "gw/m/80"}) {
		t.Errorf("fleet refs %v", got)
	}
	if st.api == nil {
		t.Fatal("no proxyless listener")
	}
	var l listenerv3.Listener
	if err := proto.Unmarshal(st.api.Bytes, &l); err != nil || l.ValidateAll() != nil {
		t.Fatalf("proxyless listener: %v %v", err, l.ValidateAll())
	}
	if got := refClusters(st.api.Refs); !slices.Equal(got, []string{"gw/a/80", "gw/b/8080", envoy.UnresolvedBackendCluster}) {
		t.Errorf("proxyless refs %v", got)
	}
}

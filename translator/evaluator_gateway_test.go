package translator

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/fairwayhq/fairway/envoy"
)

// The evaluator's parts that Gateway API routes use: query parameter
// matches, a missing cluster's answer, request mirrors, prefix rewrites
// and the header edits of every level of a route table. The matchers
// (present, invert, :method, path_separated_prefix) live beside the
// others in evaluator_test.go and evaluator_canary_test.go.

// mirror is one request_mirror_policies entry: a copy of the request
// goes to cluster, for percent of the requests.
type mirror struct {
	cluster string
	percent float64
}

// headerSet is a request's or response's headers by lower-case name, each
// with its values in order; the backend sees several values of one name
// joined by ",", as the conformance suite's echo server reports them.
type headerSet map[string][]string

func (h headerSet) get(name string) (string, bool) {
	v, ok := h[strings.ToLower(name)]
	return strings.Join(v, ","), ok
}

func headerSetOf(m map[string]string) headerSet {
	out := headerSet{}
	for k, v := range m {
		out[strings.ToLower(k)] = append(out[strings.ToLower(k)], v)
	}
	return out
}

func (h headerSet) clone() headerSet {
	out := headerSet{}
	for k, v := range h {
		out[k] = slices.Clone(v)
	}
	return out
}

func init() { configEffects = append(configEffects, headerEditsEffect) }

// clusterNotFoundStatus is what Envoy answers when a route's cluster is
// not among those it holds: a missing backend, or a weighted share kept
// for refs that do not resolve.
func clusterNotFoundStatus(t *testing.T, a *routev3.RouteAction) int {
	t.Helper()
	switch a.GetClusterNotFoundResponseCode() {
	case routev3.RouteAction_SERVICE_UNAVAILABLE:
		return 503
	case routev3.RouteAction_NOT_FOUND:
		return 404
	case routev3.RouteAction_INTERNAL_SERVER_ERROR:
		return 500
	}
	t.Fatalf("cluster_not_found_response_code %v: not one this evaluator knows", a.GetClusterNotFoundResponseCode())
	return 0
}

// mirrorsOf are a route's request mirrors with the share of requests each
// copies (all, when runtime_fraction is unset).
func mirrorsOf(t *testing.T, a *routev3.RouteAction) []mirror {
	t.Helper()
	var out []mirror
	for _, p := range a.GetRequestMirrorPolicies() {
		onlyFields(t, "request mirror policy", p, "cluster", "runtime_fraction", "trace_sampled", "disable_shadow_host_suffix_append")
		m := mirror{cluster: p.GetCluster(), percent: 100}
		if f := p.GetRuntimeFraction(); f != nil {
			if f.GetRuntimeKey() != "" {
				t.Fatalf("mirror to %s: a runtime key, which no fleet sets", p.GetCluster())
			}
			den := map[string]float64{"HUNDRED": 100, "TEN_THOUSAND": 10000, "MILLION": 1000000}[f.GetDefaultValue().GetDenominator().String()]
			m.percent = 100 * float64(f.GetDefaultValue().GetNumerator()) / den
		}
		out = append(out, m)
	}
	return out
}

// queryMatches is Envoy's QueryParameterMatcher: the parameter's first
// value, URL-decoded, against the string matcher, or its presence.
func queryMatches(t *testing.T, q *routev3.QueryParameterMatcher, full string) bool {
	t.Helper()
	onlyFields(t, "query parameter matcher", q, "name", "string_match", "present_match")
	_, query, _ := strings.Cut(full, "?")
	value, found := "", false
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k, err := url.QueryUnescape(k); err == nil && k == q.GetName() {
			value, _ = url.QueryUnescape(v)
			found = true
			break
		}
	}
	if q.GetPresentMatch() {
		return found
	}
	if q.GetStringMatch() == nil {
		t.Fatalf("query parameter matcher %v: neither string nor present match", q)
	}
	return found && stringMatches(t, q.GetStringMatch(), value)
}

// isGRPC is Envoy's test for a route's grpc match: the request's
// content-type is application/grpc, or application/grpc+<codec>.
func isGRPC(req request) bool {
	ct, _ := pseudoOrHeader(req, "content-type")
	return ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+")
}

// prefixRewrite is Envoy's prefix_rewrite: the part of the path the route
// matched (a prefix, a path-separated prefix, or the whole exact path) is
// swapped for rewrite; the query is kept. Envoy refuses prefix_rewrite on
// a regex match.
func prefixRewrite(t *testing.T, m *routev3.RouteMatch, rewrite, full string) string {
	t.Helper()
	path, query, hasQuery := strings.Cut(full, "?")
	var n int
	switch {
	case m.GetPrefix() != "":
		n = len(m.GetPrefix())
	case m.GetPathSeparatedPrefix() != "":
		n = len(m.GetPathSeparatedPrefix())
	case m.GetPath() != "":
		n = len(path)
	default:
		t.Fatalf("prefix_rewrite %q on a match without a prefix, which Envoy refuses: %v", rewrite, m)
	}
	out := rewrite + path[n:]
	if hasQuery {
		out += "?" + query
	}
	return out
}

// headerLevel is one level's header edits of a route table.
type headerLevel struct {
	what                   string
	requestAdd, respAdd    []*corev3.HeaderValueOption
	requestDrop, respDrops []string
}

// headerEditsEffect computes, for each cluster a forwarded request may
// reach, the request headers the backend sees and the response headers
// the client gets: the weighted cluster's edits, then the route's, the
// virtual host's and the route configuration's (the reverse with
// most_specific_header_mutations_wins), each level removing before it
// adds, as Envoy's header parser does.
func headerEditsEffect(t *testing.T, rc *routev3.RouteConfiguration, req request, out *outcome) {
	t.Helper()
	a := out.route.GetRoute()
	if a == nil {
		return
	}
	if a.GetClusterHeader() != "" {
		t.Fatalf("route %s: cluster_header, which this evaluator does not follow", out.route.GetName())
	}
	common := []headerLevel{
		{"route " + out.route.GetName(), out.route.GetRequestHeadersToAdd(), out.route.GetResponseHeadersToAdd(), out.route.GetRequestHeadersToRemove(), out.route.GetResponseHeadersToRemove()},
		{"virtual host " + out.vhost.GetName(), out.vhost.GetRequestHeadersToAdd(), out.vhost.GetResponseHeadersToAdd(), out.vhost.GetRequestHeadersToRemove(), out.vhost.GetResponseHeadersToRemove()},
		{"route configuration " + rc.GetName(), rc.GetRequestHeadersToAdd(), rc.GetResponseHeadersToAdd(), rc.GetRequestHeadersToRemove(), rc.GetResponseHeadersToRemove()},
	}
	clusters := map[string]headerLevel{}
	if a.GetCluster() != "" {
		clusters[a.GetCluster()] = headerLevel{}
	}
	for _, c := range a.GetWeightedClusters().GetClusters() {
		onlyFields(t, "weighted cluster "+c.GetName(), c, "name", "weight", "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove")
		clusters[c.GetName()] = headerLevel{"weighted cluster " + c.GetName(), c.GetRequestHeadersToAdd(), c.GetResponseHeadersToAdd(), c.GetRequestHeadersToRemove(), c.GetResponseHeadersToRemove()}
	}
	out.seen, out.answered = map[string]headerSet{}, map[string]headerSet{}
	for name, own := range clusters {
		levels := append([]headerLevel{own}, common...)
		if rc.GetMostSpecificHeaderMutationsWins() {
			slices.Reverse(levels)
		}
		sent, got := headerSetOf(req.headers), headerSetOf(req.backendResponse)
		for _, l := range levels {
			applyHeaderEdits(t, l.what, sent, l.requestDrop, l.requestAdd, req)
			applyHeaderEdits(t, l.what, got, l.respDrops, l.respAdd, req)
		}
		out.seen[name], out.answered[name] = sent, got
	}
}

// applyHeaderEdits is one level's headers_to_remove, then its
// headers_to_add by append_action; an empty value is dropped unless
// keep_empty_value.
func applyHeaderEdits(t *testing.T, what string, h headerSet, drop []string, add []*corev3.HeaderValueOption, req request) {
	t.Helper()
	for _, name := range drop {
		delete(h, strings.ToLower(name))
	}
	for _, o := range add {
		onlyFields(t, what+" header", o, "header", "append_action", "keep_empty_value")
		key := strings.ToLower(o.GetHeader().GetKey())
		v, ok := headerValue(t, what, o.GetHeader(), req)
		if !ok || (v == "" && !o.GetKeepEmptyValue()) {
			continue
		}
		_, exists := h[key]
		switch o.GetAppendAction() {
		case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
			h[key] = append(h[key], v)
		case corev3.HeaderValueOption_ADD_IF_ABSENT:
			if !exists {
				h[key] = []string{v}
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
			h[key] = []string{v}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
			if exists {
				h[key] = []string{v}
			}
		}
	}
}

// headerValue is a header value after Envoy's formatter, for the values
// fairway writes: "%%" is "%", and the trusted client address is the one
// command operator; a client certificate's headers are
// clientCertEffect's (ok is false).
func headerValue(t *testing.T, what string, h *corev3.HeaderValue, req request) (string, bool) {
	t.Helper()
	if isClientCertHeader(h.GetKey()) {
		return "", false
	}
	if h.GetValue() == envoy.TrustedClientAddress {
		return trustedClient(req).String(), true
	}
	if len(h.GetRawValue()) > 0 {
		t.Fatalf("%s: header %s has a raw_value, which fairway never writes", what, h.GetKey())
	}
	return unformatPrefixHeader(t, h.GetValue()), true
}

// Hand-built route tables for the parts above.

func exact(v string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: v}}
}

func forward(cluster string) *routev3.Route_Route {
	return &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster}}}
}

func headerOption(key, value string, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: key, Value: value}, AppendAction: action}
}

func oneHost(routes ...*routev3.Route) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{Name: "t", VirtualHosts: []*routev3.VirtualHost{{Name: "any", Domains: []string{"*"}, Routes: routes}}}
}

// TestGatewayEvaluatorMatches: path-separated prefixes, present and
// inverted header matches, :method, query parameters (decoded, first
// value) and case-insensitive paths.
func TestGatewayEvaluatorMatches(t *testing.T) {
	rc := oneHost(
		&routev3.Route{Name: "api", Match: &routev3.RouteMatch{
			PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/api"},
			Headers: []*routev3.HeaderMatcher{
				{Name: "x-present", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}},
				{Name: "x-env", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exact("prod")}, InvertMatch: true},
			},
			QueryParameters: []*routev3.QueryParameterMatcher{{Name: "animal", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: exact("whale")}}},
		}, Action: forward("ns/a/80")},
		&routev3.Route{Name: "exact", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/Exact"}, CaseSensitive: wrapperspb.Bool(false)}, Action: forward("ns/c/80")},
		&routev3.Route{Name: "grpc", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/svc/"}, Grpc: &routev3.RouteMatch_GrpcRouteMatchOptions{}}, Action: forward("ns/g/80")},
		&routev3.Route{Name: "post", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
			Headers: []*routev3.HeaderMatcher{{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exact("POST")}}}}, Action: forward("ns/b/80")},
	)
	present := map[string]string{"X-Present": ""}
	for _, c := range []struct {
		method, path string
		headers      map[string]string
		want         string
	}{
		{"", "/api?animal=whale", present, "ns/a/80"},
		{"", "/api/v1?animal=whale&x=1", present, "ns/a/80"},
		{"", "/api?animal=wh%61le&animal=dolphin", present, "ns/a/80"},
		{"", "/apix?animal=whale", present, "404"},
		{"", "/api?animal=whale", nil, "404"},
		{"", "/api?animal=whale", map[string]string{"X-Present": "1", "X-Env": "prod"}, "404"},
		{"", "/api?animal=whale", map[string]string{"X-Present": "1", "X-Env": "dev"}, "ns/a/80"},
		{"", "/api?animal=dolphin&animal=whale", present, "404"},
		{"POST", "/anything", nil, "ns/b/80"},
		{"POST", "/svc/Echo", map[string]string{"Content-Type": "application/grpc"}, "ns/g/80"},
		{"POST", "/svc/Echo", map[string]string{"Content-Type": "application/grpc+proto"}, "ns/g/80"},
		{"POST", "/svc/Echo", map[string]string{"Content-Type": "application/json"}, "ns/b/80"},
		{"GET", "/anything", nil, "404"},
		{"", "/eXaCt", nil, "ns/c/80"},
		{"", "/exact/more", nil, "404"},
	} {
		out := evaluate(t, rc, request{authority: "h", method: c.method, path: c.path, headers: c.headers})
		got := out.cluster
		if out.status != 0 {
			got = strconv.Itoa(out.status)
		}
		if got != c.want {
			t.Errorf("%s %s %v: %s, want %s", c.method, c.path, c.headers, got, c.want)
		}
	}
}

// TestGatewayEvaluatorHeaderEdits: per cluster of a split, the backend
// sees the weighted cluster's, route's, virtual host's and route
// configuration's edits in that order (the reverse with
// most_specific_header_mutations_wins), and the client the response's.
func TestGatewayEvaluatorHeaderEdits(t *testing.T) {
	const add, set = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	cw := func(name string, w uint32, backend string) *routev3.WeightedCluster_ClusterWeight {
		return &routev3.WeightedCluster_ClusterWeight{Name: name, Weight: wrapperspb.UInt32(w),
			RequestHeadersToAdd: []*corev3.HeaderValueOption{headerOption("Backend", backend, set)}}
	}
	action := &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{
		Clusters: []*routev3.WeightedCluster_ClusterWeight{cw("ns/one/80", 3, "one"), cw("ns/two/80", 1, "two")}}}}
	rc := oneHost(&routev3.Route{Name: "r", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action:                  &routev3.Route_Route{Route: action},
		RequestHeadersToAdd:     []*corev3.HeaderValueOption{headerOption("x-add", "route", add), headerOption("x-set", "route", set), headerOption("x-absent", "route", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS)},
		RequestHeadersToRemove:  []string{"X-Remove"},
		ResponseHeadersToAdd:    []*corev3.HeaderValueOption{headerOption("x-resp", "r", add), headerOption("x-once", "r", corev3.HeaderValueOption_ADD_IF_ABSENT)},
		ResponseHeadersToRemove: []string{"x-drop"},
	})
	rc.VirtualHosts[0].RequestHeadersToAdd = []*corev3.HeaderValueOption{headerOption("x-set", "vh", set)}
	rc.RequestHeadersToAdd = []*corev3.HeaderValueOption{headerOption(envoy.RealIPHeader, envoy.TrustedClientAddress, set)}
	req := request{authority: "h", path: "/", headers: map[string]string{"x-add": "client", "X-Remove": "bye", "X-Set": "client"},
		backendResponse: map[string]string{"x-drop": "1", "X-Resp": "backend", "x-once": "backend"}}

	out := evaluate(t, rc, req)
	if out.split["ns/one/80"] != 3 || out.split["ns/two/80"] != 1 {
		t.Fatalf("split %v", out.split)
	}
	want := map[string]map[string]string{
		"ns/one/80": {"backend": "one", "x-add": "client,route", "x-set": "vh", envoy.RealIPHeader: "192.0.2.1"},
		"ns/two/80": {"backend": "two", "x-add": "client,route", "x-set": "vh", envoy.RealIPHeader: "192.0.2.1"},
	}
	for cluster, headers := range want {
		for k, v := range headers {
			if got, _ := out.seen[cluster].get(k); got != v {
				t.Errorf("%s sees %s %q, want %q", cluster, k, got, v)
			}
		}
		for _, k := range []string{"x-remove", "x-absent"} {
			if got, ok := out.seen[cluster].get(k); ok {
				t.Errorf("%s sees %s %q, want none", cluster, k, got)
			}
		}
		if got, _ := out.answered[cluster].get("x-resp"); got != "backend,r" {
			t.Errorf("%s answers x-resp %q, want backend,r", cluster, got)
		}
		if got, _ := out.answered[cluster].get("x-once"); got != "backend" {
			t.Errorf("%s answers x-once %q, want backend", cluster, got)
		}
		if got, ok := out.answered[cluster].get("x-drop"); ok {
			t.Errorf("%s answers x-drop %q, want none", cluster, got)
		}
	}
	rc.MostSpecificHeaderMutationsWins = true
	if got, _ := evaluate(t, rc, req).seen["ns/one/80"].get("x-set"); got != "route" {
		t.Errorf("most_specific_header_mutations_wins: x-set %q, want the route's", got)
	}
}

// TestGatewayEvaluatorMirrorsAndMissingClusters: mirrors with their
// shares, and what Envoy answers for a cluster it does not hold.
func TestGatewayEvaluatorMirrorsAndMissingClusters(t *testing.T) {
	action := forward("ns/x/80")
	action.Route.RequestMirrorPolicies = []*routev3.RouteAction_RequestMirrorPolicy{{Cluster: "ns/m1/80"},
		{Cluster: "ns/m2/80", RuntimeFraction: &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 25, Denominator: typev3.FractionalPercent_HUNDRED}}},
		{Cluster: "ns/m3/80", RuntimeFraction: &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 5000, Denominator: typev3.FractionalPercent_TEN_THOUSAND}}}}
	rc := oneHost(&routev3.Route{Name: "r", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, Action: action})
	out := evaluate(t, rc, request{authority: "h", path: "/"})
	if want := []mirror{{"ns/m1/80", 100}, {"ns/m2/80", 25}, {"ns/m3/80", 50}}; !slices.Equal(out.mirrors, want) {
		t.Errorf("mirrors %v, want %v", out.mirrors, want)
	}
	if out.clusterNotFound != 503 {
		t.Errorf("a missing cluster answers %d by default, want 503", out.clusterNotFound)
	}
	action.Route.ClusterNotFoundResponseCode = routev3.RouteAction_INTERNAL_SERVER_ERROR
	if got := evaluate(t, rc, request{authority: "h", path: "/"}).clusterNotFound; got != 500 {
		t.Errorf("cluster_not_found_response_code INTERNAL_SERVER_ERROR answers %d, want 500", got)
	}
}

// TestGatewayEvaluatorRewrites: prefix_rewrite swaps what the route
// matched, on the way to the backend and in a redirect's Location.
func TestGatewayEvaluatorRewrites(t *testing.T) {
	rewrite := func(m *routev3.RouteMatch, to string) *routev3.Route {
		a := forward("ns/a/80")
		a.Route.PrefixRewrite = to
		return &routev3.Route{Name: "rw", Match: m, Action: a}
	}
	redirect := func(m *routev3.RouteMatch, r *routev3.RedirectAction) *routev3.Route {
		return &routev3.Route{Name: "rd", Match: m, Action: &routev3.Route_Redirect{Redirect: r}}
	}
	prefix := func(p string) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
	}
	for _, c := range []struct {
		route                *routev3.Route
		path, want, location string
	}{
		{rewrite(prefix("/prefix/"), "/"), "/prefix/one/two?q=1", "/one/two?q=1", ""},
		{rewrite(&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/full"}}, "/new"), "/full?x", "/new?x", ""},
		{rewrite(&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/strip"}}, "/"), "/strip/three", "//three", ""},
		{redirect(prefix("/original-prefix"), &routev3.RedirectAction{PathRewriteSpecifier: &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: "/replacement-prefix"},
			ResponseCode: routev3.RedirectAction_FOUND}), "/original-prefix/lemon", "", "http://h.example/replacement-prefix/lemon"},
		{redirect(prefix("/"), &routev3.RedirectAction{HostRedirect: "example.org", PortRedirect: 8083}), "/port", "", "http://example.org:8083/port"},
		{redirect(prefix("/"), &routev3.RedirectAction{SchemeRewriteSpecifier: &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: "https"}}), "/s?q", "", "https://h.example/s?q"},
		{redirect(prefix("/"), &routev3.RedirectAction{PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/full"}, StripQuery: true}), "/p?q", "", "http://h.example/full"},
	} {
		out := evaluate(t, oneHost(c.route), request{authority: "h.example", path: c.path})
		if c.location != "" {
			if out.location != c.location {
				t.Errorf("%s: Location %q, want %q", c.path, out.location, c.location)
			}
			continue
		}
		if out.path != c.want {
			t.Errorf("%s: the backend sees %q, want %q", c.path, out.path, c.want)
		}
	}
}

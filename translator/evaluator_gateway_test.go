package translator

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

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

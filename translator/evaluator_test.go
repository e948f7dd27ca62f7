package translator

import (
	"crypto/x509"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// request is what the evaluator routes: a request as it reaches the fleet.
type request struct {
	scheme    string // "http" (the default) or "https"
	authority string
	path      string // with the query, if any
	method    string // GET when empty
	headers   map[string]string
	client    netip.Addr // the client address Envoy trusts
	bodySize  int64      // the request body's length in bytes
	// peer is the client certificate the TLS connection was accepted
	// with (evaluator_clientcert_test.go); nil for none.
	peer *x509.Certificate
	// auth is how the auth service of an auth-url answers this request
	// (evaluator_extauth_test.go); nil when the route needs none.
	auth *authAnswer
	// backendResponse are the headers the backend answers with, which
	// the route's response header edits change (evaluator_gateway_test.go).
	backendResponse map[string]string
}

// outcome is what Envoy does with a request, as far as the route table
// decides it.
type outcome struct {
	// status is Envoy's own answer: a direct response, a redirect, 404
	// for no route, 403 for a refused client; 0 when the request is
	// forwarded.
	status   int
	location string // a redirect's Location
	cluster  string // where a forwarded request goes
	// path and host are what the backend sees of a forwarded request.
	path, host string
	// upstreamHeaders are headers the route adds to the forwarded request;
	// responseHeaders are headers Envoy puts on the response (CORS).
	upstreamHeaders, responseHeaders map[string]string
	// hashKey is what picks the endpoint of a consistent-hash cluster:
	// requests with one key reach one endpoint; "" is no hash (any
	// endpoint). setCookie is the affinity cookie Envoy issues with the
	// response (route_affinity_test.go).
	hashKey, setCookie string
	// split is a weighted_clusters action's weight per cluster (canary
	// releases); nil for one cluster. splitByHash: the route's hash key
	// draws the split (requests with one key land on one side), not a
	// random number per request.
	split       map[string]uint32
	splitByHash bool
	// rateLimits are the tokens a request asks of its client's buckets
	// (evaluator_ratelimit_test.go); tokenBuckets.send takes them.
	rateLimits []bucketTake
	// check is the request Envoy sent the auth service (ext_authz); nil
	// when there was none. removedHeaders are the client's request
	// headers the route's own chain removes before anything else sees
	// them (header_mutation).
	check          *authCheck
	removedHeaders map[string]bool
	route          *routev3.Route
	vhost          *routev3.VirtualHost
	// clusterNotFound is Envoy's answer when the cluster a forwarded
	// request goes to is not one it holds (cluster_not_found_response_code,
	// 503 unless set); mirrors are the route's request_mirror_policies.
	clusterNotFound int
	mirrors         []mirror
	// seen are the request headers each cluster the request may reach
	// receives (the client's, after the header edits of the weighted
	// cluster, route, virtual host and route configuration), and answered
	// the response headers the client gets back from each, starting from
	// request.backendResponse; by cluster, lower-case names
	// (evaluator_gateway_test.go).
	seen, answered map[string]headerSet
	// handshakeRefused: the https chain refused the client's TLS handshake
	// (a client certificate it requires, or one its CA did not sign), so
	// no request was made (evaluator_clientcert_test.go).
	handshakeRefused bool
}

// routeEffects follow a matched route's settings beyond its match and
// action, in order: each concern adds its own, in its own test file, with
// the settings it emits. One may end the request by setting status.
var routeEffects []func(t *testing.T, vh *routev3.VirtualHost, r *routev3.Route, req request, out *outcome)

// configEffects follow the route configuration's own settings on a
// forwarded request (headers every route gets), after the route's effects;
// each concern adds its own, in its own test file.
var configEffects []func(t *testing.T, rc *routev3.RouteConfiguration, req request, out *outcome)

// evaluate follows Envoy's documented request routing over a route table,
// for the features fairway emits: virtual host by domain (exact, then the
// longest "*." suffix, then "*"; case-insensitive; port ignored), then the
// first route whose path and header matchers match, then its action and
// the routeEffects. A setting it does not know fails the test, so that
// the evaluator cannot pass over what it does not check.
func evaluate(t *testing.T, rc *routev3.RouteConfiguration, req request) outcome {
	t.Helper()
	host := strings.ToLower(req.authority)
	if rc.GetIgnorePortInHostMatching() {
		host = stripPort(host)
	}
	vh := findVirtualHost(rc, host)
	if vh == nil {
		return outcome{status: 404}
	}
	path, _, _ := strings.Cut(req.path, "?")
	for _, r := range vh.GetRoutes() {
		if !routeMatches(t, r.GetMatch(), req, path) {
			continue
		}
		out := outcome{route: r, vhost: vh, path: req.path, host: req.authority}
		switch a := r.GetAction().(type) {
		case *routev3.Route_DirectResponse:
			out.status = int(a.DirectResponse.GetStatus())
		case *routev3.Route_Redirect:
			out.status, out.location = redirectOf(t, a.Redirect, r.GetMatch(), req)
		case *routev3.Route_Route:
			out.cluster = a.Route.GetCluster()
			out.split, out.splitByHash = weightedSplit(t, a.Route)
			out.clusterNotFound = clusterNotFoundStatus(t, a.Route)
			out.mirrors = mirrorsOf(t, a.Route)
		default:
			t.Fatalf("route %s: an action this evaluator does not know: %T", r.GetName(), a)
		}
		if out.status != 0 {
			// The route's HTTP filters run before the router: source
			// ranges, a CORS preflight or a body limit answer first,
			// whatever the route's redirect or direct response would.
			first := outcome{route: r, path: req.path, host: req.authority}
			if followPerFilterConfig(t, vh, r, req, &first); first.status != 0 {
				return first
			}
			out.rateLimits = first.rateLimits // the tokens it took on the way
		}
		for _, effect := range routeEffects {
			if out.status != 0 && out.status != 200 {
				break
			}
			effect(t, vh, r, req, &out)
		}
		if out.status == 0 {
			for _, effect := range configEffects {
				effect(t, rc, req, &out)
			}
		}
		return out
	}
	return outcome{status: 404}
}

// pick is evaluate for a GET in the clear, told as one string: the
// cluster, the status of Envoy's own answer ("503", "404", ...).
func pick(t *testing.T, rc *routev3.RouteConfiguration, authority, path string) string {
	t.Helper()
	out := evaluate(t, rc, request{authority: authority, path: path})
	if out.status != 0 {
		return strconv.Itoa(out.status)
	}
	return out.cluster
}

func findVirtualHost(rc *routev3.RouteConfiguration, host string) *routev3.VirtualHost {
	var best *routev3.VirtualHost
	bestLen := -1
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			switch {
			case d == host:
				return vh
			case strings.HasPrefix(d, "*.") && strings.HasSuffix(host, d[1:]) && len(host) > len(d)-1 && len(d) > bestLen:
				best, bestLen = vh, len(d)
			case d == "*" && bestLen < 0:
				best, bestLen = vh, 0
			}
		}
	}
	return best
}

// routeMatches is Envoy's route match over path (without the query) and
// the headers fairway matches on.
func routeMatches(t *testing.T, m *routev3.RouteMatch, req request, path string) bool {
	t.Helper()
	onlyFields(t, "route match", m, "prefix", "path", "safe_regex", "path_separated_prefix", "headers", "query_parameters", "case_sensitive", "grpc")
	if !pathMatches(t, m, path) {
		return false
	}
	if m.GetGrpc() != nil && !isGRPC(req) {
		return false
	}
	for _, h := range m.GetHeaders() {
		if !headerMatches(t, h, req) {
			return false
		}
	}
	for _, q := range m.GetQueryParameters() {
		if !queryMatches(t, q, req.path) {
			return false
		}
	}
	return true
}

// pathMatches is the route's path specifier; case_sensitive (true unless
// set) applies to path and prefix, not to a regex, as Envoy documents.
func pathMatches(t *testing.T, m *routev3.RouteMatch, path string) bool {
	t.Helper()
	fold := func(s string) string { return s }
	if cs := m.GetCaseSensitive(); cs != nil && !cs.GetValue() {
		fold = strings.ToLower
	}
	switch {
	case m.GetPath() != "":
		return fold(path) == fold(m.GetPath())
	case m.GetPrefix() != "":
		return strings.HasPrefix(fold(path), fold(m.GetPrefix()))
	case m.GetPathSeparatedPrefix() != "":
		p := fold(m.GetPathSeparatedPrefix())
		return fold(path) == p || strings.HasPrefix(fold(path), p+"/")
	case m.GetSafeRegex() != nil:
		return fullMatch(m.GetSafeRegex().GetRegex(), path)
	default:
		t.Fatalf("a path specifier this evaluator (and gRPC) does not know: %v", m)
		return false
	}
}

// headerMatches is one HeaderMatcher of the kinds fairway emits.
func headerMatches(t *testing.T, h *routev3.HeaderMatcher, req request) bool {
	t.Helper()
	if h.GetName() != ":authority" {
		return requestHeaderMatches(t, h, req)
	}
	value := req.authority
	re := h.GetStringMatch().GetSafeRegex().GetRegex()
	if re == "" {
		t.Fatalf("a header matcher this evaluator does not know: %v", h)
	}
	return regexp.MustCompile(re).MatchString(value) != h.GetInvertMatch()
}

// fullMatch is Envoy's safe_regex: the whole value must match.
func fullMatch(re, value string) bool {
	return regexp.MustCompile(`^(?:` + re + `)$`).MatchString(value)
}

// redirectOf is the status and Location of a redirect action, for the
// fields fairway sets.
func redirectOf(t *testing.T, r *routev3.RedirectAction, m *routev3.RouteMatch, req request) (int, string) {
	t.Helper()
	codes := map[routev3.RedirectAction_RedirectResponseCode]int{
		routev3.RedirectAction_MOVED_PERMANENTLY: 301, routev3.RedirectAction_FOUND: 302,
		routev3.RedirectAction_SEE_OTHER: 303, routev3.RedirectAction_TEMPORARY_REDIRECT: 307,
		routev3.RedirectAction_PERMANENT_REDIRECT: 308,
	}
	scheme := req.scheme
	if scheme == "" {
		scheme = "http"
	}
	if r.GetHttpsRedirect() {
		scheme = "https"
	} else if s := r.GetSchemeRedirect(); s != "" {
		scheme = s
	}
	host := req.authority
	if h := r.GetHostRedirect(); h != "" {
		host = h
	}
	if p := r.GetPortRedirect(); p != 0 {
		host = stripPort(host) + ":" + strconv.Itoa(int(p))
	} else if r.GetHttpsRedirect() || r.GetSchemeRedirect() != "" {
		host = dropDefaultPort(host, req.scheme)
	}
	path := req.path
	if p := r.GetPathRedirect(); p != "" {
		path = p
		if !r.GetStripQuery() {
			if _, q, ok := strings.Cut(req.path, "?"); ok && !strings.Contains(p, "?") {
				path += "?" + q
			}
		}
	} else if p := r.GetPrefixRewrite(); p != "" {
		path = prefixRewrite(t, m, p, req.path)
	} else if rw := r.GetRegexRewrite(); rw != nil {
		path = regexRewrite(t, rw.GetPattern().GetRegex(), rw.GetSubstitution(), req.path)
	}
	if r.GetStripQuery() {
		path, _, _ = strings.Cut(path, "?")
	}
	return codes[r.GetResponseCode()], scheme + "://" + host + path
}

// dropDefaultPort is Envoy's port rule of a scheme redirect (RedirectAction's
// scheme_rewrite_specifier): an explicit port is removed only when it is the
// default of the request's own scheme (":80" on http, ":443" on https);
// any other port stays in the Location.
func dropDefaultPort(authority, scheme string) string {
	if scheme == "" {
		scheme = "http"
	}
	def := map[string]string{"http": "80", "https": "443"}[scheme]
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && authority[i+1:] == def {
		return authority[:i]
	}
	return authority
}

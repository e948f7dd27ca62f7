package envoy

import (
	"strings"
	"time"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ExtAuth asks an HTTP auth service about each request of a route before
// it is forwarded (ingress-nginx's auth-url).
type ExtAuth struct {
	// Cluster reaches the service; URI is its URL's origin
	// (scheme://host[:port]), which Envoy requires beside the cluster.
	Cluster, URI string
	// PathQuery replaces the check request's path: nginx calls the
	// auth URL exactly, where Envoy would otherwise append the request's
	// path (path_prefix).
	PathQuery string
	// UpstreamHeaders are copied from a 200 answer onto the forwarded
	// request (auth-response-headers), lower case.
	UpstreamHeaders []string
	// RequestRedirect is sent as X-Auth-Request-Redirect; "" sends the
	// request's own path and query.
	RequestRedirect string
	// SetCookieOnSuccess passes the answer's Set-Cookie to the client on
	// success too (auth-always-set-cookie).
	SetCookieOnSuccess bool
}

const (
	// ExtAuthErrorStatus answers a request whose auth service could not be
	// asked (unreachable, reset, timed out, or answering 5xx): nginx's
	// auth_request makes any such failure a 500, and the request is never
	// forwarded.
	ExtAuthErrorStatus = 500
	// ExtAuthTimeout bounds one check: nginx's default proxy_read_timeout
	// for the auth subrequest, which ingress-nginx leaves as the
	// location's (60 s).
	ExtAuthTimeout = 60 * time.Second
	// extAuthzFilter and headerMutationFilter are the filters' names in a
	// route's own chain.
	extAuthzFilter       = "envoy.filters.http.ext_authz"
	headerMutationFilter = "envoy.filters.http.header_mutation"
)

// extAuthFilters are a route's external auth: the ext_authz filter with
// an HTTP service in the route's own chain (the ext_authz filter's
// per-route configuration can only disable it or, for gRPC services,
// add context, so the whole filter rides in filter_chain). A route that
// redirects is not checked (routeChainFilters).
func extAuthFilters(p *RoutePolicy) []*corev3.TypedExtensionConfig {
	if p.ExtAuth == nil {
		return nil
	}
	var out []*corev3.TypedExtensionConfig
	if strip := p.ExtAuth.stripUpstreamHeaders(); strip != nil {
		out = append(out, strip)
	}
	return append(out, &corev3.TypedExtensionConfig{Name: extAuthzFilter, TypedConfig: mustAny(p.ExtAuth.proto())})
}

// stripUpstreamHeaders removes the auth-response-headers a client sent
// itself, before the check: ext_authz only overwrites those the auth
// service's answer carries, so a client's own X-Auth-Request-User would
// otherwise reach the backend whenever the answer leaves it out. nginx
// sets each of them from the answer, empty (so not sent) when the answer
// has none: the backend sees only what the auth service said.
func (a *ExtAuth) stripUpstreamHeaders() *corev3.TypedExtensionConfig {
	if len(a.UpstreamHeaders) == 0 {
		return nil
	}
	m := &headermutationv3.Mutations{}
	for _, h := range a.UpstreamHeaders {
		m.RequestMutations = append(m.RequestMutations, &mutationrulesv3.HeaderMutation{Action: &mutationrulesv3.HeaderMutation_Remove{Remove: h}})
	}
	return &corev3.TypedExtensionConfig{Name: headerMutationFilter, TypedConfig: mustAny(&headermutationv3.HeaderMutation{Mutations: m})}
}

// proto is the filter's configuration. It fails closed:
// failure_mode_allow is off, and a failed check answers
// ExtAuthErrorStatus. The check carries every header of the client's
// request, as nginx's subrequest does, plus the headers ingress-nginx
// adds to it; its body is empty, as ingress-nginx sends none.
func (a *ExtAuth) proto() *extauthzv3.ExtAuthz {
	svc := &extauthzv3.HttpService{
		ServerUri:            &corev3.HttpUri{Uri: a.URI, HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: a.Cluster}, Timeout: durationpb.New(ExtAuthTimeout)},
		PathOverride:         a.PathQuery,
		AuthorizationRequest: &extauthzv3.AuthorizationRequest{HeadersToAdd: a.checkHeaders()},
	}
	resp := &extauthzv3.AuthorizationResponse{}
	if len(a.UpstreamHeaders) > 0 {
		resp.AllowedUpstreamHeaders = exactHeaders(a.UpstreamHeaders)
	}
	if a.SetCookieOnSuccess {
		resp.AllowedClientHeadersOnSuccess = exactHeaders([]string{"set-cookie"})
	}
	if len(a.UpstreamHeaders) > 0 || a.SetCookieOnSuccess {
		svc.AuthorizationResponse = resp
	}
	return &extauthzv3.ExtAuthz{
		Services:            &extauthzv3.ExtAuthz_HttpService{HttpService: svc},
		TransportApiVersion: corev3.ApiVersion_V3,
		FailureModeAllow:    false,
		StatusOnError:       &typev3.HttpStatus{Code: typev3.StatusCode(ExtAuthErrorStatus)},
		AllowedHeaders: &matcherv3.ListStringMatcher{Patterns: []*matcherv3.StringMatcher{{
			MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: ".*"}},
		}}},
	}
}

// checkHeaders are the headers ingress-nginx adds to its auth subrequest,
// in Envoy's substitution formatters: the original URL and method, the
// client's address, the redirect target, and X-Sent-From, which some
// auth services check.
func (a *ExtAuth) checkHeaders() []*corev3.HeaderValue {
	redirect := "%REQ(:path)%"
	if a.RequestRedirect != "" {
		redirect = strings.ReplaceAll(a.RequestRedirect, "%", "%%")
	}
	return []*corev3.HeaderValue{
		{Key: "x-original-url", Value: "%REQ(:scheme)%://%REQ(:authority)%%REQ(:path)%"},
		{Key: "x-original-method", Value: "%REQ(:method)%"},
		{Key: "x-real-ip", Value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"},
		{Key: "x-auth-request-redirect", Value: redirect},
		{Key: "x-sent-from", Value: "nginx-ingress-controller"},
	}
}

func exactHeaders(names []string) *matcherv3.ListStringMatcher {
	out := &matcherv3.ListStringMatcher{}
	for _, n := range names {
		out.Patterns = append(out.Patterns, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: n}, IgnoreCase: true})
	}
	return out
}

package translator

import (
	"maps"
	"net/url"
	"regexp"
	"strings"
	"testing"

	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// authAnswer is how an auth service answers a check: a status with
// headers, or no answer at all (unreachable, reset, timed out).
type authAnswer struct {
	status      int
	headers     map[string]string
	unreachable bool
}

// authCheck is the request Envoy sends the auth service.
type authCheck struct {
	cluster, path, method string
	headers               map[string]string
}

// extAuthEffect follows Envoy's ext_authz filter with an HTTP service as
// its documentation and source describe it: the check goes to the
// cluster with the path replaced (path_override) or prefixed
// (path_prefix), the request's own method, the client headers that
// allowed_headers admit and headers_to_add on top. Only a 200 answer lets
// the request through, with allowed_upstream_headers copied onto it; a
// failed call or a 5xx is an error, answered with status_on_error (403
// when unset) unless failure_mode_allow lets it through; any other answer
// denies with its own status.
func extAuthEffect(t *testing.T, cfg *anypb.Any, req request, out *outcome) {
	t.Helper()
	c := unpack(t, cfg, &extauthzv3.ExtAuthz{})
	svc := c.GetHttpService()
	if svc == nil {
		t.Fatalf("ext_authz without an HTTP service: %v", c)
	}
	out.check = checkRequest(t, c, req, out)
	if req.auth == nil {
		t.Fatalf("route %s calls an auth service, and the request says nothing of its answer", out.route.GetName())
	}
	a := req.auth
	switch {
	case a.unreachable || a.status >= 500:
		if c.GetFailureModeAllow() {
			return
		}
		out.status, out.cluster = 403, ""
		if code := c.GetStatusOnError().GetCode(); code != 0 {
			out.status = int(code)
		}
	case a.status == 200:
		for name, v := range a.headers {
			if listMatches(t, svc.GetAuthorizationResponse().GetAllowedUpstreamHeaders(), name) {
				if out.upstreamHeaders == nil {
					out.upstreamHeaders = map[string]string{}
				}
				out.upstreamHeaders[strings.ToLower(name)] = v
			}
			if listMatches(t, svc.GetAuthorizationResponse().GetAllowedClientHeadersOnSuccess(), name) {
				if out.responseHeaders == nil {
					out.responseHeaders = map[string]string{}
				}
				out.responseHeaders[strings.ToLower(name)] = v
			}
		}
	default:
		out.status, out.cluster = a.status, ""
	}
}

func checkRequest(t *testing.T, c *extauthzv3.ExtAuthz, req request, out *outcome) *authCheck {
	t.Helper()
	svc := c.GetHttpService()
	check := &authCheck{cluster: svc.GetServerUri().GetCluster(), method: req.method, headers: map[string]string{}}
	if check.method == "" {
		check.method = "GET"
	}
	check.path = svc.GetPathPrefix() + req.path
	if o := svc.GetPathOverride(); o != "" {
		check.path = o
	}
	for name, v := range req.headers {
		if out.removedHeaders[strings.ToLower(name)] {
			continue
		}
		if listMatches(t, c.GetAllowedHeaders(), name) || strings.EqualFold(name, "authorization") {
			check.headers[strings.ToLower(name)] = v
		}
	}
	for _, h := range svc.GetAuthorizationRequest().GetHeadersToAdd() {
		check.headers[strings.ToLower(h.GetKey())] = format(t, h.GetValue(), req)
	}
	return check
}

// headerMutationEffect removes request headers (the only mutation
// fairway's chains make); any other mutation fails the test.
func headerMutationEffect(t *testing.T, cfg *anypb.Any, _ request, out *outcome) {
	t.Helper()
	m := unpack(t, cfg, &headermutationv3.HeaderMutation{})
	if len(m.GetMutations().GetResponseMutations()) > 0 || len(m.GetMutations().GetQueryParameterMutations()) > 0 {
		t.Fatalf("a header mutation this evaluator does not follow: %v", m)
	}
	for _, h := range m.GetMutations().GetRequestMutations() {
		name := h.GetRemove()
		if name == "" {
			t.Fatalf("a request header mutation this evaluator does not follow: %v", h)
		}
		if out.removedHeaders == nil {
			out.removedHeaders = map[string]bool{}
		}
		out.removedHeaders[strings.ToLower(name)] = true
	}
}

func listMatches(t *testing.T, l *matcherv3.ListStringMatcher, v string) bool {
	t.Helper()
	for _, m := range l.GetPatterns() {
		if stringMatches(t, m, v) {
			return true
		}
	}
	return false
}

// formatOperator is one of Envoy's substitution operators in a header
// value; "%%" is a literal "%".
var formatOperator = regexp.MustCompile(`%%|%[A-Z_]+(\([^)]*\))?%`)

// format expands the substitution operators fairway writes into header
// values; an operator it does not know fails the test.
func format(t *testing.T, v string, req request) string {
	t.Helper()
	scheme := req.scheme
	if scheme == "" {
		scheme = "http"
	}
	method := req.method
	if method == "" {
		method = "GET"
	}
	return formatOperator.ReplaceAllStringFunc(v, func(op string) string {
		switch op {
		case "%%":
			return "%"
		case "%REQ(:scheme)%":
			return scheme
		case "%REQ(:authority)%":
			return req.authority
		case "%REQ(:path)%":
			return req.path
		case "%REQ(:method)%":
			return method
		case "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%":
			return req.client.String()
		}
		t.Fatalf("substitution operator %s, which this evaluator does not know", op)
		return ""
	})
}

// authed is a request whose auth service answers as a says.
func authed(r request, a authAnswer) request { r.auth = &a; return r }

// TestExtAuthOutcomes: what a client gets behind auth-url, by the auth
// service's answer, and what the auth service is asked. ingress-nginx's
// auth_request lets a 2xx through, passes 401 and 403 on, and makes
// anything else (an error, no answer) a 500; the request is forwarded
// only on an allow.
func TestExtAuthOutcomes(t *testing.T) {
	const authURL = "http://auth.example.net:9000/oauth2/auth?tenant=a"
	res := accessInput(t, "e2e.foo.com", nginx("auth-url", authURL, "auth-response-headers", "X-Auth-Request-User"), false)
	rc := res.Routes[0]
	req := get("/app/page?q=1", "Cookie", "_oauth2_proxy=abc", "Authorization", "Bearer t")
	user := map[string]string{"X-Auth-Request-User": "jane", "X-Other": "no"}
	cases := []struct {
		name   string
		answer authAnswer
		status int // 0: forwarded
	}{
		{"allowed (200)", authAnswer{status: 200, headers: user}, 0},
		{"not signed in (401)", authAnswer{status: 401}, 401},
		{"forbidden (403)", authAnswer{status: 403}, 403},
		{"auth service failing (503)", authAnswer{status: 503}, 500},
		{"auth service unreachable or timed out", authAnswer{unreachable: true}, 500},
		// nginx allows any 2xx; Envoy's HTTP ext_authz only a 200: a
		// 202 (oauth2-proxy's /oauth2/auth) is a denial, never a pass.
		{"202: denied by Envoy, allowed by nginx (README)", authAnswer{status: 202}, 202},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := evaluate(t, rc, authed(req, c.answer))
			if out.status != c.status {
				t.Fatalf("status %d, want %d (%+v)", out.status, c.status, out)
			}
			if c.status != 0 {
				if out.cluster != "" {
					t.Fatalf("denied, and forwarded to %s", out.cluster)
				}
				return
			}
			if out.cluster != echo || out.upstreamHeaders["x-auth-request-user"] != "jane" || out.upstreamHeaders["x-other"] != "" {
				t.Fatalf("forwarded %+v, want to %s with X-Auth-Request-User only", out, echo)
			}
		})
	}
	// A client's own X-Auth-Request-User never reaches the backend: it is
	// removed before the check, and only the auth service's is sent on.
	spoof := get("/", "X-Auth-Request-User", "admin")
	if out := evaluate(t, rc, authed(spoof, authAnswer{status: 200})); !out.removedHeaders["x-auth-request-user"] || out.upstreamHeaders["x-auth-request-user"] != "" || out.check.headers["x-auth-request-user"] != "" {
		t.Errorf("a client's X-Auth-Request-User, the auth service silent: %+v; want it removed", out)
	}
	if out := evaluate(t, rc, authed(spoof, authAnswer{status: 200, headers: user})); out.upstreamHeaders["x-auth-request-user"] != "jane" {
		t.Errorf("a client's X-Auth-Request-User, the auth service's jane: %+v; want jane", out)
	}
	check := evaluate(t, rc, authed(req, authAnswer{status: 200})).check
	want := map[string]string{
		"cookie": "_oauth2_proxy=abc", "authorization": "Bearer t",
		"x-original-url": "http://e2e.foo.com/app/page?q=1", "x-original-method": "GET",
		"x-auth-request-redirect": "/app/page?q=1", "x-sent-from": "nginx-ingress-controller", "x-real-ip": "10.0.0.1",
	}
	if check == nil || check.cluster != "ext-authz:http://auth.example.net:9000" || check.path != "/oauth2/auth?tenant=a" || !maps.Equal(check.headers, want) {
		t.Errorf("check request %+v, want the auth URL exactly, with %v", check, want)
	}
}

// TestExtAuthCheckFollowsTheAnnotations: auth-request-redirect replaces
// X-Auth-Request-Redirect as written (a "%" stays a "%"), and
// auth-always-set-cookie passes the auth service's Set-Cookie on success.
func TestExtAuthCheckFollowsTheAnnotations(t *testing.T) {
	res := accessInput(t, "e2e.foo.com", nginx("auth-url", "http://echo.e2e.svc.cluster.local/auth",
		"auth-request-redirect", "https://e2e.foo.com/x?p=100%", "auth-always-set-cookie", "true"), false)
	out := evaluate(t, res.Routes[0], authed(get("/"), authAnswer{status: 200, headers: map[string]string{"Set-Cookie": "s=1"}}))
	if out.status != 0 || out.check.cluster != echo || out.check.path != "/auth" {
		t.Fatalf("%+v, check %+v: want forwarded after a check to %s at /auth", out, out.check, echo)
	}
	if got := out.check.headers["x-auth-request-redirect"]; got != "https://e2e.foo.com/x?p=100%" {
		t.Errorf("X-Auth-Request-Redirect %q", got)
	}
	if out.responseHeaders["set-cookie"] != "s=1" {
		t.Errorf("response headers %v, want the auth service's Set-Cookie", out.responseHeaders)
	}
	if _, err := url.Parse(out.check.headers["x-original-url"]); err != nil {
		t.Errorf("X-Original-URL %q: %v", out.check.headers["x-original-url"], err)
	}
}

// TestExtAuthProxylessFailsClosed: a gRPC client runs no ext_authz, so the
// proxyless route of an Ingress with auth-url answers 403 instead of
// forwarding unchecked; the fleet's route checks.
func TestExtAuthProxylessFailsClosed(t *testing.T) {
	res := accessInput(t, "grpc.foo.com", nginx("auth-url", "https://auth.example.net/check"), true)
	req := get("/pkg.Svc/Call")
	req.authority = "grpc.foo.com"
	if out := evaluate(t, proxylessRoutes(t, res, "grpc.foo.com"), req); out.status != 403 || out.cluster != "" || out.check != nil {
		t.Errorf("proxyless %+v, want a 403 direct response", out)
	}
	if out := evaluate(t, res.Routes[0], authed(req, authAnswer{status: 401})); out.status != 401 || out.check == nil {
		t.Errorf("fleet %+v, want the check's 401", out)
	}
}

// TestExtAuthMissingServiceFailsClosed: an auth-url naming a Service that
// does not exist leaves nothing to ask, so the route answers 503 without
// forwarding; once the Service exists, the route checks.
func TestExtAuthMissingServiceFailsClosed(t *testing.T) {
	res := accessInput(t, "e2e.foo.com", nginx("auth-url", "http://oauth2-proxy.auth.svc/oauth2/auth"), false)
	if out := evaluate(t, res.Routes[0], get("/")); out.status != 503 || out.cluster != "" {
		t.Errorf("%+v, want 503", out)
	}
	if !hasProblem(res, BackendNotFound, "auth/oauth2-proxy") {
		t.Errorf("problems %v, want BackendNotFound naming auth/oauth2-proxy", res.Problems)
	}
	// A bare <service>.<namespace> is the Service while it exists, and
	// a name looked up by DNS while it does not (the pod's search path).
	res = accessInput(t, "e2e.foo.com", nginx("auth-url", "http://echo.e2e/oauth2/auth"), false)
	if out := evaluate(t, res.Routes[0], authed(get("/"), authAnswer{status: 200})); out.check == nil || out.check.cluster != echo {
		t.Errorf("%+v, check %+v: want checked by %s", out, out.check, echo)
	}
	res = accessInput(t, "e2e.foo.com", nginx("auth-url", "http://nope.e2e/oauth2/auth"), false)
	if out := evaluate(t, res.Routes[0], authed(get("/"), authAnswer{status: 200})); out.check == nil || out.check.cluster != "ext-authz:http://nope.e2e:80" {
		t.Errorf("%+v, check %+v: want checked through a DNS cluster", out, out.check)
	}
	res = accessInput(t, "e2e.foo.com", nginx("auth-url", "http://echo.e2e.svc/oauth2/auth"), false)
	if out := evaluate(t, res.Routes[0], authed(get("/"), authAnswer{status: 200})); out.status != 0 || out.check == nil {
		t.Errorf("%+v, want forwarded after a check", out)
	}
}

func hasProblem(res Result, reason Reason, text string) bool {
	for _, p := range res.Problems {
		if p.Reason == reason && strings.Contains(p.Message, text) {
			return true
		}
	}
	return false
}

// TestExtAuthSigninIsNotServed: Envoy cannot turn the auth service's 401
// into nginx's redirect to auth-signin with the escaped URL, so the
// Ingress is not served: its requests reach nothing (404), neither the
// backend nor a bare 401 where users expect a login.
func TestExtAuthSigninIsNotServed(t *testing.T) {
	res := accessInput(t, "e2e.foo.com", nginx("auth-url", "http://echo.e2e.svc/auth", "auth-signin", "https://e2e.foo.com/oauth2/start?rd=$escaped_request_uri"), false)
	if !hasProblem(res, RefusedAnnotation, "auth-signin") {
		t.Errorf("problems %v, want auth-signin refused", res.Problems)
	}
	if out := evaluate(t, res.Routes[0], authed(get("/"), authAnswer{status: 401})); out.status != 404 || out.cluster != "" || out.check != nil {
		t.Errorf("%+v, want 404: the Ingress is not served", out)
	}
}

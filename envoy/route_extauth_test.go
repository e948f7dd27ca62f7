package envoy

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestExtAuthProtoIsValidAndFailsClosed: the filter's configuration
// passes Envoy's own field rules, calls exactly the auth URL's path, and
// never lets a request through when the check fails.
func TestExtAuthProtoIsValidAndFailsClosed(t *testing.T) {
	a := &ExtAuth{Cluster: "auth/oauth2-proxy/4180", URI: "http://oauth2-proxy.auth.svc:4180", PathQuery: "/oauth2/auth?x=1",
		UpstreamHeaders: []string{"x-auth-request-user"}, RequestRedirect: "/home?p=5%", SetCookieOnSuccess: true}
	c := a.proto()
	if err := c.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	svc := c.GetHttpService()
	if c.GetFailureModeAllow() || c.GetStatusOnError().GetCode() != ExtAuthErrorStatus || svc.GetPathPrefix() != "" || svc.GetPathOverride() != "/oauth2/auth?x=1" {
		t.Errorf("%v: want fail closed with %d and the path overridden", c, ExtAuthErrorStatus)
	}
	for _, h := range svc.GetAuthorizationRequest().GetHeadersToAdd() {
		if h.GetKey() == "x-auth-request-redirect" && h.GetValue() != "/home?p=5%%" {
			t.Errorf("X-Auth-Request-Redirect %q: a literal %% must be doubled for Envoy's formatter", h.GetValue())
		}
	}
}

func TestExtAuthProxylessAnswers403(t *testing.T) {
	p := &RoutePolicy{ExtAuth: &ExtAuth{Cluster: "c", URI: "http://a", PathQuery: "/"}}
	r := &routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{}}}
	p.apply(r, false)
	if r.GetDirectResponse().GetStatus() != ForbiddenStatus || len(r.GetTypedPerFilterConfig()) != 0 {
		t.Errorf("proxyless %v: want a 403 direct response", r)
	}
	r = &routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "x"}}}}
	p.apply(r, true)
	if r.GetRoute().GetCluster() != "x" || r.GetTypedPerFilterConfig()[filterChainFilter] == nil {
		t.Errorf("fleet %v: want forwarding with ext_authz in the route's chain", r)
	}
}

func TestAuthDNSCluster(t *testing.T) {
	name := AuthDNSClusterName("https", "auth.example.com", 443)
	if name != "ext-authz:https://auth.example.com:443" || !strings.Contains(name, ":") {
		t.Errorf("name %q", name)
	}
	if v6 := AuthDNSClusterName("http", "2001:db8::1", 80); v6 != "ext-authz:http://[2001:db8::1]:80" {
		t.Errorf("IPv6 name %q", v6)
	}
	c := AuthDNSCluster(name, "auth.example.com", 443, true)
	if err := c.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	if c.GetType().String() != "STRICT_DNS" || c.GetTransportSocket() == nil {
		t.Errorf("%v: want STRICT_DNS over TLS", c)
	}
	if plain := AuthDNSCluster("n", "10.0.0.1", 80, false); plain.GetTransportSocket() != nil || plain.ValidateAll() != nil {
		t.Errorf("plain http cluster %v", plain)
	}
}

// TestExtAuthNotBeforeARedirect: nginx redirects before auth_request, and
// a redirect reaches no backend, so a redirecting route runs no check.
func TestExtAuthNotBeforeARedirect(t *testing.T) {
	a := &ExtAuth{Cluster: "c", URI: "http://a", PathQuery: "/"}
	chain := func(p *RoutePolicy) map[string]*anypb.Any {
		r := &routev3.Route{Match: &routev3.RouteMatch{}, Action: &routev3.Route_Route{Route: &routev3.RouteAction{}}}
		p.apply(r, true)
		return r.GetTypedPerFilterConfig()
	}
	for _, p := range []*RoutePolicy{{ExtAuth: a, HTTPSRedirect: true}, {ExtAuth: a, Paths: PathPolicy{Redirect: &Redirect{Host: "x.example.com", Code: 301}}}} {
		if f := chain(p); f[filterChainFilter] != nil {
			t.Errorf("%+v: the route's own chain %v, want none", p, f)
		}
	}
	if f := chain(&RoutePolicy{ExtAuth: a}); f[filterChainFilter] == nil {
		t.Errorf("a forwarding route: per-filter configs %v, want ext_authz in the route's own chain", f)
	}
}

// TestExtAuthStripsClientCopiesOfAuthHeaders: with auth-response-headers,
// the route's chain first removes the client's own copies of them, then
// checks; without, it only checks.
func TestExtAuthStripsClientCopiesOfAuthHeaders(t *testing.T) {
	a := &ExtAuth{Cluster: "c", URI: "http://a", PathQuery: "/", UpstreamHeaders: []string{"x-auth-request-email", "x-auth-request-user"}}
	f := extAuthFilters(&RoutePolicy{ExtAuth: a})
	if len(f) != 2 || f[0].GetName() != headerMutationFilter || f[1].GetName() != extAuthzFilter {
		t.Fatalf("chain %v: want header_mutation, then ext_authz", f)
	}
	m := &headermutationv3.HeaderMutation{}
	if err := f[0].GetTypedConfig().UnmarshalTo(m); err != nil {
		t.Fatal(err)
	}
	if err := m.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, r := range m.GetMutations().GetRequestMutations() {
		removed = append(removed, r.GetRemove())
	}
	if strings.Join(removed, ",") != "x-auth-request-email,x-auth-request-user" {
		t.Errorf("removed %v", removed)
	}
}

package envoy

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

func TestConsistentHashCluster(t *testing.T) {
	c := UpstreamCluster("shop/web/80/maglev", Upstream{ConsistentHash: true})
	if err := c.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	if c.GetLbPolicy() != clusterv3.Cluster_MAGLEV {
		t.Errorf("lb_policy = %v, want MAGLEV", c.GetLbPolicy())
	}
}

// TestAffinityCookieRoute: the fleet's route hashes the cookie and has
// Envoy issue it (a ttl is set, 0 for a session cookie) with its
// attributes; the proxyless route, on the plain cluster, has no hash.
func TestAffinityCookieRoute(t *testing.T) {
	spec := RouteSpec{Name: "shop/web", Path: "/", Cluster: "shop/web/80/maglev", Policy: &RoutePolicy{
		Hash: &HashPolicy{Cookie: &AffinityCookie{Name: "INGRESSCOOKIE", Path: "/", SameSite: "Lax", Secure: true}},
	}}
	r := spec.Routes()[0]
	if err := r.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	hp := r.GetRoute().GetHashPolicy()
	if len(hp) != 1 {
		t.Fatalf("hash policies = %v, want one", hp)
	}
	c := hp[0].GetCookie()
	if c.GetName() != "INGRESSCOOKIE" || c.GetTtl() == nil || c.GetTtl().AsDuration() != 0 || c.GetPath() != "/" {
		t.Errorf("cookie = %v, want INGRESSCOOKIE, ttl 0s (issued as a session cookie), path /", c)
	}
	attrs := map[string]string{}
	for _, a := range c.GetAttributes() {
		attrs[a.GetName()] = a.GetValue()
	}
	if v, ok := attrs["Secure"]; len(attrs) != 2 || attrs["SameSite"] != "Lax" || !ok || v != "" {
		t.Errorf("attributes = %v, want SameSite=Lax and Secure", attrs)
	}
	if got := spec.routes(false)[0].GetRoute().GetHashPolicy(); got != nil {
		t.Errorf("proxyless route has a hash policy: %v", got)
	}
}

func TestHashPolicyForms(t *testing.T) {
	for _, tc := range []struct {
		h    HashPolicy
		want func(*routev3.RouteAction_HashPolicy) bool
	}{
		{HashPolicy{SourceIP: true}, func(p *routev3.RouteAction_HashPolicy) bool { return p.GetConnectionProperties().GetSourceIp() }},
		{HashPolicy{Header: ":path"}, func(p *routev3.RouteAction_HashPolicy) bool {
			return p.GetHeader().GetHeaderName() == ":path" && p.GetHeader().GetRegexRewrite() == nil
		}},
		{HashPolicy{Header: ":path", WithoutQuery: true}, func(p *routev3.RouteAction_HashPolicy) bool {
			rw := p.GetHeader().GetRegexRewrite()
			return p.GetHeader().GetHeaderName() == ":path" && rw.GetPattern().GetRegex() == `\?.*` && rw.GetSubstitution() == ""
		}},
		{HashPolicy{ClientCookie: "session"}, func(p *routev3.RouteAction_HashPolicy) bool {
			return p.GetCookie().GetName() == "session" && p.GetCookie().GetTtl() == nil
		}},
		{HashPolicy{Cookie: &AffinityCookie{Name: "route", TTL: time.Hour}}, func(p *routev3.RouteAction_HashPolicy) bool {
			return p.GetCookie().GetName() == "route" && p.GetCookie().GetTtl().AsDuration() == time.Hour && p.GetCookie().GetPath() == ""
		}},
	} {
		m := tc.h.message()
		if err := m.ValidateAll(); err != nil || !tc.want(m) {
			t.Errorf("%+v: %v (%v)", tc.h, m, err)
		}
	}
}

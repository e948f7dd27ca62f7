package annotations

import (
	"testing"

	"github.com/fairwayhq/fairway/translator/policy"
)

func TestParseAuthURL(t *testing.T) {
	cases := map[string]policy.AuthURL{
		"http://oauth2-proxy.auth.svc.cluster.local/oauth2/auth": {Scheme: "http", Host: "oauth2-proxy.auth.svc.cluster.local", Port: 80, PathQuery: "/oauth2/auth", Service: "oauth2-proxy", Namespace: "auth"},
		"HTTPS://OAuth2-Proxy.Auth.svc:8443/a%20b?x=1&y=2":       {Scheme: "https", Host: "oauth2-proxy.auth.svc", Port: 8443, PathQuery: "/a%20b?x=1&y=2", Service: "oauth2-proxy", Namespace: "auth"},
		"https://auth.example.com":                               {Scheme: "https", Host: "auth.example.com", Port: 443, PathQuery: "/"},
		// A bare <service>.<namespace> is that Service while it exists
		// (the pod's DNS search path), else a name on the internet.
		"http://oauth2-proxy.auth/check":   {Scheme: "http", Host: "oauth2-proxy.auth", Port: 80, PathQuery: "/check", Service: "oauth2-proxy", Namespace: "auth", Short: true},
		"http://10.0.0.7:4180/oauth2/auth": {Scheme: "http", Host: "10.0.0.7", Port: 4180, PathQuery: "/oauth2/auth"},
		"http://[2001:db8::1]/auth":        {Scheme: "http", Host: "2001:db8::1", Port: 80, PathQuery: "/auth"},
		"http://a.b.c.svc.cluster.local/":  {Scheme: "http", Host: "a.b.c.svc.cluster.local", Port: 80, PathQuery: "/"},
	}
	for v, want := range cases {
		if got, err := parseAuthURL(v); err != nil || got != want {
			t.Errorf("parseAuthURL(%q) = %+v, %v; want %+v", v, got, err, want)
		}
	}
	for _, v := range []string{
		"", "auth.example.com/check", "ftp://auth.example.com/", "https://$host/oauth2/auth", "http://auth/$request_uri",
		"http://user:pw@auth.example.com/", "http://auth.example.com:0/", "http://auth.example.com:70000/",
		"http://auth.example.com/#frag", "http://bad_host.example.com/", "http://[::1", "mailto:a@b.c",
	} {
		if got, err := parseAuthURL(v); err == nil {
			t.Errorf("parseAuthURL(%q) = %+v; want an error", v, got)
		}
	}
}

// TestExtAuthKinds: what becomes of each auth key: honoured, refused
// (the Ingress is not served), unsupported (served, checked), invalid.
func TestExtAuthKinds(t *testing.T) {
	const url = "http://oauth2-proxy.auth.svc/oauth2/auth"
	cases := []struct {
		key, value string
		kind       Kind // 0: honoured
		blocks     bool
	}{
		{"auth-response-headers", "X-User, x-email,X-User", 0, false},
		{"auth-request-redirect", "/home", 0, false},
		{"auth-always-set-cookie", "true", 0, false},
		{"enable-global-auth", "false", 0, false},
		{"auth-method", "GET", Refused, true},
		{"auth-signin", "https://login.example.com/start", Refused, true},
		{"auth-signin-redirect-param", "next", Refused, true},
		{"auth-proxy-set-headers", "auth/headers", Refused, true},
		{"auth-snippet", "return 200;", Refused, true},
		{"auth-cache-key", "$remote_user", Unsupported, false},
		{"auth-cache-duration", "200 5m", Unsupported, false},
		{"auth-keepalive", "10", Unsupported, false},
		{"enable-global-auth", "true", Unsupported, false},
		{"auth-keepalive", "ten", Invalid, false},
		{"auth-response-headers", "X User", Invalid, true},
		{"auth-request-redirect", "$request_uri", Invalid, true},
		{"auth-always-set-cookie", "yes", Invalid, true},
	}
	for _, c := range cases {
		r, found := Parse(map[string]string{NginxPrefix + "auth-url": url, NginxPrefix + c.key: c.value})
		if c.kind == 0 {
			if len(found) != 0 || r.ExtAuth == nil || r.ExtAuth.URL.Service != "oauth2-proxy" {
				t.Errorf("%s=%q: %+v, %+v; want honoured", c.key, c.value, r.ExtAuth, found)
			}
			continue
		}
		if len(found) != 1 || found[0].Kind != c.kind || found[0].Blocks != c.blocks || found[0].Key != NginxPrefix+c.key {
			t.Errorf("%s=%q: %+v; want one finding of kind %d, blocks %t", c.key, c.value, found, c.kind, c.blocks)
		}
	}
	r, _ := Parse(map[string]string{NginxPrefix + "auth-url": url, NginxPrefix + "auth-response-headers": "X-User, x-email,X-User"})
	if got := r.ExtAuth.ResponseHeaders; len(got) != 2 || got[0] != "x-email" || got[1] != "x-user" {
		t.Errorf("response headers %v, want [x-email x-user]", got)
	}
	r, found := Parse(map[string]string{NginxPrefix + "auth-response-headers": "X-User"})
	if r.ExtAuth != nil || len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks {
		t.Errorf("without auth-url: %+v, %+v; want the companions dropped with one finding", r.ExtAuth, found)
	}
}

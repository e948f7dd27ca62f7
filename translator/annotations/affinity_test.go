package annotations

import (
	"strings"
	"testing"
	"time"

	"github.com/fairwayhq/fairway/translator/policy"
)

func TestParseUpstreamHashBy(t *testing.T) {
	for value, want := range map[string]policy.HashKey{
		"$remote_addr":          {SourceIP: true},
		" $binary_remote_addr ": {SourceIP: true},
		"$request_uri":          {Header: ":path"},
		"$uri":                  {Header: ":path", WithoutQuery: true},
		"$http_x_user_id":       {Header: "x-user-id"},
		"$cookie_SESSION":       {Cookie: "SESSION"},
	} {
		var r policy.Route
		if err := parseUpstreamHashBy(value, &r); err != nil || r.Affinity.HashBy == nil || *r.Affinity.HashBy != want {
			t.Errorf("%q: got %+v, %v; want %+v", value, r.Affinity.HashBy, err, want)
		}
	}
	for _, value := range []string{"", "$host", "$remote_addr$request_uri", "user-$uri", "$http_", "$http_X_User", "$cookie_a;b", "$cookie_", "remote_addr"} {
		var r policy.Route
		if err := parseUpstreamHashBy(value, &r); err == nil || r.Affinity.HashBy != nil {
			t.Errorf("%q: got %+v, %v; want an error and nothing set", value, r.Affinity.HashBy, err)
		}
	}
}

func TestParseSessionCookie(t *testing.T) {
	r, found := Parse(map[string]string{
		NginxPrefix + "affinity":                         "cookie",
		NginxPrefix + "session-cookie-name":              "route",
		FairwayPrefix + "session-cookie-path":            "/shop",
		NginxPrefix + "session-cookie-max-age":           "60",
		NginxPrefix + "session-cookie-expires":           "172800",
		NginxPrefix + "session-cookie-samesite":          "strict",
		NginxPrefix + "session-cookie-secure":            "true",
		NginxPrefix + "affinity-mode":                    "balanced",
		NginxPrefix + "session-cookie-change-on-failure": "false",
	})
	if len(found) != 0 {
		t.Fatalf("findings: %+v", found)
	}
	c := r.Affinity.Cookie
	if c == nil || !c.Enabled || c.Name != "route" || c.Path != "/shop" || *c.MaxAge != time.Minute || *c.Expires != 48*time.Hour || c.SameSite != "Strict" || !c.Secure {
		t.Errorf("cookie = %+v", c)
	}
	for key, value := range map[string]string{
		"session-cookie-name": "a b", "session-cookie-path": "shop", "session-cookie-max-age": "0",
		"session-cookie-expires": "1h", "session-cookie-samesite": "Sometimes", "session-cookie-secure": "yes",
	} {
		r, found := Parse(map[string]string{NginxPrefix + "affinity": "cookie", NginxPrefix + key: value})
		if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks || !strings.Contains(found[0].Message, "ignored") {
			t.Errorf("%s=%q: findings %+v, want one Invalid", key, value, found)
		}
		if c := r.Affinity.Cookie; c == nil || *c != (policy.SessionCookie{Enabled: true}) {
			t.Errorf("%s=%q: cookie %+v, want the defaults", key, value, c)
		}
	}
}

// TestAffinityProblems: what Envoy's hashing cannot honour is reported,
// never silently dropped, and the rest of the affinity still applies.
func TestAffinityProblems(t *testing.T) {
	for key, value := range map[string]string{
		"affinity-mode": "persistent", "affinity-canary-behavior": "always",
		"session-cookie-conditional-samesite-none": "true", "session-cookie-change-on-failure": "true", "upstream-hash-by-subset-size": "3",
		"upstream-hash-by-subset": "true",
	} {
		r, found := Parse(map[string]string{NginxPrefix + "affinity": "cookie", NginxPrefix + key: value})
		if len(found) != 1 || found[0].Key != NginxPrefix+key || found[0].Kind != Invalid {
			t.Errorf("%s=%q: findings %+v, want one naming the key", key, value, found)
		}
		if r.Affinity.Cookie == nil || !r.Affinity.Cookie.Enabled {
			t.Errorf("%s=%q: the cookie affinity was dropped", key, value)
		}
	}
	for key, value := range map[string]string{
		"affinity-mode": "balanced", "session-cookie-conditional-samesite-none": "false",
		"session-cookie-change-on-failure": "false", "upstream-hash-by-subset": "false",
	} {
		if r, found := Parse(map[string]string{NginxPrefix + "affinity": "cookie", NginxPrefix + key: value}); len(found) != 0 || r.Affinity.Cookie == nil {
			t.Errorf("%s=%q (what fairway does): findings %+v", key, value, found)
		}
	}
	r, found := Parse(map[string]string{NginxPrefix + "affinity": "ip", NginxPrefix + "session-cookie-name": "route"})
	if len(found) != 2 || r.Affinity.On() {
		t.Errorf("affinity ip: %+v, %+v; want two findings and no affinity", found, r.Affinity)
	}
	r, found = Parse(map[string]string{NginxPrefix + "affinity": "cookie", NginxPrefix + "upstream-hash-by": "$remote_addr"})
	if len(found) != 1 || found[0].Key != NginxPrefix+"upstream-hash-by" || r.Affinity.HashBy != nil || r.Affinity.Cookie == nil {
		t.Errorf("cookie and hash-by: %+v, %+v; want the cookie to win, reported", found, r.Affinity)
	}
}

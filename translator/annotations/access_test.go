package annotations

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestParseRanges(t *testing.T) {
	cases := map[string][]netip.Prefix{
		"10.0.0.0/8":                        prefixes("10.0.0.0/8"),
		"18.0.0.0/8, 56.0.0.0/8":            prefixes("18.0.0.0/8", "56.0.0.0/8"),
		"192.168.1.7":                       prefixes("192.168.1.7/32"),
		"2001:db8::1":                       prefixes("2001:db8::1/128"),
		"2001:db8::/32,10.1.2.3/8":          prefixes("10.0.0.0/8", "2001:db8::/32"),
		"56.0.0.0/8,18.0.0.0/8,18.0.0.0/8,": prefixes("18.0.0.0/8", "56.0.0.0/8"),
		"::ffff:10.0.0.0/104":               prefixes("10.0.0.0/8"),
		"0.0.0.0/0":                         prefixes("0.0.0.0/0"),
	}
	for v, want := range cases {
		got, err := parseRanges(v)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseRanges(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"", ",", "10.0.0.0/33", "10.0.0", "example.com", "10.0.0.0/8;1.2.3.4", "fe80::1%eth0", "::ffff:10.0.0.0/8", "1.2.3.4/-1"} {
		if got, err := parseRanges(v); err == nil {
			t.Errorf("parseRanges(%q) = %v; want an error", v, got)
		}
	}
}

func TestSourceRangesGuard(t *testing.T) {
	for _, key := range []string{"whitelist-source-range", "allowlist-source-range", "denylist-source-range"} {
		_, found := Parse(map[string]string{NginxPrefix + key: "10.0.0.0/8, not-a-cidr"})
		if len(found) != 1 || found[0].Kind != Invalid || !found[0].Blocks || !strings.Contains(found[0].Message, "not served") {
			t.Errorf("%s: findings %+v; want one Invalid that blocks", key, found)
		}
	}
	r, found := Parse(map[string]string{
		NginxPrefix + "whitelist-source-range": "10.0.0.0/8",
		NginxPrefix + "denylist-source-range":  "10.1.0.0/16",
	})
	if len(found) != 0 || !slices.Equal(r.Access.Allow, prefixes("10.0.0.0/8")) || !slices.Equal(r.Access.Deny, prefixes("10.1.0.0/16")) {
		t.Errorf("allow and deny: %+v, %+v", r.Access, found)
	}
}

func TestAllowListsUnderBothNames(t *testing.T) {
	r, found := Parse(map[string]string{
		NginxPrefix + "whitelist-source-range": "10.0.0.0/8",
		NginxPrefix + "allowlist-source-range": "10.0.0.0/8",
	})
	if len(found) != 0 || !slices.Equal(r.Access.Allow, prefixes("10.0.0.0/8")) {
		t.Errorf("the same list under both names: %+v, %+v", r.Access, found)
	}
	_, found = Parse(map[string]string{
		NginxPrefix + "whitelist-source-range": "10.0.0.0/8",
		NginxPrefix + "allowlist-source-range": "192.168.0.0/16",
	})
	if len(found) != 1 || !found[0].Blocks {
		t.Errorf("two lists that disagree: %+v; want one finding that blocks", found)
	}
}

func TestParseOrigins(t *testing.T) {
	cases := map[string][]string{
		"*":                                  {"*"},
		" * ":                                {"*"},
		"*, foo.bar.com":                     {"*"},
		"https://origin.cors.com:8080":       {"https://origin.cors.com:8080"},
		"https://B.com, http://a.com,":       {"http://a.com", "https://b.com"},
		"https://*.foo.com":                  {"https://*.foo.com"},
		"http://*.bar.foo:8080":              {"http://*.bar.foo:8080"},
		"myprotocol://example.org:1199":      {"myprotocol://example.org:1199"},
		"http://localhost, http://localhost": {"http://localhost"},
	}
	for v, want := range cases {
		got, err := parseOrigins(v)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseOrigins(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"", ",", "foo.com", "https://", "https://a.com/path", "https://*.*.foo.com", "https://a*.foo.com",
		"https://a.com:123456", "https://a.com;more_set_headers", "https://$host"} {
		if got, err := parseOrigins(v); err == nil || got != nil || errors.As(err, new(partialError)) {
			t.Errorf("parseOrigins(%q) = %v, %v; want nothing and an error", v, got, err)
		}
	}
	// A malformed origin among good ones is left out, and said so.
	got, err := parseOrigins("origin.cors.com:8080, https://origin2.cors.com, https://origin.com")
	if !slices.Equal(got, []string{"https://origin.com", "https://origin2.cors.com"}) || !errors.As(err, new(partialError)) ||
		!strings.Contains(err.Error(), `"origin.cors.com:8080"`) {
		t.Errorf("a bad origin among good ones: %v, %v", got, err)
	}
	r, found := Parse(map[string]string{NginxPrefix + "enable-cors": "true", NginxPrefix + "cors-allow-origin": "bad, https://good.com"})
	if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks || !strings.Contains(found[0].Message, "the rest of the value applies") ||
		!slices.Equal(r.CORS.AllowOrigins, []string{"https://good.com"}) {
		t.Errorf("Parse with a bad origin: %+v, %+v", r.CORS, found)
	}
}

func TestParseTokens(t *testing.T) {
	if got, err := parseTokens("POST, GET", methodToken, ""); err != nil || !slices.Equal(got, []string{"POST", "GET"}) {
		t.Errorf("methods: %v, %v", got, err)
	}
	if got, err := parseTokens("DNT,X-CustomHeader, x_y", headerToken, ""); err != nil || !slices.Equal(got, []string{"DNT", "X-CustomHeader", "x_y"}) {
		t.Errorf("headers: %v, %v", got, err)
	}
	if got, err := parseTokens("*", headerToken, ""); err != nil || !slices.Equal(got, []string{"*"}) {
		t.Errorf("headers *: %v, %v", got, err)
	}
	for _, v := range []string{"", " , ", "GET;", "G3T", "GET POST"} {
		if _, err := parseTokens(v, methodToken, ""); err == nil {
			t.Errorf("methods %q: want an error", v)
		}
	}
	for _, v := range []string{"X-A: b", "X A", "$http_x", "X-A\r\nSet-Cookie"} {
		if _, err := parseTokens(v, headerToken, ""); err == nil {
			t.Errorf("headers %q: want an error", v)
		}
	}
}

func TestCORSAnnotations(t *testing.T) {
	r, found := Parse(map[string]string{
		NginxPrefix + "enable-cors":            "true",
		NginxPrefix + "cors-allow-origin":      "https://*.foo.com",
		NginxPrefix + "cors-allow-methods":     "POST, GET",
		NginxPrefix + "cors-allow-headers":     "DNT, User-Agent",
		NginxPrefix + "cors-expose-headers":    "X-Request-Id",
		NginxPrefix + "cors-allow-credentials": "false",
		NginxPrefix + "cors-max-age":           "200",
	})
	if len(found) != 0 {
		t.Fatalf("findings %+v", found)
	}
	c := r.CORS
	if !c.Enabled || !slices.Equal(c.AllowOrigins, []string{"https://*.foo.com"}) || !slices.Equal(c.AllowMethods, []string{"POST", "GET"}) ||
		!slices.Equal(c.AllowHeaders, []string{"DNT", "User-Agent"}) || !slices.Equal(c.ExposeHeaders, []string{"X-Request-Id"}) ||
		c.AllowCredentials == nil || *c.AllowCredentials || c.MaxAge == nil || *c.MaxAge != 200*time.Second {
		t.Errorf("cors %+v", c)
	}
	r, found = Parse(map[string]string{NginxPrefix + "enable-cors": "true"})
	if len(found) != 0 || r.CORS == nil || !r.CORS.Enabled || r.CORS.AllowOrigins != nil || r.CORS.AllowCredentials != nil {
		t.Errorf("enable-cors alone: %+v, %+v; want enabled with every default", r.CORS, found)
	}
	for _, v := range []string{"false", "0"} {
		r, found = Parse(map[string]string{NginxPrefix + "enable-cors": v})
		if len(found) != 0 || r.CORS != nil {
			t.Errorf("enable-cors %q: %+v, %+v; want no CORS, no finding", v, r.CORS, found)
		}
	}
	r, found = Parse(map[string]string{NginxPrefix + "enable-cors": "yes"})
	if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks || r.CORS != nil {
		t.Errorf(`enable-cors "yes": %+v, %+v; want one Invalid and no CORS`, r.CORS, found)
	}
	r, found = Parse(map[string]string{NginxPrefix + "cors-max-age": "-1", NginxPrefix + "enable-cors": "true"})
	if len(found) != 1 || found[0].Kind != Invalid || r.CORS.MaxAge != nil {
		t.Errorf("cors-max-age -1: %+v, %+v", r.CORS, found)
	}
}

// TestCORSWithoutEnableIsReported: cors-* alone does nothing, as in
// ingress-nginx, and fairway says so.
func TestCORSWithoutEnableIsReported(t *testing.T) {
	for _, enable := range []string{"", "false"} {
		in := map[string]string{NginxPrefix + "cors-allow-origin": "https://a.com", NginxPrefix + "cors-max-age": "10"}
		if enable != "" {
			in[NginxPrefix+"enable-cors"] = enable
		}
		r, found := Parse(in)
		if r.CORS != nil || len(found) != 1 || found[0].Key != NginxPrefix+"enable-cors" || found[0].Blocks ||
			!strings.Contains(found[0].Message, "ignored") {
			t.Errorf("enable-cors %q: %+v, %+v; want no CORS and one finding on enable-cors", enable, r.CORS, found)
		}
	}
}

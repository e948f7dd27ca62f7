package annotations

import (
	"testing"

	"github.com/fairwayhq/fairway/translator/policy"
)

func TestRedirectParsers(t *testing.T) {
	good := []struct {
		ann  map[string]string
		want policy.Redirect
	}{
		{map[string]string{"permanent-redirect": "http://redirect.example.com"},
			policy.Redirect{Scheme: "http", Host: "redirect.example.com", Path: "/", Code: 301}},
		{map[string]string{"permanent-redirect": "https://Example.com:8443/a%20b/c?x=1&y=2", "permanent-redirect-code": "308"},
			policy.Redirect{Scheme: "https", Host: "example.com", Port: 8443, Path: "/a%20b/c", Query: "x=1&y=2", Code: 308}},
		{map[string]string{"permanent-redirect": "/elsewhere"},
			policy.Redirect{Path: "/elsewhere", Code: 301}},
		{map[string]string{"temporal-redirect": "https://b.example.com/"},
			policy.Redirect{Scheme: "https", Host: "b.example.com", Path: "/", Code: 302, Temporal: true}},
		{map[string]string{"temporal-redirect": "https://b.example.com/", "temporal-redirect-code": "307"},
			policy.Redirect{Scheme: "https", Host: "b.example.com", Path: "/", Code: 307, Temporal: true}},
		// temporal wins, and the permanent code does not apply to it
		{map[string]string{"permanent-redirect": "https://a.example.com/", "permanent-redirect-code": "308", "temporal-redirect": "https://b.example.com/"},
			policy.Redirect{Scheme: "https", Host: "b.example.com", Path: "/", Code: 302, Temporal: true}},
		{map[string]string{"permanent-redirect": "http://[2001:db8::1]:81/x"},
			policy.Redirect{Scheme: "http", Host: "2001:db8::1", Port: 81, Path: "/x", Code: 301}},
	}
	for _, c := range good {
		ann := map[string]string{}
		for k, v := range c.ann {
			ann[NginxPrefix+k] = v
		}
		r, found := Parse(ann)
		if len(found) != 0 || r.Redirect == nil || *r.Redirect != c.want {
			t.Errorf("%v: got %+v, %v; want %+v", c.ann, r.Redirect, found, c.want)
		}
	}
	bad := []struct{ key, value string }{
		{"permanent-redirect", ""},
		{"permanent-redirect", "ftp://example.com/"},
		{"permanent-redirect", "javascript:alert(1)"},
		{"permanent-redirect", "//example.com/x"},
		{"permanent-redirect", "relative/path"},
		{"permanent-redirect", "http://user:pw@example.com/"},
		{"permanent-redirect", "http://example.com/#frag"},
		{"permanent-redirect", "http://example.com/a b"},
		{"permanent-redirect", "http://exa_mple.com/"},
		{"permanent-redirect", "http://example.com:0/"},
		{"permanent-redirect", "http://example.com:99999/"},
		{"permanent-redirect", "http:///nohost"},
		{"permanent-redirect", "http://example.com/\r\nSet-Cookie: x"},
		{"temporal-redirect", "mailto:a@b.c"},
		{"permanent-redirect-code", "301"}, // no redirect to give it to
		{"temporal-redirect-code", "307"},
		{"from-to-www-redirect", "sure"},
		{"server-alias", ""},
		{"server-alias", " , "},
		{"server-alias", "a.com, http://b.com"},
		{"server-alias", "a.com b.com"},
	}
	for _, c := range bad {
		_, found := parsePathsKey(t, c.key, c.value)
		if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks {
			t.Errorf("%s=%q: got %v, want one Invalid finding that does not block", c.key, c.value, found)
		}
	}
	// a temporal code with an invalid temporal-redirect is reported, though
	// a permanent redirect is set
	r, found := Parse(map[string]string{NginxPrefix + "permanent-redirect": "https://a.example.com/", NginxPrefix + "temporal-redirect": "ftp://x/", NginxPrefix + "temporal-redirect-code": "307"})
	if len(found) != 2 || found[1].Key != NginxPrefix+"temporal-redirect-code" || r.Redirect == nil || r.Redirect.Code != 301 || r.Redirect.Temporal {
		t.Errorf("temporal code without a valid temporal-redirect: got %+v, %v", r.Redirect, found)
	}
	for _, code := range []string{"300", "304", "305", "306", "200", "309", "abc", ""} {
		r, found := Parse(map[string]string{NginxPrefix + "permanent-redirect": "https://a.example.com/", NginxPrefix + "permanent-redirect-code": code})
		if len(found) != 1 || found[0].Key != NginxPrefix+"permanent-redirect-code" || r.Redirect == nil || r.Redirect.Code != 301 {
			t.Errorf("permanent-redirect-code %q: got %+v, %v; want Invalid and the default 301", code, r.Redirect, found)
		}
	}
}

func TestHostNameParsers(t *testing.T) {
	r, found := parsePathsKey(t, "server-alias", " B.example.com,a.example.com ,, a.example.com,*.c.example.com")
	if len(found) != 0 || len(r.Hosts.Aliases) != 3 || r.Hosts.Aliases[0] != "*.c.example.com" || r.Hosts.Aliases[1] != "a.example.com" || r.Hosts.Aliases[2] != "b.example.com" {
		t.Errorf("server-alias: got %q, %v; want the names lowercased, sorted, without repeats", r.Hosts.Aliases, found)
	}
	for value, want := range map[string]bool{"true": true, "false": false, "1": true} {
		r, found := parsePathsKey(t, "from-to-www-redirect", value)
		if len(found) != 0 || r.Hosts.FromToWWW != want {
			t.Errorf("from-to-www-redirect=%q: got %v, %v", value, r.Hosts.FromToWWW, found)
		}
	}
}

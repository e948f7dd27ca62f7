package annotations

import (
	"testing"

	"github.com/fairwayhq/fairway/translator/policy"
)

// parsePathsKey runs one key's parser on a fresh Route, then the checks.
func parsePathsKey(t *testing.T, key, value string) (*policy.Route, []Finding) {
	t.Helper()
	return Parse(map[string]string{NginxPrefix + key: value})
}

func TestRoutingParsers(t *testing.T) {
	good := []struct {
		key, value string
		check      func(r *policy.Route) bool
	}{
		{"use-regex", "true", func(r *policy.Route) bool { return r.Match.Regex }},
		{"use-regex", "false", func(r *policy.Route) bool { return !r.Match.Regex }},
		{"use-regex", "True", func(r *policy.Route) bool { return r.Match.Regex }},
		{"rewrite-target", "/$2", func(r *policy.Route) bool { return r.Rewrite.Target == "/$2" && r.Match.Regex }},
		{"rewrite-target", "/", func(r *policy.Route) bool { return r.Rewrite.Target == "/" && r.Match.Regex }},
		{"app-root", "/app", func(r *policy.Route) bool { return r.Rewrite.AppRoot == "/app" }},
		{"x-forwarded-prefix", "/test/value", func(r *policy.Route) bool { return r.Rewrite.XForwardedPrefix == "/test/value" }},
		{"x-forwarded-prefix", "", func(r *policy.Route) bool { return r.Rewrite.XForwardedPrefix == "" }},
		{"upstream-vhost", "upstreamvhost.bar.com", func(r *policy.Route) bool { return r.Rewrite.Host == "upstreamvhost.bar.com" }},
		{"upstream-vhost", "api.internal:8080", func(r *policy.Route) bool { return r.Rewrite.Host == "api.internal:8080" }},
		{"upstream-vhost", "10.0.0.1", func(r *policy.Route) bool { return r.Rewrite.Host == "10.0.0.1" }},
		{"upstream-vhost", "[::1]:80", func(r *policy.Route) bool { return r.Rewrite.Host == "[::1]:80" }},
	}
	for _, c := range good {
		r, found := parsePathsKey(t, c.key, c.value)
		if len(found) != 0 || !c.check(r) {
			t.Errorf("%s=%q: got %+v, %v", c.key, c.value, r, found)
		}
	}
	bad := []struct{ key, value string }{
		{"use-regex", "yes please"},
		{"use-regex", ""},
		{"use-regex", " true"},
		{"rewrite-target", ""},
		{"rewrite-target", "relative/$1"},
		{"rewrite-target", "/a b"},
		{"rewrite-target", "/a?x=1"},
		{"rewrite-target", "/a#frag"},
		{"rewrite-target", "/a\\1"},
		{"rewrite-target", "/a\n"},
		{"app-root", "app"},
		{"app-root", "/"},
		{"app-root", "/a?b"},
		{"app-root", ""},
		{"x-forwarded-prefix", "/a\r\nX-Evil: 1"},
		{"x-forwarded-prefix", " /a"},
		{"upstream-vhost", ""},
		{"upstream-vhost", "$host"},
		{"upstream-vhost", "a b"},
		{"upstream-vhost", "host:"},
		{"upstream-vhost", "host:0"},
		{"upstream-vhost", "host:70000"},
		{"upstream-vhost", "-bad.com"},
		{"upstream-vhost", "a..b"},
		{"upstream-vhost", "http://host"},
		{"upstream-vhost", "[zz]"},
	}
	for _, c := range bad {
		r, found := parsePathsKey(t, c.key, c.value)
		if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks || found[0].Key != NginxPrefix+c.key {
			t.Errorf("%s=%q: got %v, want one Invalid finding that does not block", c.key, c.value, found)
			continue
		}
		if r.Rewrite != (policy.Rewrite{}) || r.Match.Regex {
			t.Errorf("%s=%q: an invalid value set %+v", c.key, c.value, r)
		}
	}
}

package translator

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/policy"
)

// Regex paths, rewrites, the upstream host and redirects: the back end's
// half of the annotations in translator/annotations/routing.go and
// redirect.go.

// pathRegex is the safe_regex of a regex path. nginx's "location ~*
// ^path" matches case-insensitively from the start and leaves the rest of
// the path free; Envoy's safe_regex must match the whole path, so the
// path is grouped (an alternation stays inside, "$" keeps its meaning)
// and followed by ".*". The group does not capture: $1 stays the path's
// first group.
func pathRegex(path string) string { return "(?i)(?:" + path + ").*" }

// envoyRegex is the safe_regex of a regex path: nginx's form for an
// Ingress's, the path itself for a whole-path one.
func (m pathMatch) envoyRegex() string {
	if m.whole {
		return m.path
	}
	return pathRegex(m.path)
}

// rewritePattern is the regex_rewrite pattern: the match, anchored, so
// that the substitution replaces the whole path as nginx's rewrite does.
func rewritePattern(path string) string { return "^" + pathRegex(path) }

// checkRegexPath accepts a regex path: absolute, no whitespace or control
// characters (they cannot be in a request's path), and RE2.
func checkRegexPath(path string) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("path %q must begin with '/'", path)
	}
	for _, c := range []byte(path) {
		if c <= ' ' || c == 0x7f {
			return fmt.Errorf("path %q contains %q; paths cannot hold spaces or control characters", path, c)
		}
	}
	// The path must parse on its own: grouped, an unbalanced "a)|(b"
	// would parse and change what the regex means.
	for _, re := range []string{path, pathRegex(path)} {
		if _, err := syntax.Parse(re, syntax.Perl); err != nil {
			return fmt.Errorf("path %q is not an RE2 regular expression (the Ingress's paths are regexes, by use-regex or rewrite-target): %v", path, err)
		}
	}
	return nil
}

// captureGroups is the number of capture groups of a checked regex path.
func captureGroups(path string) int {
	re, err := syntax.Parse(pathRegex(path), syntax.Perl)
	if err != nil {
		return 0
	}
	return re.MaxCap()
}

// rewriteGroups is the highest $n (1..9) a rewrite target refers to.
func rewriteGroups(target string) int {
	most := 0
	for i := 0; i+1 < len(target); i++ {
		if target[i] == '$' && target[i+1] >= '1' && target[i+1] <= '9' {
			most = max(most, int(target[i+1]-'0'))
		}
	}
	return most
}

// substitution turns nginx's $1..$9 into RE2's \1..\9. Everything else is
// literal: a backslash, RE2's only escape in a substitution, is doubled.
func substitution(target string) string {
	var b strings.Builder
	for i := 0; i < len(target); i++ {
		c := target[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '$' && i+1 < len(target) && target[i+1] >= '1' && target[i+1] <= '9':
			b.WriteByte('\\')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// wholePath is the regex_rewrite pattern that replaces the whole path
// (ReplaceFullPath); Envoy keeps the query.
const wholePath = "^/.*$"

// literalSubstitution is a regex_rewrite substitution that is text
// alone: a backslash, RE2's only escape there, is doubled.
func literalSubstitution(path string) string { return strings.ReplaceAll(path, `\`, `\\`) }

// checkRegexRoute checks a regex path against Envoy's program size limit
// and against the rewrite target's group references, which Envoy would
// refuse (and with them the whole route table).
func checkRegexRoute(m pathMatch, pol *policy.Route, limit int) (Reason, error) {
	for _, re := range []string{pathRegex(m.path), rewritePattern(m.path)} {
		if err := checkRegexSize(re, limit); err != nil {
			return RegexTooLarge, fmt.Errorf("path %q: %v", m.path, err)
		}
	}
	if pol == nil || pol.Rewrite.Target == "" {
		return "", nil
	}
	if want, have := rewriteGroups(pol.Rewrite.Target), captureGroups(m.path); want > have {
		return InvalidPath, fmt.Errorf("path %q has %d capture group(s), but rewrite-target %q uses $%d", m.path, have, pol.Rewrite.Target, want)
	}
	return "", nil
}

// matchesRoot: a request for "/" takes this route (so an app root
// applies to it).
func (m pathMatch) matchesRoot() bool {
	if m.regex {
		re, err := regexp.Compile("^(?:" + m.envoyRegex() + ")$")
		return err == nil && re.MatchString("/")
	}
	return m.path == "/"
}

// pathPolicy sets a route's regex match, rewrites and redirect.
func pathPolicy(r *httpRoute, out *envoy.RoutePolicy) bool {
	set := false
	if r.match.regex {
		out.Regex, set = r.match.envoyRegex(), true
	}
	p := r.policy
	pp := &out.Paths
	if rd := p.Redirect; rd != nil {
		pp.Redirect = &envoy.Redirect{Scheme: rd.Scheme, Host: rd.Host, Port: rd.Port, Path: rd.Path, Query: rd.Query,
			KeepQuery: rd.KeepQuery, PathPrefix: rd.PathPrefix, Code: rd.Code}
		return true
	}
	if p.Rewrite.Target != "" && r.match.regex {
		pp.RegexRewrite = &envoy.RegexRewrite{Pattern: rewritePattern(r.match.path), Substitution: substitution(p.Rewrite.Target)}
		set = true
	}
	if p.Rewrite.AppRoot != "" && r.match.matchesRoot() {
		pp.AppRoot, set = p.Rewrite.AppRoot, true
	}
	if p.Rewrite.Path != "" {
		pp.RegexRewrite, set = &envoy.RegexRewrite{Pattern: wholePath, Substitution: literalSubstitution(p.Rewrite.Path)}, true
	}
	if p.Rewrite.PathPrefix != "" {
		pp.PrefixRewrite, set = p.Rewrite.PathPrefix, true
	}
	if p.Rewrite.Host != "" {
		pp.HostRewrite, set = p.Rewrite.Host, true
	}
	if p.Rewrite.XForwardedPrefix != "" {
		pp.XForwardedPrefix, set = p.Rewrite.XForwardedPrefix, true
	}
	return set
}

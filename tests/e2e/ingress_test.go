package e2e

import (
	"net/http"
	"testing"
)

// route is one request and the backend that must answer it; an empty
// backend means Envoy's own 404.
type route struct {
	host, path, backend string
}

// hostRoutes: exact hosts and the single-label wildcard, with no default
// backend, so what matches no rule is Envoy's 404.
var hostRoutes = []route{
	{exactHost, "/", "exact-host"},
	{exactHost, "/any/path", "exact-host"},
	{"EXACT.Example.COM", "/", "exact-host"},           // hosts match case-insensitively
	{exactHost + ":8080", "/", "exact-host"},           // and ignore a port
	{"a.example.com", "/", "wildcard-host"},            // *.example.com: one more label
	{"A.Example.com:8080", "/x", "wildcard-host"},      // in any case, with a port
	{"a-b.example.com", "/deep/path", "wildcard-host"}, // any path under its "/"
	{"a.b.example.com", "/", ""},                       // not two more labels
	{"example.com", "/", ""},                           // not none
	{"other.test", "/", ""},                            // no rule, no default backend
	{pathsHost, "/", ""},                               // an exact host never falls back to the wildcard
}

// catchAllRoutes: the rule without a host, which serves hosts that have no
// rules of their own, including the names *.example.com must not take.
var catchAllRoutes = []route{
	{"other.test", "/shared", "shared"},
	{"other.test", "/shared/x", "shared"},
	{"other.test", "/sharedx", ""},
	{"example.com", "/shared", "shared"},
	{"a.b.example.com", "/shared", "shared"}, // Envoy puts it in *.example.com, which must carry these
	{"a.example.com", "/shared", "wildcard-host"},
	{exactHost, "/shared", "exact-host"},
	{pathsHost, "/shared", ""}, // a host with rules does not fall through to them
}

// pathRoutes: Exact against Prefix on one host.
var pathRoutes = []route{
	{pathsHost, "/foo", "foo"},
	{pathsHost, "/foo/", "foo"},
	{pathsHost, "/foo/x", "foo"},
	{pathsHost, "/foobar", ""},               // Prefix is element-wise
	{pathsHost, "/Foo", ""},                  // and case-sensitive
	{pathsHost, "/foo/bar", "foo-bar-exact"}, // Exact beats Prefix at equal length
	{pathsHost, "/foo/bar/", "foo-bar"},      // the longest path wins
	{pathsHost, "/foo/bar/baz", "foo-bar"},   // the longest path wins
	{pathsHost, "/foo/barista", "foo"},       // element-wise again
	{pathsHost, "/docs", "docs"},             // a rule's trailing slash is ignored
	{pathsHost, "/docs/a", "docs"},
	{pathsHost, "/docsx", ""},
	{pathsHost, "/version", "version"}, // Exact is exact
	{pathsHost, "/version/", ""},
	{pathsHost, "/version/x", ""},
	{pathsHost, "/Version", ""},
}

// fallbackRoutes: with TestIngressFallbacks' default backend, what the
// chosen host's rules do not match goes to it, on every host.
var fallbackRoutes = []route{
	{"other.test", "/", "fallback"},
	{"example.com", "/anything", "fallback"},
	{"a.b.example.com", "/", "fallback"},
	{pathsHost, "/", "fallback"},
	{pathsHost, "/foobar", "fallback"},
	{pathsHost, "/version/x", "fallback"},
	{pathsHost, "/foo/bar", "foo-bar-exact"}, // rules still come first
	{exactHost, "/", "exact-host"},
	{"a.example.com", "/", "wildcard-host"},
	{"other.test", "/shared", "shared"},
}

// missingRoutes lead to the Service that does not exist: Envoy's 503.
var missingRoutes = []route{{pathsHost, "/missing", ""}, {pathsHost, "/missing/x", ""}}

func (s *stack) checkRoutes(t *testing.T, routes []route) {
	t.Helper()
	for _, r := range routes {
		got := s.get(r.host, r.path)
		if r.backend == "" {
			wantEnvoyStatus(t, got, http.StatusNotFound, r.host, r.path)
		} else {
			wantBackend(t, got, r.backend, r.host, r.path)
		}
	}
}

// TestIngressConformance sends requests through Envoy and checks, for each
// Ingress rule README's "What the translation does" states, which backend
// answers.
func TestIngressConformance(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	t.Run("hosts", func(t *testing.T) { s.checkRoutes(t, hostRoutes) })
	t.Run("rules without a host", func(t *testing.T) { s.checkRoutes(t, catchAllRoutes) })
	t.Run("paths", func(t *testing.T) { s.checkRoutes(t, pathRoutes) })
	t.Run("path normalisation", func(t *testing.T) {
		// fairway has Envoy normalise paths and merge slashes before
		// matching, and the backend gets the normalised path.
		for _, c := range []struct{ sent, backend, seen string }{
			{"//foo//bar", "foo-bar-exact", "/foo/bar"},
			{"/docs/../version", "version", "/version"},
			{"/foo/./x", "foo", "/foo/x"},
		} {
			got := s.get(pathsHost, c.sent)
			if got.status != http.StatusOK || got.Backend != c.backend || got.Path != c.seen {
				t.Errorf("GET %s: %d from %q, which saw %q; want 200 from %q, which sees %q",
					c.sent, got.status, got.Backend, got.Path, c.backend, c.seen)
			}
		}
	})
}

// TestIngressFallbacks adds an Ingress with only a defaultBackend, and a
// rule whose Service does not exist, which gets a 503 and a
// BackendNotFound Problem while every other route keeps working.
func TestIngressFallbacks(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{
		extra: map[string]string{
			"ingress-fallback.yaml": defaultBackendYAML,
			"ingress-missing.yaml":  missingBackendYAML,
		},
		wantProblems: []string{"BackendNotFound"},
	})
	s.checkRoutes(t, fallbackRoutes)
	for _, r := range missingRoutes {
		wantEnvoyStatus(t, s.get(r.host, r.path), http.StatusServiceUnavailable, r.host, r.path)
	}
}

package translator

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	corev1 "k8s.io/api/core/v1"
)

// pathsIngress is an Ingress as ingress-nginx's e2e framework builds it
// (framework.NewSingleIngress): one host, one path to the echo Service.
type pathsIngress struct {
	name, host, path string
	pathType         networkingv1.PathType // Prefix when empty
	annotations      map[string]string
	age              int // minutes after the first; older wins duplicates
}

func (e pathsIngress) object() *networkingv1.Ingress {
	class, pt := "fairway", e.pathType
	if pt == "" {
		pt = networkingv1.PathTypePrefix
	}
	ann := map[string]string{}
	for k, v := range e.annotations {
		ann["nginx.ingress.kubernetes.io/"+k] = v
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: e.name, Namespace: "e2e", Annotations: ann,
			CreationTimestamp: metav1.Date(2026, 1, 1, 0, e.age, 0, 0, metav1.Now().UTC().Location())},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
			Host: e.host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: e.path, PathType: &pt,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "echo", Port: networkingv1.ServiceBackendPort{Number: 80}}},
			}}}},
		}}},
	}
}

// translatePaths translates the Ingresses beside the echo Service and
// fails on any Problem: every e2e case is valid input.
func translatePaths(t *testing.T, ings ...pathsIngress) Result {
	t.Helper()
	in := translatePathsInput()
	for _, i := range ings {
		in.Ingresses = append(in.Ingresses, i.object())
	}
	res := Translate(in, Options{})
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	return res
}

// translatePathsInput is the e2e framework's cluster without Ingresses:
// fairway's IngressClass and the echo Service.
func translatePathsInput() Input {
	return Input{
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "fairway"}, Spec: networkingv1.IngressClassSpec{Controller: DefaultIngressController}}},
		Services:       []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: "e2e"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}},
	}
}

const pathsEcho = "e2e/echo/80"

// want is the part of an outcome an e2e case checks.
type pathsWant struct {
	status          int // 0: forwarded to the echo Service
	location        string
	path, host      string // as the backend sees them; "" is not checked
	upstreamHeaders map[string]string
}

func checkPathsOutcome(t *testing.T, what string, got outcome, w pathsWant) {
	t.Helper()
	if got.status != w.status || (w.status == 0 && got.cluster != pathsEcho) {
		t.Errorf("%s: status %d cluster %q, want status %d (0: to %s)", what, got.status, got.cluster, w.status, pathsEcho)
		return
	}
	if got.location != w.location {
		t.Errorf("%s: Location %q, want %q", what, got.location, w.location)
	}
	if w.path != "" && got.path != w.path {
		t.Errorf("%s: upstream path %q, want %q", what, got.path, w.path)
	}
	if w.host != "" && got.host != w.host {
		t.Errorf("%s: upstream host %q, want %q", what, got.host, w.host)
	}
	for k, v := range w.upstreamHeaders {
		if got.upstreamHeaders[k] != v {
			t.Errorf("%s: upstream header %s = %q, want %q (all: %v)", what, k, got.upstreamHeaders[k], v, got.upstreamHeaders)
		}
	}
	if own := routeHeaders(got.upstreamHeaders); w.upstreamHeaders == nil && len(own) > 0 {
		t.Errorf("%s: unexpected upstream headers %v", what, slices.Sorted(maps.Keys(own)))
	}
}

// pathsRequest is one request of an e2e case and what it must get. A path
// written "https:/..." is a request over https.
type pathsRequest struct {
	host, path string
	want       pathsWant
}

// pathsE2ECases are ingress-nginx's test/e2e/annotations cases for the
// paths group, each citing the file and case it ports.
var pathsE2ECases = []struct {
	from string // the e2e file and case
	ings []pathsIngress
	reqs []pathsRequest
}{
	{
		from: `rewrite.go: "should rewrite request URL"`,
		ings: []pathsIngress{{name: "rewrite", host: "rewrite.foo.com", path: "/something", annotations: map[string]string{"rewrite-target": "/"}}},
		reqs: []pathsRequest{
			{"rewrite.foo.com", "/something", pathsWant{path: "/"}},
			{"rewrite.foo.com", "/SomeThing", pathsWant{path: "/"}}, // mixed case: the regex is case-insensitive
		},
	},
	{
		from: `rewrite.go: "should write rewrite logs" (the request part)`,
		ings: []pathsIngress{{name: "rewrite", host: "rewrite.bar.com", path: "/something", annotations: map[string]string{"rewrite-target": "/"}}},
		reqs: []pathsRequest{{"rewrite.bar.com", "/something", pathsWant{path: "/"}}},
	},
	{
		from: `rewrite.go: "should use correct longest path match"`,
		ings: []pathsIngress{
			{name: "kube-lego", host: "rewrite.bar.com", path: "/.well-known/acme/challenge"},
			{name: "rewrite-index", host: "rewrite.bar.com", path: "/", annotations: map[string]string{"rewrite-target": "/new/backend"}, age: 1},
		},
		reqs: []pathsRequest{
			{"rewrite.bar.com", "/.well-known/acme/challenge", pathsWant{path: "/.well-known/acme/challenge"}},
			{"rewrite.bar.com", "/other", pathsWant{path: "/new/backend"}},
		},
	},
	{
		from: `rewrite-target as documented (annotations.md, "Rewrite"): path /something(/|$)(.*), target /$2`,
		ings: []pathsIngress{{name: "rewrite", host: "rewrite.bar.com", path: "/something(/|$)(.*)", pathType: networkingv1.PathTypeImplementationSpecific, annotations: map[string]string{"rewrite-target": "/$2", "use-regex": "true"}}},
		reqs: []pathsRequest{
			{"rewrite.bar.com", "/something", pathsWant{path: "/"}},
			{"rewrite.bar.com", "/something/", pathsWant{path: "/"}},
			{"rewrite.bar.com", "/something/new?q=1", pathsWant{path: "/new?q=1"}},
			{"rewrite.bar.com", "/somethingelse", pathsWant{status: 404}},
		},
	},
	{
		from: `rewrite.go: "should use ~* location modifier if regex annotation is present"`,
		ings: []pathsIngress{
			{name: "foo", host: "rewrite.bar.com", path: "/foo"},
			{name: "regex", host: "rewrite.bar.com", path: "/foo.+", annotations: map[string]string{"use-regex": "true", "rewrite-target": "/new/backend"}, age: 1},
		},
		reqs: []pathsRequest{
			{"rewrite.bar.com", "/foo", pathsWant{path: "/foo"}},
			{"rewrite.bar.com", "/foo/bar", pathsWant{path: "/new/backend"}},
		},
	},
	{
		from: `rewrite.go: "should fail to use longest match for documented warning"`,
		ings: []pathsIngress{
			{name: "foo", host: "rewrite.bar.com", path: "/foo/bar/bar"},
			{name: "regex", host: "rewrite.bar.com", path: "/foo/bar/[a-z]{3}", annotations: map[string]string{"use-regex": "true", "rewrite-target": "/new/backend"}, age: 1},
		},
		// the longer regex text ranks first, though the literal path is
		// the closer match: the behaviour ingress-nginx documents
		reqs: []pathsRequest{{"rewrite.bar.com", "/foo/bar/bar", pathsWant{path: "/new/backend"}}},
	},
	{
		from: `rewrite.go: "should allow for custom rewrite parameters"`,
		ings: []pathsIngress{{name: "regex", host: "rewrite.bar.com", path: "/foo/bar/(.+)", annotations: map[string]string{"use-regex": "true", "rewrite-target": "/new/backend/$1"}}},
		reqs: []pathsRequest{{"rewrite.bar.com", "/foo/bar/bar", pathsWant{path: "/new/backend/bar"}}},
	},
	{
		from: `approot.go: "should redirect to /foo"`,
		ings: []pathsIngress{{name: "approot", host: "approot.bar.com", path: "/", annotations: map[string]string{"app-root": "/foo"}}},
		reqs: []pathsRequest{
			{"approot.bar.com", "/", pathsWant{status: 302, location: "http://approot.bar.com/foo"}},
			{"approot.bar.com", "/foo", pathsWant{path: "/foo"}},
		},
	},
	{
		from: `xforwardedprefix.go: "should set the X-Forwarded-Prefix to the annotation value"`,
		ings: []pathsIngress{{name: "xfp", host: "xfp.baz.com", path: "/", annotations: map[string]string{"x-forwarded-prefix": "/test/value", "rewrite-target": "/foo"}}},
		reqs: []pathsRequest{{"xfp.baz.com", "/", pathsWant{path: "/foo", upstreamHeaders: map[string]string{"x-forwarded-prefix": "/test/value"}}}},
	},
	{
		from: `xforwardedprefix.go: "should not add X-Forwarded-Prefix if the annotation value is empty"`,
		ings: []pathsIngress{{name: "xfp", host: "noxfp.baz.com", path: "/", annotations: map[string]string{"x-forwarded-prefix": "", "rewrite-target": "/foo"}}},
		reqs: []pathsRequest{{"noxfp.baz.com", "/", pathsWant{path: "/foo"}}},
	},
	{
		from: `upstreamvhost.go: "set host to upstreamvhost.bar.com"`,
		ings: []pathsIngress{{name: "vhost", host: "upstreamvhost.foo.com", path: "/", annotations: map[string]string{"upstream-vhost": "upstreamvhost.bar.com"}}},
		reqs: []pathsRequest{{"upstreamvhost.foo.com", "/", pathsWant{path: "/", host: "upstreamvhost.bar.com"}}},
	},
	{
		from: `redirect.go: "should respond with a standard redirect code"`,
		ings: []pathsIngress{{name: "redirect", host: "redirect", path: "/something", annotations: map[string]string{"permanent-redirect": "http://redirect.example.com"}}},
		// nginx answers "http://redirect.example.com"; Envoy writes the
		// empty path as "/", the same URL.
		reqs: []pathsRequest{{"redirect", "/something", pathsWant{status: 301, location: "http://redirect.example.com/"}}},
	},
	{
		from: `redirect.go: "should respond with a custom redirect code"`,
		ings: []pathsIngress{{name: "redirect", host: "redirect", path: "/something", annotations: map[string]string{"permanent-redirect": "http://redirect.example.com", "permanent-redirect-code": "302"}}},
		reqs: []pathsRequest{{"redirect", "/something?a=b", pathsWant{status: 302, location: "http://redirect.example.com/"}}},
	},
	{
		from: `temporal-redirect as documented (annotations.md, "Temporal Redirect"): default 302; it wins over permanent-redirect, as in ingress-nginx's parser`,
		ings: []pathsIngress{{name: "redirect", host: "redirect", path: "/something", annotations: map[string]string{"permanent-redirect": "https://a.example.com/x", "temporal-redirect": "https://b.example.com:8443/y?z=1"}}},
		reqs: []pathsRequest{{"redirect", "/something", pathsWant{status: 302, location: "https://b.example.com:8443/y?z=1"}}},
	},
	{
		from: `fromtowwwredirect.go: "should redirect from www HTTP to HTTP"`,
		ings: []pathsIngress{{name: "www", host: "fromtowwwredirect.bar.com", path: "/", annotations: map[string]string{"from-to-www-redirect": "true"}}},
		reqs: []pathsRequest{
			{"www.fromtowwwredirect.bar.com", "/foo", pathsWant{status: 308, location: "http://fromtowwwredirect.bar.com/foo"}},
			{"fromtowwwredirect.bar.com", "/foo", pathsWant{path: "/foo"}},
		},
	},
	{
		from: `fromtowwwredirect.go: "should redirect from www HTTPS to HTTPS" (the redirect's scheme; the https table itself is TLS's)`,
		ings: []pathsIngress{{name: "www", host: "example.nip.io", path: "/", annotations: map[string]string{"from-to-www-redirect": "true"}}},
		reqs: []pathsRequest{
			{"www.example.nip.io", "https:/", pathsWant{status: 308, location: "https://example.nip.io/"}},
		},
	},
	{
		from: `from-to-www-redirect as documented (annotations.md, "Redirect from/to www"): a www host redirects its bare name`,
		ings: []pathsIngress{{name: "www", host: "www.example.nip.io", path: "/", annotations: map[string]string{"from-to-www-redirect": "true"}}},
		reqs: []pathsRequest{
			{"example.nip.io", "/x?y=1", pathsWant{status: 308, location: "http://www.example.nip.io/x?y=1"}},
			{"www.example.nip.io", "/", pathsWant{path: "/"}},
		},
	},
	{
		from: `alias.go: "should return status code 200 for host 'foo' and 404 for 'bar'"`,
		ings: []pathsIngress{{name: "foo", host: "foo", path: "/"}},
		reqs: []pathsRequest{{"foo", "/", pathsWant{path: "/"}}, {"bar", "/", pathsWant{status: 404}}},
	},
	{
		from: `alias.go: "should return status code 200 for host 'foo' and 'bar'"`,
		ings: []pathsIngress{{name: "foo", host: "foo", path: "/", annotations: map[string]string{"server-alias": "bar"}}},
		reqs: []pathsRequest{{"foo", "/", pathsWant{path: "/"}}, {"bar", "/", pathsWant{path: "/"}}},
	},
	{
		from: `alias.go: "should return status code 200 for hosts defined in two ingresses, different path with one alias"`,
		ings: []pathsIngress{
			{name: "app-a", host: "foo", path: "/app-a"},
			{name: "app-b", host: "foo", path: "/app-b", annotations: map[string]string{"server-alias": "bar"}, age: 1},
		},
		reqs: []pathsRequest{
			{"foo", "/app-a", pathsWant{path: "/app-a"}},
			// A deviation: ingress-nginx answers 200 here, as its alias
			// names the whole merged server. fairway's annotations
			// apply to the Ingress's own routes only (README, Moving
			// from ingress-nginx), so bar carries app-b's path alone.
			{"bar", "/app-a", pathsWant{status: 404}},
			{"bar", "/app-b", pathsWant{path: "/app-b"}},
		},
	},
	{
		from: `use-regex as documented (annotations.md, "Use Regex"): case-insensitive, anchored at the start only`,
		ings: []pathsIngress{{name: "regex", host: "regex.foo.com", path: "/foo/bar/[A-Z0-9]{3}", pathType: networkingv1.PathTypeImplementationSpecific, annotations: map[string]string{"use-regex": "true"}}},
		reqs: []pathsRequest{
			{"regex.foo.com", "/foo/bar/bar", pathsWant{path: "/foo/bar/bar"}},
			{"regex.foo.com", "/FOO/bar/a1B/more", pathsWant{path: "/FOO/bar/a1B/more"}},
			{"regex.foo.com", "/x/foo/bar/bar", pathsWant{status: 404}},
			{"regex.foo.com", "/foo/bar/ba", pathsWant{status: 404}},
		},
	},
}

// TestNginxE2EPaths ports the request and response expectations of
// ingress-nginx's test/e2e/annotations cases for the paths group, asserted
// through the route table fairway emits.
func TestNginxE2EPaths(t *testing.T) {
	for _, c := range pathsE2ECases {
		rc := translatePaths(t, c.ings...).Routes[0]
		for _, r := range c.reqs {
			// a path written "https:/..." is a request over https
			scheme, path := "http", r.path
			if p, ok := strings.CutPrefix(r.path, "https:"); ok {
				scheme, path = "https", p
			}
			what := fmt.Sprintf("%s: GET %s://%s%s", c.from, scheme, r.host, path)
			checkPathsOutcome(t, what, evaluate(t, rc, request{scheme: scheme, authority: r.host, path: path}), r.want)
		}
	}
}

package translator

import (
	"net/netip"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

// affinityE2E is one request of a case of ingress-nginx's
// test/e2e/annotations/affinity.go and what its Set-Cookie must hold
// ("" for no Set-Cookie at all), and must not hold.
type affinityE2E struct {
	host, path       string
	contains, absent []string
}

// stickySERVERID are the annotations most of the e2e cases start from.
var stickySERVERID = map[string]string{"affinity": "cookie", "session-cookie-name": "SERVERID"}

// sticky is stickySERVERID with extra annotations.
func sticky(extra map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range stickySERVERID {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// twoRulesIngress is the e2e case's Ingress with two paths to one backend.
func twoRulesIngress() *networkingv1.Ingress {
	ing := pathsIngress{name: "morethanonerule", host: "morethanonerule.foo.com", path: "/something", annotations: stickySERVERID}.object()
	paths := &ing.Spec.Rules[0].HTTP.Paths
	*paths = append(*paths, (*paths)[0])
	(*paths)[1].Path = "/somewhereelse"
	return ing
}

// nginxAffinityE2E are the cases, by their names in affinity.go.
var nginxAffinityE2E = map[string]struct {
	ings []pathsIngress
	raw  *networkingv1.Ingress
	reqs []affinityE2E
}{
	"should set sticky cookie SERVERID": {ings: []pathsIngress{{name: "sticky", host: "sticky.foo.com", path: "/", annotations: stickySERVERID}},
		reqs: []affinityE2E{{host: "sticky.foo.com", path: "/", contains: []string{"SERVERID="}}}},
	"should change cookie name on ingress definition change": {ings: []pathsIngress{{name: "change", host: "change.foo.com", path: "/", annotations: sticky(map[string]string{"session-cookie-name": "OTHERCOOKIENAME"})}},
		reqs: []affinityE2E{{host: "change.foo.com", path: "/", contains: []string{"OTHERCOOKIENAME="}, absent: []string{"SERVERID"}}}},
	"should set the path to /something on the generated cookie": {ings: []pathsIngress{{name: "path", host: "path.foo.com", path: "/something", annotations: stickySERVERID}},
		reqs: []affinityE2E{{host: "path.foo.com", path: "/something", contains: []string{"Path=/something"}}}},
	"does not set the path to / on the generated cookie if there's more than one rule referring to the same backend": {raw: twoRulesIngress(),
		reqs: []affinityE2E{{host: "morethanonerule.foo.com", path: "/something", contains: []string{"Path=/something"}}, {host: "morethanonerule.foo.com", path: "/somewhereelse", contains: []string{"Path=/somewhereelse"}}}},
	"should set cookie with expires": {ings: []pathsIngress{{name: "cookieexpires", host: "cookieexpires.foo.com", path: "/", annotations: sticky(map[string]string{"session-cookie-name": "ExpiresCookie", "session-cookie-expires": "172800", "session-cookie-max-age": "259200"})}},
		reqs: []affinityE2E{{host: "cookieexpires.foo.com", path: "/", contains: []string{"ExpiresCookie=", "Max-Age=259200"}}}},
	"should work with use-regex annotation and session-cookie-path": {ings: []pathsIngress{{name: "useregex", host: "useregex.foo.com", path: "/foo/.*", pathType: networkingv1.PathTypeImplementationSpecific, annotations: sticky(map[string]string{"use-regex": "true", "session-cookie-path": "/foo/bar"})}},
		reqs: []affinityE2E{{host: "useregex.foo.com", path: "/foo/bar", contains: []string{"Path=/foo/bar", "SERVERID="}}}},
	"should warn user when use-regex is true and session-cookie-path is not set": {ings: []pathsIngress{{name: "useregexwarn", host: "useregexwarn.foo.com", path: "/foo/.*", pathType: networkingv1.PathTypeImplementationSpecific, annotations: sticky(map[string]string{"use-regex": "true"})}},
		reqs: []affinityE2E{{host: "useregexwarn.foo.com", path: "/foo/bar", contains: []string{"Path=/;"}}}},
	"should not set affinity across all server locations when using separate ingresses": {ings: []pathsIngress{
		{name: "ingress1", host: "separate.foo.com", path: "/foo/bar", annotations: map[string]string{"affinity": "cookie"}},
		{name: "ingress2", host: "separate.foo.com", path: "/foo"}},
		reqs: []affinityE2E{{host: "separate.foo.com", path: "/foo"}, {host: "separate.foo.com", path: "/foo/bar", contains: []string{"INGRESSCOOKIE=", "Path=/foo/bar"}}}},
	"should set sticky cookie without host": {ings: []pathsIngress{{name: "default-no-host", path: "/", annotations: stickySERVERID}},
		reqs: []affinityE2E{{host: "anything.example.com", path: "/", contains: []string{"SERVERID="}}}},
	"should work with server-alias annotation": {ings: []pathsIngress{{name: "foo", host: "foo.com", path: "/bar", annotations: sticky(map[string]string{"server-alias": "a1.foo.com,a2.foo.com"})}},
		reqs: []affinityE2E{{host: "foo.com", path: "/bar", contains: []string{"SERVERID="}}, {host: "a1.foo.com", path: "/bar", contains: []string{"SERVERID="}}, {host: "a2.foo.com", path: "/bar", contains: []string{"SERVERID="}}}},
	"should set secure in cookie with provided true annotation on http": {ings: []pathsIngress{{name: "foo", host: "foo.com", path: "/bar", annotations: sticky(map[string]string{"session-cookie-secure": "true"})}},
		reqs: []affinityE2E{{host: "foo.com", path: "/bar", contains: []string{"; Secure"}}}},
	"should not set secure in cookie with provided false annotation on http": {ings: []pathsIngress{{name: "foo", host: "foo.com", path: "/bar", annotations: sticky(map[string]string{"session-cookie-secure": "false"})}},
		reqs: []affinityE2E{{host: "foo.com", path: "/bar", contains: []string{"SERVERID="}, absent: []string{"; Secure"}}}},
}

// TestNginxE2EAffinity follows ingress-nginx's affinity e2e cases through
// the route table: the cookie's name, its path per route, Max-Age, the
// regex path with session-cookie-path, separate Ingresses on one host, no
// host, server aliases and Secure on plain HTTP. Two cases differ, and
// the README says so: ingress-nginx also writes Expires (fairway writes
// Max-Age alone, which browsers prefer), and adds Secure on https even
// with session-cookie-secure "false" (fairway's http and https tables
// share a route's encoding, so Secure comes from the annotation alone).
func TestNginxE2EAffinity(t *testing.T) {
	for name, c := range nginxAffinityE2E {
		res := translatePaths(t, c.ings...)
		if c.raw != nil {
			res = translateRawIngresses(t, c.raw)
		}
		rc := routeConfig(res, "http")
		for _, r := range c.reqs {
			got := evaluate(t, rc, request{authority: r.host, path: r.path, client: netip.MustParseAddr("192.0.2.10")})
			if got.status != 0 {
				t.Errorf("%s: %s%s: status %d, want it forwarded", name, r.host, r.path, got.status)
				continue
			}
			if len(r.contains) == 0 && got.setCookie != "" {
				t.Errorf("%s: %s%s: Set-Cookie %q, want none", name, r.host, r.path, got.setCookie)
			}
			for _, s := range r.contains {
				if !strings.Contains(got.setCookie, s) {
					t.Errorf("%s: %s%s: Set-Cookie %q lacks %q", name, r.host, r.path, got.setCookie, s)
				}
			}
			for _, s := range r.absent {
				if strings.Contains(got.setCookie, s) {
					t.Errorf("%s: %s%s: Set-Cookie %q holds %q", name, r.host, r.path, got.setCookie, s)
				}
			}
		}
	}
}

// translateRawIngresses is translatePaths for Ingresses built by hand (two
// paths in one rule), failing on any Problem as well.
func translateRawIngresses(t *testing.T, ings ...*networkingv1.Ingress) Result {
	t.Helper()
	base := translatePathsInput()
	base.Ingresses = append(base.Ingresses, ings...)
	res := Translate(base, Options{})
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	return res
}

package translator

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/envoy"
)

// requestHeaderMatches is a HeaderMatcher on a request header (a canary's
// header or cookie, a Gateway API header or method match): Envoy compares
// names without case, and a header the request lacks matches no string
// matcher; present_match asks only that it be there.
func requestHeaderMatches(t *testing.T, h *routev3.HeaderMatcher, req request) bool {
	t.Helper()
	onlyFields(t, "header matcher", h, "name", "string_match", "present_match", "invert_match")
	value, found := pseudoOrHeader(req, h.GetName())
	var match bool
	switch {
	case h.GetPresentMatch():
		match = found
	case h.GetStringMatch() != nil:
		match = found && stringMatches(t, h.GetStringMatch(), value)
	default:
		t.Fatalf("a header matcher this evaluator does not know: %v", h)
	}
	return match != h.GetInvertMatch()
}

// pseudoOrHeader is a request header by name, case-insensitively, with the
// pseudo-headers Envoy matches on: :method (GET when the request names
// none), :path and :scheme.
func pseudoOrHeader(req request, name string) (string, bool) {
	switch strings.ToLower(name) {
	case ":method":
		if req.method == "" {
			return "GET", true
		}
		return req.method, true
	case ":path":
		return req.path, true
	case ":scheme":
		if req.scheme == "" {
			return "http", true
		}
		return req.scheme, true
	}
	for k, v := range req.headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// weightedSplit is a weighted_clusters action's weights by cluster, and
// whether the route's hash policy draws the split.
func weightedSplit(t *testing.T, a *routev3.RouteAction) (map[string]uint32, bool) {
	t.Helper()
	wc := a.GetWeightedClusters()
	if wc == nil {
		return nil, false
	}
	if wc.GetHeaderName() != "" || wc.GetRuntimeKeyPrefix() != "" {
		t.Fatalf("a weighted_clusters setting this evaluator does not know: %v", wc)
	}
	out := map[string]uint32{}
	for _, c := range wc.GetClusters() {
		out[c.GetName()] += c.GetWeight().GetValue()
	}
	return out, wc.GetUseHashPolicy().GetValue()
}

// TestCanaryOutcomes follows requests through the canary goldens' http
// tables: header, then cookie, then weight, as ingress-nginx orders them.
func TestCanaryOutcomes(t *testing.T) {
	const main, canary = "default/web/80", "default/web-canary/80"
	type want struct {
		cluster string
		split   map[string]uint32
	}
	cases := []struct {
		golden, authority string
		headers           map[string]string
		want              want
	}{
		{"annotation-canary-weight", "app.example.com", nil, want{split: map[string]uint32{main: 80, canary: 20}}},
		{"annotation-canary-weight", "tot.example.com", nil, want{split: map[string]uint32{main: 970, canary: 30}}},
		{"annotation-canary-weight", "full.example.com", nil, want{cluster: canary}},
		{"annotation-canary-by-header", "app.example.com", map[string]string{"X-Canary": "always"}, want{cluster: canary}},
		{"annotation-canary-by-header", "app.example.com", map[string]string{"x-canary": "never"}, want{cluster: main}},
		{"annotation-canary-by-header", "app.example.com", map[string]string{"X-Canary": "maybe"}, want{cluster: main}},
		{"annotation-canary-by-header", "app.example.com", nil, want{cluster: main}},
		{"annotation-canary-by-header", "a.apps.example.com", map[string]string{"X-Canary": "always"}, want{cluster: canary}},
		{"annotation-canary-by-header", "a.apps.example.com", map[string]string{"X-Any": "always"}, want{cluster: main}},
		{"annotation-canary-by-header", "b.a.apps.example.com", map[string]string{"X-Any": "always"}, want{cluster: canary}},
		{"annotation-canary-by-header", "b.a.apps.example.com", map[string]string{"X-Canary": "always"}, want{cluster: main}},
		{"annotation-canary-by-header", "other.example.org", map[string]string{"X-Any": "always"}, want{cluster: canary}},
		{"annotation-canary-by-header", "other.example.org", map[string]string{"X-Any": "never"}, want{cluster: main}},
		{"annotation-canary-by-header-value", "app.example.com", map[string]string{"X-Version": "beta"}, want{cluster: canary}},
		{"annotation-canary-by-header-value", "app.example.com", map[string]string{"X-Version": "never"}, want{split: map[string]uint32{main: 90, canary: 10}}},
		{"annotation-canary-by-header-value", "app.example.com", map[string]string{"X-Version": "betamax"}, want{split: map[string]uint32{main: 90, canary: 10}}},
		{"annotation-canary-by-header-pattern", "app.example.com", map[string]string{"X-Region": "eu-west"}, want{cluster: canary}},
		{"annotation-canary-by-header-pattern", "app.example.com", map[string]string{"X-Region": "eu-south"}, want{cluster: main}},
		{"annotation-canary-by-cookie", "app.example.com", map[string]string{"Cookie": "canary.v2=always"}, want{cluster: canary}},
		{"annotation-canary-by-cookie", "app.example.com", map[string]string{"Cookie": "a=1; canary.v2=always; b=2"}, want{cluster: canary}},
		{"annotation-canary-by-cookie", "app.example.com", map[string]string{"Cookie": "a=1,canary.v2=never"}, want{cluster: main}},
		{"annotation-canary-by-cookie", "app.example.com", map[string]string{"Cookie": "xcanary.v2=always"}, want{cluster: main}},
		{"annotation-canary-by-cookie", "app.example.com", map[string]string{"Cookie": "canaryXv2=always"}, want{cluster: main}},
		{"annotation-canary-by-cookie", "app.example.com", map[string]string{"Cookie": "canary.v2=alwaysx"}, want{cluster: main}},
		// header before cookie: the header's never wins over the cookie's always
		{"annotation-canary-by-cookie", "app.example.com", map[string]string{"X-Canary": "never", "Cookie": "canary.v2=always"}, want{cluster: main}},
		{"annotation-canary-by-cookie", "app.example.com", map[string]string{"X-Canary": "always", "Cookie": "canary.v2=never"}, want{cluster: canary}},
		{"canary-second", "app.example.com", nil, want{split: map[string]uint32{main: 90, canary: 10}}},
		{"canary-without-main", "app.example.com", nil, want{cluster: main}},
	}
	for _, c := range cases {
		in := readGoldenInput(t, "testdata/"+c.golden+"/input.yaml")
		rc := routeConfig(Translate(in.Input, in.Options), envoy.HTTPRouteConfig)
		out := evaluate(t, rc, request{authority: c.authority, path: "/x", headers: c.headers})
		if out.status != 0 || out.cluster != c.want.cluster || len(out.split) != len(c.want.split) {
			t.Errorf("%s %s %v: status %d cluster %q split %v, want cluster %q split %v", c.golden, c.authority, c.headers, out.status, out.cluster, out.split, c.want.cluster, c.want.split)
			continue
		}
		for k, v := range c.want.split {
			if out.split[k] != v {
				t.Errorf("%s %s %v: split %v, want %v", c.golden, c.authority, c.headers, out.split, c.want.split)
			}
		}
	}
}

// TestProxylessCanaryNamesPlainClusters: with a backend protocol on the
// main Ingress, the fleet's header route and split name the HTTP/2 variant
// clusters (/h2c) (the canary's cluster follows the main route's policy), while
// the proxyless table names the plain per-port clusters, which are all a
// gRPC client has.
func TestProxylessCanaryNamesPlainClusters(t *testing.T) {
	src := `
options: {proxyless: true}
ingressClasses:
- metadata: {name: fairway}
  spec: {controller: fairway.dev/ingress-controller}
services:
- {metadata: {name: web, namespace: default}, spec: {ports: [{port: 80}]}}
- {metadata: {name: web-canary, namespace: default}, spec: {ports: [{port: 80}]}}
ingresses:
- metadata: {name: web, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z", annotations: {nginx.ingress.kubernetes.io/backend-protocol: GRPC}}
  spec:
    ingressClassName: fairway
    rules:
    - host: grpc.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
- metadata: {name: web-canary, namespace: default, creationTimestamp: "2026-01-02T00:00:00Z", annotations: {nginx.ingress.kubernetes.io/canary: "true", nginx.ingress.kubernetes.io/canary-weight: "25", nginx.ingress.kubernetes.io/canary-by-header: X-Canary}}
  spec:
    ingressClassName: fairway
    rules:
    - host: grpc.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web-canary, port: {number: 80}}}}]}
`
	var in goldenInput
	if err := yaml.UnmarshalStrict([]byte(src), &in); err != nil {
		t.Fatal(err)
	}
	res := Translate(in.Input, in.Options)
	const main, canary = "default/web/80", "default/web-canary/80"
	fleet, proxyless := routeConfig(res, envoy.HTTPRouteConfig), proxylessRoutes(t, res, "grpc.example.com")
	always := map[string]string{"x-canary": "always"}
	for _, c := range []struct {
		name          string
		rc            *routev3.RouteConfiguration
		suffix        string // the clusters' variant suffix
		headers       map[string]string
		cluster       string
		mainW, canryW uint32
	}{
		{"fleet, always", fleet, "/h2c", always, canary, 0, 0},
		{"fleet, split", fleet, "/h2c", nil, "", 75, 25},
		{"proxyless, always", proxyless, "", always, canary, 0, 0},
		{"proxyless, split", proxyless, "", nil, "", 75, 25},
	} {
		out := evaluate(t, c.rc, request{authority: "grpc.example.com", path: "/pkg.Svc/Call", headers: c.headers})
		if c.cluster != "" {
			if out.cluster != c.cluster+c.suffix || out.split != nil {
				t.Errorf("%s: %+v, want cluster %s%s", c.name, out, c.cluster, c.suffix)
			}
			continue
		}
		if len(out.split) != 2 || out.split[main+c.suffix] != c.mainW || out.split[canary+c.suffix] != c.canryW {
			t.Errorf("%s: split %v, want %s%s %d, %s%s %d", c.name, out.split, main, c.suffix, c.mainW, canary, c.suffix, c.canryW)
		}
	}
}

// TestCanaryStickySessions follows affinity-canary-behavior: with cookie
// affinity the split is drawn from the affinity cookie's hash (sticky,
// the default), so a request carrying the cookie lands on the side its
// hash picks every time; legacy and upstream-hash-by draw at random.
func TestCanaryStickySessions(t *testing.T) {
	const main, canary = "default/web/80/maglev", "default/web-canary/80/maglev"
	in := readGoldenInput(t, "testdata/annotation-affinity-canary-behavior/input.yaml")
	rc := routeConfig(Translate(in.Input, in.Options), envoy.HTTPRouteConfig)
	for host, byHash := range map[string]bool{
		"sticky.example.com": true, "default.example.com": true, "invalid.example.com": true,
		"legacy.example.com": false, "hash.example.com": false,
	} {
		out := evaluate(t, rc, request{authority: host, path: "/x", headers: map[string]string{"Cookie": "INGRESSCOOKIE=abc"}})
		if out.status != 0 || out.split[main] != 70 || out.split[canary] != 30 || len(out.split) != 2 {
			t.Errorf("%s: status %d split %v, want %s 70 and %s 30", host, out.status, out.split, main, canary)
		}
		if out.splitByHash != byHash {
			t.Errorf("%s: split drawn by the hash %v, want %v", host, out.splitByHash, byHash)
		}
		if byHash && out.hashKey != "cookie:abc" {
			t.Errorf("%s: hash key %q, want the affinity cookie, which then draws the split", host, out.hashKey)
		}
	}
}

package translator

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/translator/annotations"
)

// accessInput is one Ingress for host with the given annotations, as
// ingress-nginx's e2e framework's NewSingleIngress makes it: path "/" to
// the echo Service.
func accessInput(t *testing.T, host string, annotations map[string]string, proxyless bool) Result {
	t.Helper()
	ann, err := yaml.Marshal(annotations)
	if err != nil {
		t.Fatal(err)
	}
	indented := "      " + strings.ReplaceAll(strings.TrimSpace(string(ann)), "\n", "\n      ")
	src := fmt.Sprintf(`
options: {proxyless: %t}
ingressClasses:
- metadata: {name: fairway}
  spec: {controller: fairway.dev/ingress-controller}
services:
- {metadata: {name: echo, namespace: e2e}, spec: {ports: [{port: 80}]}}
ingresses:
- metadata:
    name: %s
    namespace: e2e
    creationTimestamp: "2026-01-01T00:00:00Z"
    annotations:
%s
  spec:
    ingressClassName: fairway
    rules:
    - host: %s
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: echo, port: {number: 80}}}}]}
`, proxyless, host, indented, host)
	var in goldenInput
	if err := yaml.UnmarshalStrict([]byte(src), &in); err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return Translate(in.Input, in.Options)
}

const echo = "e2e/echo/80"

// e2eRow is one request of an ingress-nginx e2e case and what the client
// gets.
type e2eRow struct {
	from        string // the e2e file and case
	annotations map[string]string
	req         request
	status      int               // 0: forwarded to the echo Service
	headers     map[string]string // response headers that must be there
	noHeaders   []string          // response headers that must not
	problems    []Reason
	check       func(t *testing.T, out outcome)
}

// nginx is annotations under ingress-nginx's prefix, as key, value pairs.
func nginx(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[annotations.NginxPrefix+kv[i]] = kv[i+1]
	}
	return m
}

func get(path string, headers ...string) request {
	r := request{authority: "e2e.foo.com", path: path, client: netip.MustParseAddr("10.0.0.1"), headers: map[string]string{}}
	for i := 0; i < len(headers); i += 2 {
		r.headers[headers[i]] = headers[i+1]
	}
	return r
}

func from(r request, client string) request { r.client = netip.MustParseAddr(client); return r }

func preflight(origin string) request {
	r := get("/", "Origin", origin, "Access-Control-Request-Method", "POST")
	r.method = "OPTIONS"
	return r
}

func withBody(r request, n int64) request { r.method, r.bodySize = "POST", n; return r }

func idleTimeout(want time.Duration) func(t *testing.T, out outcome) {
	return func(t *testing.T, out outcome) {
		t.Helper()
		if got := out.route.GetRoute().GetIdleTimeout().AsDuration(); got != want {
			t.Errorf("route idle_timeout %v, want %v", got, want)
		}
		if out.route.GetRoute().GetTimeout().AsDuration() != 0 {
			t.Errorf("route timeout %v, want none (0)", out.route.GetRoute().GetTimeout())
		}
	}
}

const corsOrigin = "https://origin.cors.com:8080"

func e2eAccessRows() []e2eRow {
	return slices.Concat(e2eProxyRows(), e2eSourceRangeRows(), e2eCORSRows())
}

// e2eProxyRows: test/e2e/annotations/proxy.go.
func e2eProxyRows() []e2eRow {
	return []e2eRow{
		{from: `proxy.go: "should set valid proxy timeouts"`, annotations: nginx("proxy-send-timeout", "20", "proxy-read-timeout", "20"),
			req: get("/"), check: idleTimeout(20 * time.Second)},
		{from: `proxy.go: "should not set invalid proxy timeouts"`, annotations: nginx("proxy-send-timeout", "20k", "proxy-read-timeout", "20k"),
			req: get("/"), problems: []Reason{InvalidAnnotation, InvalidAnnotation}, check: idleTimeout(0)},
		{from: `proxy.go: "should set proxy client-max-body-size to 8m"`, annotations: nginx("proxy-body-size", "8m"),
			req: withBody(get("/"), 8<<20)},
		{from: `proxy.go: "should set proxy client-max-body-size to 8m" (one byte over)`, annotations: nginx("proxy-body-size", "8m"),
			req: withBody(get("/"), 8<<20+1), status: 413},
		{from: `proxy.go: "should not set proxy client-max-body-size to incorrect value"`, annotations: nginx("proxy-body-size", "15r"),
			req: withBody(get("/"), 100<<20), problems: []Reason{InvalidAnnotation}},
		{from: `proxy.go: "should build proxy next upstream"`, annotations: nginx("proxy-next-upstream-tries", "5"),
			req: get("/"), check: func(t *testing.T, out outcome) {
				rp := out.route.GetRoute().GetRetryPolicy()
				if rp.GetNumRetries().GetValue() != 4 || rp.GetRetryOn() != "connect-failure,reset-before-request" {
					t.Errorf("retry policy %v, want 4 retries of fairway's safe failures", rp)
				}
			}},
	}
}

// e2eSourceRangeRows: test/e2e/annotations/ipwhitelist.go, ipallowlist.go
// and ipdenylist.go.
func e2eSourceRangeRows() []e2eRow {
	return []e2eRow{
		{from: `ipwhitelist.go: "should set valid ip whitelist range"`, annotations: nginx("whitelist-source-range", "18.0.0.0/8, 56.0.0.0/8"),
			req: from(get("/"), "18.1.2.3")},
		{from: `ipwhitelist.go: "should set valid ip whitelist range" (another client)`, annotations: nginx("whitelist-source-range", "18.0.0.0/8, 56.0.0.0/8"),
			req: from(get("/"), "10.0.0.1"), status: 403},
		{from: `ipallowlist.go: "should set valid ip allowlist range"`, annotations: nginx("allowlist-source-range", "18.0.0.0/8, 56.0.0.0/8"),
			req: from(get("/"), "56.0.0.9")},
		{from: `ipallowlist.go: "should set valid ip allowlist range" (another client)`, annotations: nginx("allowlist-source-range", "18.0.0.0/8, 56.0.0.0/8"),
			req: from(get("/"), "57.0.0.1"), status: 403},
		{from: `ipdenylist.go: "should set valid ip denylist range when whitelist"`, annotations: nginx("denylist-source-range", "18.0.0.0/8, 56.0.0.0/8"),
			req: from(get("/"), "18.0.0.1"), status: 403},
		{from: `ipdenylist.go: "should set valid ip denylist range when whitelist" (another client)`, annotations: nginx("denylist-source-range", "18.0.0.0/8, 56.0.0.0/8"),
			req: from(get("/"), "10.0.0.1")},
		{from: `ipdenylist.go: "should set valid ip denylist range when whitelist is set" (allowed)`,
			annotations: nginx("denylist-source-range", "18.0.0.0/8, 56.0.0.0/8", "whitelist-source-range", "17.0.0.0/8, 55.0.0.0/8"),
			req:         from(get("/"), "17.1.1.1")},
		{from: `ipdenylist.go: "should set valid ip denylist range when whitelist is set" (denied)`,
			annotations: nginx("denylist-source-range", "18.0.0.0/8, 56.0.0.0/8", "whitelist-source-range", "17.0.0.0/8, 55.0.0.0/8"),
			req:         from(get("/"), "18.1.1.1"), status: 403},
		{from: `ipdenylist.go: "should set valid ip denylist range when whitelist is set" (deny all else)`,
			annotations: nginx("denylist-source-range", "18.0.0.0/8, 56.0.0.0/8", "whitelist-source-range", "17.0.0.0/8, 55.0.0.0/8"),
			req:         from(get("/"), "10.0.0.1"), status: 403},
	}
}

// e2eCORSRows: test/e2e/annotations/cors.go.
func e2eCORSRows() []e2eRow {
	const origin = corsOrigin
	return []e2eRow{
		{from: `cors.go: "should enable cors"`, annotations: nginx("enable-cors", "true"), req: preflight(origin), status: 200,
			headers: map[string]string{
				"Access-Control-Allow-Origin":  origin,
				"Access-Control-Allow-Methods": "GET, PUT, POST, DELETE, PATCH, OPTIONS",
				"Access-Control-Allow-Headers": "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization",
				"Access-Control-Max-Age":       "1728000",
			},
			// "*" with credentials: browsers refuse it from ingress-nginx,
			// and fairway does not send it.
			noHeaders: []string{"Access-Control-Allow-Credentials"}},
		{from: `cors.go: "should enable cors" (GET)`, annotations: nginx("enable-cors", "true"), req: get("/", "Origin", origin),
			headers: map[string]string{"Access-Control-Allow-Origin": origin}},
		{from: `cors.go: "should set cors methods to only allow POST, GET"`, annotations: nginx("enable-cors", "true", "cors-allow-methods", "POST, GET"),
			req: preflight(origin), status: 200, headers: map[string]string{"Access-Control-Allow-Methods": "POST, GET"}},
		{from: `cors.go: "should set cors max-age"`, annotations: nginx("enable-cors", "true", "cors-max-age", "200"),
			req: preflight(origin), status: 200, headers: map[string]string{"Access-Control-Max-Age": "200"}},
		{from: `cors.go: "should disable cors allow credentials"`,
			annotations: nginx("enable-cors", "true", "cors-allow-credentials", "false", "cors-allow-origin", origin),
			req:         get("/", "Origin", origin), headers: map[string]string{"Access-Control-Allow-Origin": origin},
			noHeaders: []string{"Access-Control-Allow-Credentials"}},
		{from: `cors.go: "should allow origin for cors"`, annotations: nginx("enable-cors", "true", "cors-allow-origin", origin),
			req: get("/", "Origin", origin), headers: map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}},
		{from: `cors.go: "should allow headers for cors"`, annotations: nginx("enable-cors", "true", "cors-allow-headers", "DNT, User-Agent"),
			req: preflight(origin), status: 200, headers: map[string]string{"Access-Control-Allow-Headers": "DNT, User-Agent"}},
		{from: `cors.go: "should expose headers for cors"`,
			annotations: nginx("enable-cors", "true", "cors-expose-headers", "X-CustomResponseHeader, X-CustomSecondHeader"),
			req:         get("/", "Origin", origin), headers: map[string]string{"Access-Control-Expose-Headers": "X-CustomResponseHeader, X-CustomSecondHeader"}},
		{from: `cors.go: "should allow - single origin for multiple cors values"`,
			annotations: nginx("enable-cors", "true", "cors-allow-origin", "https://origin.cors.com:8080, https://origin2.cors.com"),
			req:         get("/", "Origin", origin), headers: map[string]string{"Access-Control-Allow-Origin": origin}},
		{from: `cors.go: "should not allow - single origin for multiple cors values"`,
			annotations: nginx("enable-cors", "true", "cors-allow-origin", "http://origin2.cors.com, https://origin.com"),
			req:         get("/", "Origin", "http://no.origin.com"), noHeaders: []string{"Access-Control-Allow-Origin"}},
		{from: `cors.go: "should allow correct origins - single origin for multiple cors values" (bad origin)`,
			annotations: nginx("enable-cors", "true", "cors-allow-origin", "origin.cors.com:8080, https://origin2.cors.com, https://origin.com"),
			req:         get("/", "Origin", "origin.cors.com:8080"), noHeaders: []string{"Access-Control-Allow-Origin"}, problems: []Reason{InvalidAnnotation}},
		{from: `cors.go: "should allow correct origins - single origin for multiple cors values" (good origin)`,
			annotations: nginx("enable-cors", "true", "cors-allow-origin", "origin.cors.com:8080, https://origin2.cors.com, https://origin.com"),
			req:         get("/", "Origin", "https://origin.com"), headers: map[string]string{"Access-Control-Allow-Origin": "https://origin.com"}, problems: []Reason{InvalidAnnotation}},
		{from: `cors.go: "should not break functionality with extra domain"`, annotations: nginx("enable-cors", "true", "cors-allow-origin", "*, foo.bar.com"),
			req: get("/", "Origin", "https://any.example"), headers: map[string]string{"Access-Control-Allow-Origin": "https://any.example"}},
		{from: `cors.go: "should not match"`, annotations: nginx("enable-cors", "true", "cors-allow-origin", "https://foo.bar.com"),
			req: get("/", "Origin", "https://fooxbar.com"), noHeaders: []string{"Access-Control-Allow-Origin"}},
		{from: `cors.go: "should allow - single origin with required port"`,
			annotations: nginx("enable-cors", "true", "cors-allow-origin", "http://origin.cors.com:8080, http://origin.com:8080"),
			req:         get("/", "Origin", "http://origin.com:8080"), headers: map[string]string{"Access-Control-Allow-Origin": "http://origin.com:8080"}},
		{from: `cors.go: "should not allow - single origin with port and origin without port"`,
			annotations: nginx("enable-cors", "true", "cors-allow-origin", "https://origin2.cors.com, http://origin.com"),
			req:         get("/", "Origin", "http://origin.com:8080"), noHeaders: []string{"Access-Control-Allow-Origin"}},
		{from: `cors.go: "should not allow - single origin without port and origin with required port"`,
			annotations: nginx("enable-cors", "true", "cors-allow-origin", "http://origin.cors.com:8080, http://origin.com:8080"),
			req:         get("/", "Origin", "http://origin.com"), noHeaders: []string{"Access-Control-Allow-Origin"}},
		{from: `cors.go: "should allow - matching origin with wildcard origin (2 subdomains)"`,
			annotations: nginx("enable-cors", "true", "cors-allow-origin", "http://*.origin.cors.com, http://*.origin.com:8080"),
			req:         get("/", "Origin", "http://bar-foo.origin.cors.com"), headers: map[string]string{"Access-Control-Allow-Origin": "http://bar-foo.origin.cors.com"}},
		{from: `cors.go: "should not allow - unmatching origin with wildcard origin (2 subdomains)"`,
			annotations: nginx("enable-cors", "true", "cors-allow-origin", "http://*.origin.cors.com, http://*.origin.com:8080"),
			req:         get("/", "Origin", "http://bar.foo.origin.cors.com"), noHeaders: []string{"Access-Control-Allow-Origin"}},
	}
}

// TestNginxE2EAccess ports the request and response expectations of
// ingress-nginx's e2e cases for timeouts, body size, retries, source
// ranges and CORS, through the route table fairway emits.
func TestNginxE2EAccess(t *testing.T) {
	for _, row := range e2eAccessRows() {
		t.Run(row.from, func(t *testing.T) {
			res := accessInput(t, "e2e.foo.com", row.annotations, false)
			var reasons []Reason
			for _, p := range res.Problems {
				reasons = append(reasons, p.Reason)
			}
			if !slices.Equal(reasons, row.problems) {
				t.Errorf("problems %v, want %v", res.Problems, row.problems)
			}
			out := evaluate(t, res.Routes[0], row.req)
			want := echo
			if row.status != 0 {
				want = ""
			}
			if out.status != row.status || out.cluster != want {
				t.Errorf("status %d cluster %q, want %d %q", out.status, out.cluster, row.status, want)
			}
			for k, v := range row.headers {
				if out.responseHeaders[k] != v {
					t.Errorf("response header %s: %q, want %q", k, out.responseHeaders[k], v)
				}
			}
			for _, k := range row.noHeaders {
				if v, ok := out.responseHeaders[k]; ok {
					t.Errorf("response header %s: %q, want none", k, v)
				}
			}
			if row.check != nil {
				row.check(t, out)
			}
		})
	}
}

// proxylessRoutes is the route table of host's proxyless API listener.
func proxylessRoutes(t *testing.T, res Result, host string) *routev3.RouteConfiguration {
	t.Helper()
	for _, l := range res.Proxyless.Listeners {
		if l.GetName() == host {
			hcm := &hcmv3.HttpConnectionManager{}
			if err := l.GetApiListener().GetApiListener().UnmarshalTo(hcm); err != nil {
				t.Fatal(err)
			}
			for _, f := range hcm.GetHttpFilters() {
				if f.GetName() != "envoy.filters.http.router" {
					t.Errorf("proxyless HCM filter %s: gRPC gets the router only", f.GetName())
				}
			}
			return hcm.GetRouteConfig()
		}
	}
	t.Fatalf("no proxyless listener %s", host)
	return nil
}

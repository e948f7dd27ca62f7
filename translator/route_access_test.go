package translator

import (
	"strconv"
	"testing"
	"time"

	"github.com/fairwayhq/fairway/envoy"
	"sigs.k8s.io/yaml"
)

// TestProxylessGuardedRouteFailsClosed: a gRPC client cannot check its own
// address against a source range, so the proxyless route answers 403
// (which gRPC fails as an unsupported action) rather than forwarding.
func TestProxylessGuardedRouteFailsClosed(t *testing.T) {
	for _, key := range []string{"whitelist-source-range", "allowlist-source-range", "denylist-source-range"} {
		res := accessInput(t, "grpc.foo.com", nginx(key, "10.0.0.0/8"), true)
		rc := proxylessRoutes(t, res, "grpc.foo.com")
		for _, client := range []string{"10.0.0.1", "192.168.0.1"} {
			req := from(get("/pkg.Svc/Call"), client)
			req.authority = "grpc.foo.com"
			if out := evaluate(t, rc, req); out.status != 403 || out.cluster != "" {
				t.Errorf("%s, client %s: proxyless %+v, want a 403 direct response", key, client, out)
			}
		}
	}
}

// TestProxylessGetsNoEnvoyOnlyPolicy: timeouts, retries, the body limit
// and CORS are the fleet's; the proxyless route forwards as before, with
// nothing a gRPC client would have to know.
func TestProxylessGetsNoEnvoyOnlyPolicy(t *testing.T) {
	res := accessInput(t, "grpc.foo.com", nginx("proxy-read-timeout", "30", "proxy-next-upstream-tries", "2",
		"proxy-body-size", "1k", "enable-cors", "true"), true)
	rc := proxylessRoutes(t, res, "grpc.foo.com")
	r := rc.GetVirtualHosts()[0].GetRoutes()[0]
	if len(r.GetTypedPerFilterConfig()) != 0 || r.GetRoute().GetIdleTimeout() != nil || r.GetRoute().GetRetryPolicy() != nil {
		t.Errorf("proxyless route carries fleet-only policy: %v", r)
	}
	req := withBody(get("/pkg.Svc/Call"), 1<<20)
	req.authority = "grpc.foo.com"
	if out := evaluate(t, rc, req); out.cluster != echo {
		t.Errorf("proxyless: %+v, want forwarded", out)
	}
	req.authority = "grpc.foo.com"
	edge := evaluate(t, res.Routes[0], req)
	if edge.status != 413 {
		t.Errorf("fleet: %+v, want 413", edge)
	}
}

func TestLimitsDefaultsAndBounds(t *testing.T) {
	cases := []struct {
		name        string
		annotations map[string]string
		idle        time.Duration
		retries     int // -1: the virtual host's policy
		body        int64
		status      int
	}{
		{"no limits: no idle timeout, the virtual host's retries, any body", nginx("enable-cors", "false"), 0, -1, 1 << 40, 0},
		{"the larger of read and send", nginx("proxy-read-timeout", "5", "proxy-send-timeout", "3600"), time.Hour, -1, 0, 0},
		{"read alone", nginx("proxy-read-timeout", "5"), 5 * time.Second, -1, 0, 0},
		{"body size 0 is no limit", nginx("proxy-body-size", "0"), 0, -1, 1 << 40, 0},
		{"body size at the limit", nginx("proxy-body-size", "8k"), 0, -1, 8 << 10, 0},
		{"body size over the limit", nginx("proxy-body-size", "8k"), 0, -1, 8<<10 + 1, 413},
		{"one try is no retry", nginx("proxy-next-upstream-tries", "1"), 0, 0, 0, 0},
		{"tries 0 (unlimited) is bounded", nginx("proxy-next-upstream-tries", "0"), 0, envoy.RouteMaxTries - 1, 0, 0},
		{"tries above the bound are bounded", nginx("proxy-next-upstream-tries", "44"), 0, envoy.RouteMaxTries - 1, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := accessInput(t, "e2e.foo.com", c.annotations, false)
			out := evaluate(t, res.Routes[0], withBody(get("/"), c.body))
			if out.status != c.status {
				t.Fatalf("status %d, want %d", out.status, c.status)
			}
			if c.status != 0 {
				return
			}
			a := out.route.GetRoute()
			if got := a.GetIdleTimeout().AsDuration(); got != c.idle {
				t.Errorf("idle_timeout %v, want %v", got, c.idle)
			}
			if a.GetTimeout() == nil || a.GetTimeout().AsDuration() != 0 {
				t.Errorf("route timeout %v, want 0s written out (never Envoy's 15 s)", a.GetTimeout())
			}
			if got := a.GetRetryPolicy(); (c.retries < 0) != (got == nil) || (got != nil && int(got.GetNumRetries().GetValue()) != c.retries) {
				t.Errorf("retry policy %v, want %d retries", got, c.retries)
			}
		})
	}
}

// TestAccessStaysWithItsIngress: a source range guards the routes of its
// own Ingress only, even when another Ingress shares the host.
func TestAccessStaysWithItsIngress(t *testing.T) {
	var in goldenInput
	src := `
ingressClasses:
- metadata: {name: fairway}
  spec: {controller: fairway.dev/ingress-controller}
services:
- {metadata: {name: echo, namespace: e2e}, spec: {ports: [{port: 80}]}}
- {metadata: {name: admin, namespace: e2e}, spec: {ports: [{port: 80}]}}
ingresses:
- metadata: {name: public, namespace: e2e, creationTimestamp: "2026-01-01T00:00:00Z"}
  spec:
    ingressClassName: fairway
    rules: [{host: e2e.foo.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: echo, port: {number: 80}}}}]}}]
- metadata:
    name: admin
    namespace: e2e
    creationTimestamp: "2026-01-01T00:00:00Z"
    annotations: {nginx.ingress.kubernetes.io/whitelist-source-range: 10.0.0.0/8}
  spec:
    ingressClassName: fairway
    rules: [{host: e2e.foo.com, http: {paths: [{path: /admin, pathType: Prefix, backend: {service: {name: admin, port: {number: 80}}}}]}}]
`
	if err := yaml.UnmarshalStrict([]byte(src), &in); err != nil {
		t.Fatal(err)
	}
	rc := Translate(in.Input, in.Options).Routes[0]
	for _, c := range []struct{ path, client, want string }{
		{"/admin/x", "10.1.1.1", "e2e/admin/80"},
		{"/admin/x", "192.168.1.1", "403"},
		{"/public", "192.168.1.1", echo},
	} {
		out := evaluate(t, rc, from(get(c.path), c.client))
		got := out.cluster
		if out.status != 0 {
			got = strconv.Itoa(out.status)
		}
		if got != c.want {
			t.Errorf("%s from %s: %s, want %s", c.path, c.client, got, c.want)
		}
	}
}

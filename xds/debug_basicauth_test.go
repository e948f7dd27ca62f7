package xds

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/fairwayhq/fairway/envoy"
)

// withBasicAuth: one Ingress whose users Envoy can check (foo's {SHA}
// hash) and one whose Secret has a bcrypt hash, which is refused.
const withBasicAuth = `
ingressClasses:
- metadata: {name: fairway}
  spec: {controller: fairway.dev/ingress-controller}
services:
- metadata: {name: web, namespace: shop}
  spec: {ports: [{port: 80}]}
secrets:
- metadata: {name: users, namespace: shop}
  type: Opaque
  data: {foo: e1NIQX1ZczIzQWcvNUlPV3FaQ3c5UUdhVkRkSHdIMDA9}
- metadata: {name: bcrypt, namespace: shop}
  type: Opaque
  data: {alice: JDJ5JDA1JHB0aHh2bjJ0OGI5ckY5Z0YxRmh2cnV0SEtpay9nb0d4Vng1Y09aMmZjWHdySjVOd3o1cg==}
ingresses:
- metadata:
    name: private
    namespace: shop
    annotations: {nginx.ingress.kubernetes.io/auth-type: basic, nginx.ingress.kubernetes.io/auth-secret: users, nginx.ingress.kubernetes.io/auth-secret-type: auth-map}
  spec:
    ingressClassName: fairway
    rules: [{host: private.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
- metadata:
    name: bcrypt
    namespace: shop
    annotations: {nginx.ingress.kubernetes.io/auth-type: basic, nginx.ingress.kubernetes.io/auth-secret: bcrypt, nginx.ingress.kubernetes.io/auth-secret-type: auth-map}
  spec:
    ingressClassName: fairway
    rules: [{host: bcrypt.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
`

// TestDebugSnapshotRedactsBasicAuthUsers: /debug/snapshot shows the
// basic_auth filter and its realm but not the users' hashes, and the
// Problem of a refused hash names the user and never the hash.
func TestDebugSnapshotRedactsBasicAuthUsers(t *testing.T) {
	p := newTestPublisher()
	admin, err := NewAdmin("127.0.0.1:0", p, NewNodes(p, hclog.NewNullLogger(), p.metrics), p.metrics, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.lis.Close()
	if err := p.Publish(output(t, withBasicAuth)); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	admin.server.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/snapshot", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("/debug/snapshot = %d %s", rec.Code, body)
	}
	for _, hash := range []string{"Ys23Ag/5IOWqZCw9QGaVDdHwH00=", "pthxvn2t8b9rF9gF1FhvrutHKik"} {
		if strings.Contains(body, hash) {
			t.Errorf("/debug/snapshot shows a password hash (%s)", hash)
		}
	}
	for _, want := range []string{envoy.BasicAuthFilter, envoy.RedactedUsers, `has user \"alice\" with a password hash in bcrypt format`} {
		if !strings.Contains(body, want) {
			t.Errorf("/debug/snapshot lacks %q", want)
		}
	}
}

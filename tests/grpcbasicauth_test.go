package tests

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestGRPCProxylessBasicAuthFailsClosed: grpc-go runs no basic_auth
// filter, so the proxyless route of an Ingress with basic auth (and a
// Secret whose users Envoy could check) fails every call, with the right
// credentials or none, and never reaches its backend; the route table
// stays ACKed and the open path on the same host keeps working.
func TestGRPCProxylessBasicAuthFailsClosed(t *testing.T) {
	open, private := startNamedBackend(t, "open"), startNamedBackend(t, "private")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpc-basicauth.yaml"), grpcServiceYAML("grpcauth", "open", open)+"---\n"+
		grpcServiceYAML("grpcauth", "private", private)+`---
apiVersion: v1
kind: Secret
metadata: {name: users, namespace: grpcauth}
type: Opaque
stringData:
  auth: "foo:{SHA}Ys23Ag/5IOWqZCw9QGaVDdHwH00=\n"
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: open, namespace: grpcauth}
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.basicauth.example.com
    http:
      paths:
      - {path: /shop.Open, pathType: Prefix, backend: {service: {name: open, port: {name: grpc}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: private
  namespace: grpcauth
  annotations:
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: users
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.basicauth.example.com
    http:
      paths:
      - {path: /shop.Private, pathType: Prefix, backend: {service: {name: private, port: {name: grpc}}}}
`)
	f := startFairway(t, dir)
	// The Ingress is served, with basic auth on the fleet: the proxyless
	// failure below is the 401 route, not a missing one.
	if _, snap := f.get("/debug/snapshot"); !strings.Contains(snap, "envoy.filters.http.basic_auth") || strings.Contains(snap, "grpcauth") && strings.Contains(snap, "Secret grpcauth/") {
		t.Fatalf("the basic-auth Ingress is not served with its filter: %s", snap)
	}
	cc := xdsClient(t, f.xds, "grpc-basicauth", "grpc.basicauth.example.com")
	got, err := call(cc, "/shop.Open/Get", 15*time.Second)
	if err != nil || got != "open" {
		t.Fatalf("/shop.Open/Get: reached %q, %v; want the open backend", got, err)
	}
	got, err = call(cc, "/shop.Private/Get", 5*time.Second)
	if err == nil || status.Code(err) == codes.OK {
		t.Errorf("/shop.Private/Get: reached %q; a route with basic auth must fail a proxyless call", got)
	}
	if n := private.calls.Load(); n != 0 {
		t.Errorf("the private backend got %d calls", n)
	}
	assertNoGRPCNACKs(t, f)
}

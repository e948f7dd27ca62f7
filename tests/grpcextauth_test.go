package tests

import (
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestGRPCProxylessExtAuthFailsClosed: a gRPC client runs no ext_authz,
// so a path of an Ingress with auth-url fails every proxyless call rather
// than reaching its backend unchecked, whether the auth service is a
// Service or a host outside the cluster; the other paths work, and
// grpc-go ACKs the route table.
func TestGRPCProxylessExtAuthFailsClosed(t *testing.T) {
	open, checked := startNamedBackend(t, "open"), startNamedBackend(t, "checked")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpc-extauth.yaml"), grpcServiceYAML("grpcauth", "open", open)+"---\n"+
		grpcServiceYAML("grpcauth", "checked", checked)+`---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: open
  namespace: grpcauth
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.auth.example.com
    http:
      paths:
      - {path: /shop.Open, pathType: Prefix, backend: {service: {name: open, port: {name: grpc}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: in-cluster-auth
  namespace: grpcauth
  annotations:
    nginx.ingress.kubernetes.io/auth-url: http://open.grpcauth.svc.cluster.local:50051/check
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.auth.example.com
    http:
      paths:
      - {path: /shop.Checked, pathType: Prefix, backend: {service: {name: checked, port: {name: grpc}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: external-auth
  namespace: grpcauth
  annotations:
    nginx.ingress.kubernetes.io/auth-url: https://auth.example.net/check
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.auth.example.com
    http:
      paths:
      - {path: /shop.External, pathType: Prefix, backend: {service: {name: checked, port: {name: grpc}}}}
`)
	f := startFairway(t, dir)
	cc := xdsClient(t, f.xds, "grpc-extauth", "grpc.auth.example.com")
	got, err := call(cc, "/shop.Open/Get", 15*time.Second)
	if err != nil || got != "open" {
		t.Fatalf("/shop.Open/Get: reached %q, %v; want the open backend", got, err)
	}
	for _, method := range []string{"/shop.Checked/Get", "/shop.External/Get"} {
		got, err = call(cc, method, 5*time.Second)
		if err == nil || status.Code(err) == codes.OK {
			t.Errorf("%s: reached %q; a route with auth-url must fail a proxyless call", method, got)
		}
	}
	if n := checked.calls.Load(); n != 0 {
		t.Errorf("the checked backend got %d calls", n)
	}
	assertNoGRPCNACKs(t, f)
}

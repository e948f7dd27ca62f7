package tests

import (
	"path/filepath"
	"testing"
	"time"
)

// TestGRPCProxylessAffinity: session affinity is the fleet's. The fleet's
// routes hash over the /maglev cluster, while the proxyless route table
// keeps the plain, round-robin cluster and no hash policy, which grpc-go
// ACKs, and calls go through.
func TestGRPCProxylessAffinity(t *testing.T) {
	sticky, hashed := startNamedBackend(t, "sticky"), startNamedBackend(t, "hashed")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpc-affinity.yaml"), grpcServiceYAML("grpcaff", "sticky", sticky)+"---\n"+
		grpcServiceYAML("grpcaff", "hashed", hashed)+`---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: sticky
  namespace: grpcaff
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: GRPC
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/session-cookie-max-age: "3600"
    nginx.ingress.kubernetes.io/session-cookie-samesite: Lax
    nginx.ingress.kubernetes.io/session-cookie-secure: "true"
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.affinity.example.com
    http:
      paths:
      - {path: /shop.Sticky, pathType: Prefix, backend: {service: {name: sticky, port: {name: grpc}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: hashed
  namespace: grpcaff
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: GRPC
    nginx.ingress.kubernetes.io/upstream-hash-by: $http_x_user
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.affinity.example.com
    http:
      paths:
      - {path: /shop.Hashed, pathType: Prefix, backend: {service: {name: hashed, port: {name: grpc}}}}
`)
	f := startFairway(t, dir)
	cc := xdsClient(t, f.xds, "grpc-affinity", "grpc.affinity.example.com")
	for method, want := range map[string]string{"/shop.Sticky/Get": "sticky", "/shop.Hashed/Get": "hashed"} {
		if got, err := call(cc, method, 15*time.Second); err != nil || got != want {
			t.Errorf("%s: reached %q, %v; want the %s backend", method, got, err, want)
		}
	}
	assertNoGRPCNACKs(t, f)
}

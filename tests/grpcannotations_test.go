package tests

import (
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestGRPCProxylessLimitsAccessAndBackends: the other annotation groups in
// a proxyless route table that grpc-go ACKs. Timeouts, retries, a body
// limit, CORS and a backend protocol are the fleet's (the proxyless route
// keeps its match and its plain cluster, and calls go through), while a
// path with source ranges fails every call: a gRPC client cannot check
// its own address, so the guarded route must never forward.
func TestGRPCProxylessLimitsAccessAndBackends(t *testing.T) {
	open, guarded := startNamedBackend(t, "open"), startNamedBackend(t, "guarded")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpc-annotations.yaml"), grpcServiceYAML("grpcann", "open", open)+"---\n"+
		grpcServiceYAML("grpcann", "guarded", guarded)+`---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: open
  namespace: grpcann
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: GRPC
    nginx.ingress.kubernetes.io/load-balance: ewma
    nginx.ingress.kubernetes.io/proxy-connect-timeout: "3"
    nginx.ingress.kubernetes.io/proxy-read-timeout: "120"
    nginx.ingress.kubernetes.io/proxy-next-upstream-tries: "4"
    nginx.ingress.kubernetes.io/proxy-body-size: 8k
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/cors-allow-origin: https://shop.example.com
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.annotations.example.com
    http:
      paths:
      - {path: /shop.Open, pathType: Prefix, backend: {service: {name: open, port: {name: grpc}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: guarded
  namespace: grpcann
  annotations:
    nginx.ingress.kubernetes.io/whitelist-source-range: 0.0.0.0/0, ::/0
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.annotations.example.com
    http:
      paths:
      - {path: /shop.Guarded, pathType: Prefix, backend: {service: {name: guarded, port: {name: grpc}}}}
`)
	f := startFairway(t, dir)
	cc := xdsClient(t, f.xds, "grpc-annotations", "grpc.annotations.example.com")
	got, err := call(cc, "/shop.Open/Get", 15*time.Second)
	if err != nil || got != "open" {
		t.Fatalf("/shop.Open/Get: reached %q, %v; want the open backend", got, err)
	}
	got, err = call(cc, "/shop.Guarded/Get", 5*time.Second)
	if err == nil || status.Code(err) == codes.OK {
		t.Errorf("/shop.Guarded/Get: reached %q; a route with source ranges must fail a proxyless call", got)
	}
	if n := guarded.calls.Load(); n != 0 {
		t.Errorf("the guarded backend got %d calls", n)
	}
	assertNoGRPCNACKs(t, f)
}

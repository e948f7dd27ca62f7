package tests

import (
	"path/filepath"
	"testing"
	"time"
)

// TestGRPCProxylessRateLimit: a rate limit is the fleet's alone. The
// proxyless route table of a rate-limited Ingress carries no filter (gRPC
// clients run no HTTP filters), grpc-go ACKs it, and calls beyond what
// the fleet's bucket would pass at once (1, with limit-rps "1" and
// limit-burst-multiplier "0") all go through.
func TestGRPCProxylessRateLimit(t *testing.T) {
	backend := startNamedBackend(t, "limited")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpc-ratelimit.yaml"), grpcServiceYAML("grpcrl", "limited", backend)+`---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: limited
  namespace: grpcrl
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: GRPC
    nginx.ingress.kubernetes.io/limit-rps: "1"
    nginx.ingress.kubernetes.io/limit-rpm: "1"
    nginx.ingress.kubernetes.io/limit-burst-multiplier: "0"
    nginx.ingress.kubernetes.io/limit-allowlist: 10.0.0.0/8
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.ratelimit.example.com
    http:
      paths:
      - {path: /shop.Limited, pathType: Prefix, backend: {service: {name: limited, port: {name: grpc}}}}
`)
	f := startFairway(t, dir)
	cc := xdsClient(t, f.xds, "grpc-ratelimit", "grpc.ratelimit.example.com")
	for i := range 5 {
		got, err := call(cc, "/shop.Limited/Get", 15*time.Second)
		if err != nil || got != "limited" {
			t.Fatalf("call %d: reached %q, %v; want the backend", i, got, err)
		}
	}
	if n := backend.calls.Load(); n != 5 {
		t.Errorf("the backend got %d calls, want 5", n)
	}
	assertNoGRPCNACKs(t, f)
}

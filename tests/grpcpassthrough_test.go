package tests

import (
	"path/filepath"
	"testing"
	"time"
)

// TestGRPCProxylessPassthrough: a passthrough Ingress is the fleet's alone
// (an SNI chain on the https listener): a proxyless gRPC client that dials
// its host gets no listener and reaches nothing, while a routed host
// beside it works, and grpc-go ACKs what it is sent.
func TestGRPCProxylessPassthrough(t *testing.T) {
	open, passed := startNamedBackend(t, "open"), startNamedBackend(t, "passed")
	dir := manifestDir(t)
	ingress := func(name, host, svc, annotations string) string {
		return `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ` + name + `
  namespace: grpcpass
  annotations: {` + annotations + `}
spec:
  ingressClassName: fairway
  rules:
  - host: ` + host + `
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: ` + svc + `, port: {name: grpc}}}}
`
	}
	writeFile(t, filepath.Join(dir, "grpc-passthrough.yaml"), grpcServiceYAML("grpcpass", "open", open)+"---\n"+
		grpcServiceYAML("grpcpass", "passed", passed)+
		ingress("open", "grpc.open.example.com", "open", "")+
		ingress("passed", "grpc.passed.example.com", "passed", `nginx.ingress.kubernetes.io/ssl-passthrough: "true"`))
	f := startFairway(t, dir)
	cc := xdsClient(t, f.xds, "grpc-open", "grpc.open.example.com")
	if got, err := call(cc, "/grpc.health.v1.Health/Check", 15*time.Second); err != nil || got != "open" {
		t.Fatalf("grpc.open.example.com: reached %q, %v; want the open backend", got, err)
	}
	pc := xdsClient(t, f.xds, "grpc-passed", "grpc.passed.example.com")
	if got, err := call(pc, "/grpc.health.v1.Health/Check", 5*time.Second); err == nil {
		t.Errorf("grpc.passed.example.com: reached %q; a passthrough host has nothing for proxyless clients", got)
	}
	if n := passed.calls.Load(); n != 0 {
		t.Errorf("the passthrough backend got %d proxyless calls", n)
	}
	// The passthrough host's client is never given a listener, so it has
	// no cluster or endpoints to ACK, as a server has none: it is held to
	// no NACK and an answered listener subscription only.
	assertNoGRPCNACKs(t, f, "grpc-passed")
}

package tests

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"
)

// callWithHeader is call with one request header (gRPC metadata).
func callWithHeader(cc *grpc.ClientConn, method, key, value string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, key, value)
	var hdr metadata.MD
	if err := cc.Invoke(ctx, method, &emptypb.Empty{}, &emptypb.Empty{}, grpc.Header(&hdr), grpc.WaitForReady(true)); err != nil {
		return "", err
	}
	return strings.Join(hdr.Get("backend"), ","), nil
}

// TestGRPCProxylessCanary: a canary Ingress as Argo Rollouts writes it
// (canary-weight 30, canary-by-header X-Canary) reaches grpc-go through
// the proxyless route table, which grpc-go ACKs: "always" goes to the
// canary, "never" and no header split about 70/30 between the two.
func TestGRPCProxylessCanary(t *testing.T) {
	stable, canary := startNamedBackend(t, "stable"), startNamedBackend(t, "canary")
	dir := manifestDir(t)
	ingress := func(name, svc, annotations string) string {
		return `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ` + name + `
  namespace: grpccanary
  annotations: {` + annotations + `}
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.canary.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: ` + svc + `, port: {name: grpc}}}}
`
	}
	writeFile(t, filepath.Join(dir, "grpc-canary.yaml"), grpcServiceYAML("grpccanary", "stable", stable)+"---\n"+
		grpcServiceYAML("grpccanary", "canary", canary)+
		ingress("shop", "stable", "")+
		ingress("rollout-shop-canary", "canary", `nginx.ingress.kubernetes.io/canary: "true", nginx.ingress.kubernetes.io/canary-weight: "30", nginx.ingress.kubernetes.io/canary-by-header: X-Canary`))
	f := startFairway(t, dir)
	cc := xdsClient(t, f.xds, "grpc-canary", "grpc.canary.example.com")
	const method = "/grpc.health.v1.Health/Check"
	for _, c := range []struct{ value, want string }{{"always", "canary"}, {"never", "stable"}} {
		for range 20 {
			got, err := callWithHeader(cc, method, "x-canary", c.value)
			if err != nil || got != c.want {
				t.Fatalf("x-canary: %s reached %q, %v; want %s", c.value, got, err, c.want)
			}
		}
	}
	const n = 400
	seen := countBackends(t, cc, n)
	if seen["stable"]+seen["canary"] != n || seen["canary"] < n*15/100 || seen["canary"] > n*45/100 {
		t.Errorf("without the header, %d calls reached %v; want about 30%% at the canary", n, seen)
	}
	assertNoGRPCNACKs(t, f)
}

package tests

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
)

// TestGRPCProxylessGRPCRoute: grpc-go's own xDS client, dialling
// xds:///grpc.gw.example.com, is routed by a GRPCRoute on a Gateway that
// shares the fleet's http listener: an exact method match, a service
// match, and a header match each reach their backend, the weighted rule
// splits by weight, and grpc-go NACKs nothing.
func TestGRPCProxylessGRPCRoute(t *testing.T) {
	get, cart, canary := startNamedBackend(t, "get"), startNamedBackend(t, "cart"), startNamedBackend(t, "canary")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpc-gateway.yaml"), grpcServiceYAML("grpcgw", "get", get)+"---\n"+
		grpcServiceYAML("grpcgw", "cart", cart)+"---\n"+grpcServiceYAML("grpcgw", "canary", canary)+`---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: fairway}
spec: {controllerName: fairway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: grpcgw}
spec:
  gatewayClassName: fairway
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: shop, namespace: grpcgw}
spec:
  parentRefs: [{name: edge}]
  hostnames: [grpc.gw.example.com]
  rules:
  - matches: [{method: {service: shop.Cart, method: Get}}]
    backendRefs: [{name: get, port: 50051}]
  - matches: [{method: {service: shop.Cart}, headers: [{name: x-canary, value: "yes"}]}]
    backendRefs: [{name: canary, port: 50051}]
  - matches: [{method: {service: shop.Cart}}]
    backendRefs: [{name: cart, port: 50051}]
`)
	f := startFairway(t, dir)
	cc := xdsClient(t, f.xds, "grpc-gateway", "grpc.gw.example.com")
	for _, c := range []struct {
		method, header, want string
	}{
		{"/shop.Cart/Get", "", "get"},
		{"/shop.Cart/Put", "", "cart"},
		{"/shop.Cart/Put", "yes", "canary"},
		{"/shop.Cart/Get", "yes", "get"}, // the exact method match ranks first
	} {
		ctx := context.Background()
		if c.header != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "x-canary", c.header)
		}
		got, err := callCtx(ctx, cc, c.method, 15*time.Second)
		if err != nil {
			t.Fatalf("%s (x-canary %q): %v", c.method, c.header, err)
		}
		if got != c.want {
			t.Errorf("%s (x-canary %q): reached %q, want %q", c.method, c.header, got, c.want)
		}
	}
	assertNoGRPCNACKs(t, f)
}

package tests

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
)

// gatewayClassYAML is fairway's GatewayClass, between two documents.
const gatewayClassYAML = `---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: fairway}
spec: {controllerName: fairway.dev/gateway-controller}
---
`

// TestGRPCProxylessGRPCRoute: grpc-go's own xDS client, dialling
// xds:///grpc.gw.example.com, is routed by a GRPCRoute on a Gateway that
// shares the fleet's http listener: an exact method match, a service
// match, and a header match each reach their backend, and grpc-go NACKs
// nothing.
func TestGRPCProxylessGRPCRoute(t *testing.T) {
	get, cart, canary := startNamedBackend(t, "get"), startNamedBackend(t, "cart"), startNamedBackend(t, "canary")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpc-gateway.yaml"), grpcServiceYAML("grpcgw", "get", get)+"---\n"+
		grpcServiceYAML("grpcgw", "cart", cart)+"---\n"+grpcServiceYAML("grpcgw", "canary", canary)+gatewayClassYAML+`apiVersion: gateway.networking.k8s.io/v1
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

// TestGRPCProxylessGRPCRouteOwnAddress: with an address pool each Gateway
// has a listener of its own, and grpc-go dialling
// xds:///<host>:<port> is routed by the GRPCRoutes of the Gateway that
// serves that hostname on that port: a method match reaches its backend,
// a weighted rule reaches both of its backends, and the newer Gateway
// serving the same name does not take it (the older one's routes answer).
func TestGRPCProxylessGRPCRouteOwnAddress(t *testing.T) {
	get, cart, canary, other := startNamedBackend(t, "get"), startNamedBackend(t, "cart"), startNamedBackend(t, "canary"), startNamedBackend(t, "other")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpc-gateway.yaml"), grpcServiceYAML("grpcgw", "get", get)+"---\n"+
		grpcServiceYAML("grpcgw", "cart", cart)+"---\n"+grpcServiceYAML("grpcgw", "canary", canary)+"---\n"+
		grpcServiceYAML("grpcgw", "other", other)+gatewayClassYAML+`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: grpcgw, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  gatewayClassName: fairway
  listeners: [{name: grpc, port: 9443, protocol: HTTP, hostname: grpc.gw.example.com}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: late, namespace: grpcgw, creationTimestamp: "2026-01-02T00:00:00Z"}
spec:
  gatewayClassName: fairway
  listeners: [{name: grpc, port: 9443, protocol: HTTP, hostname: grpc.gw.example.com}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: shop, namespace: grpcgw}
spec:
  parentRefs: [{name: edge}]
  rules:
  - matches: [{method: {service: shop.Cart, method: Get}}]
    backendRefs: [{name: get, port: 50051}]
  - matches: [{method: {service: shop.Cart}}]
    backendRefs: [{name: cart, port: 50051, weight: 1}, {name: canary, port: 50051, weight: 1}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: late, namespace: grpcgw}
spec:
  parentRefs: [{name: late}]
  rules:
  - backendRefs: [{name: other, port: 50051}]
`)
	f := startFairway(t, dir, "--lb-address-pool", "10.99.0.0/24")
	cc := xdsClient(t, f.xds, "grpc-gateway-own", "grpc.gw.example.com:9443")
	if got, err := call(cc, "/shop.Cart/Get", 15*time.Second); err != nil || got != "get" {
		t.Fatalf("/shop.Cart/Get: reached %q (%v), want get", got, err)
	}
	reached := map[string]int{}
	for range 40 {
		got, err := call(cc, "/shop.Cart/Put", 15*time.Second)
		if err != nil {
			t.Fatalf("/shop.Cart/Put: %v", err)
		}
		reached[got]++
	}
	if reached["cart"] == 0 || reached["canary"] == 0 || len(reached) != 2 {
		t.Errorf("the weighted rule reached %v, want both cart and canary and nothing else", reached)
	}
	assertNoGRPCNACKs(t, f)
}

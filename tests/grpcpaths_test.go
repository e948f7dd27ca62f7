package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestGRPCProxylessRegexAndRedirect: the paths group's annotations in a
// proxyless route table that grpc-go ACKs: a use-regex path (with a
// rewrite, an upstream host and X-Forwarded-Prefix, which the proxyless
// table leaves out) is matched by grpc-go's own router case-insensitively
// from the start, a literal prefix of another Ingress on the host still
// ranks by length, and a redirect fails the call rather than forward it.
func TestGRPCProxylessRegexAndRedirect(t *testing.T) {
	cart, orders := startNamedBackend(t, "cart"), startNamedBackend(t, "orders")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpc-paths.yaml"), grpcServiceYAML("grpcpaths", "cart", cart)+"---\n"+
		grpcServiceYAML("grpcpaths", "orders", orders)+`---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: regex
  namespace: grpcpaths
  annotations:
    nginx.ingress.kubernetes.io/use-regex: "true"
    nginx.ingress.kubernetes.io/rewrite-target: /shop.Cart/$1
    nginx.ingress.kubernetes.io/upstream-vhost: cart.internal
    nginx.ingress.kubernetes.io/x-forwarded-prefix: /cart
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.paths.example.com
    http:
      paths:
      - {path: "/shop\\.cart/(get|put)$", pathType: ImplementationSpecific, backend: {service: {name: cart, port: {name: grpc}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: plain, namespace: grpcpaths}
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.paths.example.com
    http:
      paths:
      - {path: /shop.Cart, pathType: Prefix, backend: {service: {name: orders, port: {name: grpc}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: moved
  namespace: grpcpaths
  annotations:
    nginx.ingress.kubernetes.io/permanent-redirect: https://elsewhere.example.com/
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.paths.example.com
    http:
      paths:
      - {path: /shop.Old, pathType: Prefix, backend: {service: {name: orders, port: {name: grpc}}}}
`)
	f := startFairway(t, dir)
	cc := xdsClient(t, f.xds, "grpc-paths", "grpc.paths.example.com")
	for _, c := range []struct{ method, want string }{
		{"/shop.Cart/Get", "cart"}, // the regex, case-insensitive; the longer text ranks first
		{"/shop.Cart/Put", "cart"},
		{"/shop.Cart/GetMore", "orders"}, // "$" ends the regex: the literal prefix takes it
		{"/shop.Cart/List", "orders"},
	} {
		got, err := call(cc, c.method, 15*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", c.method, err)
		}
		if got != c.want {
			t.Errorf("%s: reached %q, want %q", c.method, got, c.want)
		}
	}
	got, err := call(cc, "/shop.Old/Get", 5*time.Second)
	if err == nil || status.Code(err) == codes.OK {
		t.Errorf("/shop.Old/Get: reached %q; a redirect route must fail the call", got)
	}
	assertNoGRPCNACKs(t, f)
}

// TestGRPCJSRegexRoute: grpc-js-xds, whose regex engine is RE2 in
// WebAssembly rather than Go's, takes a proxyless table with a use-regex
// route (and the rewrites the proxyless table leaves out), matches it
// case-insensitively, and ranks it before a shorter literal prefix.
func TestGRPCJSRegexRoute(t *testing.T) {
	node := ensureGRPCJS(t)
	a, b := startNamedBackend(t, "a"), startNamedBackend(t, "b")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpcjs-paths.yaml"), grpcServiceYAML("grpcjs", "a", a)+"---\n"+
		grpcServiceYAML("grpcjs", "b", b)+`---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: regex
  namespace: grpcjs
  annotations:
    nginx.ingress.kubernetes.io/use-regex: "true"
    nginx.ingress.kubernetes.io/rewrite-target: /grpc.health.v1.Health/$1
    nginx.ingress.kubernetes.io/upstream-vhost: health.internal
spec:
  ingressClassName: fairway
  rules:
  - host: grpcjs.paths.example.com
    http:
      paths:
      - {path: "/GRPC\\.HEALTH\\.v1\\.health/(check|watch)$", pathType: ImplementationSpecific, backend: {service: {name: a, port: {name: grpc}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: plain, namespace: grpcjs}
spec:
  ingressClassName: fairway
  rules:
  - host: grpcjs.paths.example.com
    http:
      paths:
      - {path: /grpc.health.v1.Health, pathType: Prefix, backend: {service: {name: b, port: {name: grpc}}}}
`)
	f := startFairway(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "client.js", "xds:///grpcjs.paths.example.com", "3")
	cmd.Dir = grpcjsDir
	cmd.Env = append(withoutEnv(os.Environ(), "GRPC_XDS_BOOTSTRAP", "GRPC_XDS_BOOTSTRAP_CONFIG"),
		"GRPC_XDS_BOOTSTRAP_CONFIG="+string(grpcBootstrap(t, f.xds, "grpcjs-paths")))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("grpc-js through the regex route: %v\n%s", err, stderr.String())
	}
	if got := strings.Fields(string(out)); !slices.Equal(got, []string{"a", "a", "a"}) {
		t.Errorf("Health/Check went to %v; want the regex route's backend a each time", got)
	}
}

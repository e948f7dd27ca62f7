package tests

import (
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// badPortManifests is a Service whose only port has no number, named by an
// Ingress backend, next to a healthy Service and Ingress.
const badPortManifests = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: fairway}
spec: {controller: fairway.dev/ingress-controller}
---
apiVersion: v1
kind: Service
metadata: {name: greeter, namespace: apps}
spec:
  ports:
  - name: grpc
    appProtocol: grpc
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: greeter, namespace: apps}
spec:
  ingressClassName: fairway
  rules:
  - host: greeter.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: greeter, port: {name: grpc}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec:
  ports:
  - {name: http, port: 80}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: apps, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [10.0.0.7], conditions: {ready: true}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: apps}
spec:
  ingressClassName: fairway
  rules:
  - host: web.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`

// TestOneBadObjectDoesNotBlockTheOthers: serve --manifests on that
// directory gets ready and serves the healthy host (once this never got
// ready: the publish check refused a dangling proxyless cluster reference),
// and the bad backend is a Problem naming the Ingress.
func TestOneBadObjectDoesNotBlockTheOthers(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "apps.yaml"), badPortManifests)
	f := startFairway(t, dir)
	if code, body := f.get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	v := watchADS(t, f.xds, "envoy-0")
	v.waitFor(5*time.Second, "the healthy host and its cluster", func() bool {
		return slices.Contains(v.virtualHosts("http"), "web.example.com") &&
			v.cluster("apps/web/80") != nil && slices.Equal(v.endpoints("apps/web/80"), []string{"10.0.0.7"})
	})
	v.alive()
	if v.has(resourcev3.ClusterType, "apps/greeter/0") {
		t.Error("the port without a number got a cluster")
	}
	found := false
	for _, p := range f.snapshot().Problems {
		found = found || (p.Kind == "Ingress" && p.Name == "greeter" && p.Reason == "InvalidPort")
	}
	if !found {
		t.Errorf("no InvalidPort Problem for Ingress apps/greeter in %+v", f.snapshot().Problems)
	}
}

package xds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hashicorp/go-hclog"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator"
)

const shop = `
ingressClasses:
- metadata: {name: fairway}
  spec: {controller: fairway.dev/ingress-controller}
services:
- metadata: {name: web, namespace: shop}
  spec: {ports: [{name: http, port: 80}]}
- metadata: {name: db, namespace: shop}
  spec: {type: LoadBalancer, ports: [{port: 5432}]}
endpointSlices:
- metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  ports: [{name: http, port: 8080}]
  endpoints: [{addresses: [10.0.0.1]}]
ingresses:
- metadata: {name: web, namespace: shop}
  spec:
    ingressClassName: fairway
    rules: [{host: shop.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
`

func translate(t *testing.T, doc string) *translator.Result {
	t.Helper()
	var in translator.Input
	if err := yaml.UnmarshalStrict([]byte(doc), &in); err != nil {
		t.Fatal(err)
	}
	res := translator.Translate(in, translator.Options{Proxyless: true})
	return &res
}

func newTestPublisher() *Publisher {
	return NewPublisher(GroupByNone, hclog.NewNullLogger(), NewMetrics())
}

// TestVersionsAreContentHashes: the same content gives the same versions
// (across publishers, so across restarts), and a change to endpoints only
// changes only the endpoint version.
func TestVersionsAreContentHashes(t *testing.T) {
	a, b := newTestPublisher(), newTestPublisher()
	ctx := context.Background()
	if err := a.Publish(ctx, translate(t, shop)); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, translate(t, shop)); err != nil {
		t.Fatal(err)
	}
	va, vb := a.Versions(), b.Versions()
	for snap, types := range va {
		for typ, v := range types {
			if v == "" || vb[snap][typ] != v {
				t.Errorf("%s %s: versions %q and %q; want equal and non-empty", snap, typ, v, vb[snap][typ])
			}
		}
	}
	moved := translate(t, shop)
	moved.Endpoints[0] = envoy.ClusterLoadAssignment(moved.Endpoints[0].ClusterName, []envoy.Locality{{Endpoints: []envoy.Endpoint{{Address: "10.0.0.2", Port: 8080}}}})
	if err := b.Publish(ctx, moved); err != nil {
		t.Fatal(err)
	}
	for typ, v := range b.Versions()["envoy"] {
		if changed := v != va["envoy"][typ]; changed != (typ == "endpoint") {
			t.Errorf("after an endpoint change, %s version changed=%v", typ, changed)
		}
	}
}

// TestInvalidResultKeepsTheLastGoodSnapshot: validation failure publishes
// nothing and counts it.
func TestInvalidResultKeepsTheLastGoodSnapshot(t *testing.T) {
	p := newTestPublisher()
	ctx := context.Background()
	good := translate(t, shop)
	if err := p.Publish(ctx, good); err != nil {
		t.Fatal(err)
	}
	before := p.Versions()
	bad := translate(t, shop)
	bad.Clusters = bad.Clusters[:0] // routes now point at missing clusters
	if err := p.Publish(ctx, bad); err == nil {
		t.Fatal("a Result with dangling cluster references was published")
	}
	if p.Current() != good {
		t.Error("the last good Result is no longer current")
	}
	if after := p.Versions(); after["envoy"]["cluster"] != before["envoy"]["cluster"] {
		t.Error("versions changed after a failed publication")
	}
	if got := counterValue(t, p.metrics.Publications.WithLabelValues("failed")); got != 1 {
		t.Errorf("failed publications = %v, want 1", got)
	}
}

// TestReadyz: not ready before the first snapshot, ready after.
func TestReadyz(t *testing.T) {
	p := newTestPublisher()
	admin, err := NewAdmin("127.0.0.1:0", p, NewNodes(p, hclog.NewNullLogger(), p.metrics), p.metrics, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.lis.Close()
	get := func(path string) int {
		rec := httptest.NewRecorder()
		admin.server.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	if code := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the first snapshot = %d, want 503", code)
	}
	if code := get("/debug/snapshot"); code != http.StatusServiceUnavailable {
		t.Errorf("/debug/snapshot before the first snapshot = %d, want 503", code)
	}
	if code := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200 at any time", code)
	}
	if err := p.Publish(context.Background(), translate(t, shop)); err != nil {
		t.Fatal(err)
	}
	if code := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the first snapshot = %d, want 200", code)
	}
}

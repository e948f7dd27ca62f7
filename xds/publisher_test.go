package xds

import (
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hashicorp/go-hclog"
	"sigs.k8s.io/yaml"

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

func engineFor(t *testing.T, doc string) (*translator.Engine, translator.Input) {
	t.Helper()
	var in translator.Input
	if err := yaml.UnmarshalStrict([]byte(doc), &in); err != nil {
		t.Fatal(err)
	}
	e := translator.NewEngine(translator.Options{Proxyless: true})
	e.Sync(in)
	return e, in
}

func output(t *testing.T, doc string) translator.Output {
	t.Helper()
	e, _ := engineFor(t, doc)
	return e.Output()
}

func newTestPublisher() *Publisher {
	return NewPublisher(GroupByNone, hclog.NewNullLogger(), NewMetrics())
}

// TestVersionsAreContentHashes: the same content gives the same versions
// (across publishers, so across restarts), and a change to endpoints only
// changes only the endpoint version.
func TestVersionsAreContentHashes(t *testing.T) {
	a, b := newTestPublisher(), newTestPublisher()
	if err := a.Publish(output(t, shop)); err != nil {
		t.Fatal(err)
	}
	eb, in := engineFor(t, shop)
	if err := b.Publish(eb.Output()); err != nil {
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
	moved := in.EndpointSlices[0].DeepCopy()
	moved.Endpoints[0].Addresses[0] = "10.0.0.2"
	if err := eb.Upsert(moved); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(eb.Output()); err != nil {
		t.Fatal(err)
	}
	for snap, types := range b.Versions() {
		for typ, v := range types {
			if changed := v != va[snap][typ]; changed != (typ == "endpoint") {
				t.Errorf("after an endpoint change, %s %s version changed=%v", snap, typ, changed)
			}
		}
	}
}

// TestFailedOutputKeepsTheLastGood: an Output whose resources failed their
// checks publishes nothing and is counted.
func TestFailedOutputKeepsTheLastGood(t *testing.T) {
	p := newTestPublisher()
	e, in := engineFor(t, shop)
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	before := p.Versions()
	moved := in.EndpointSlices[0].DeepCopy()
	moved.Endpoints[0].Addresses[0] = "10.0.0.2"
	if err := e.Upsert(moved); err != nil {
		t.Fatal(err)
	}
	bad := e.Output()
	bad.Err = errors.New("a resource failed validation")
	if err := p.Publish(bad); err == nil {
		t.Fatal("an Output with an error was published")
	}
	if after := p.Versions(); !maps.EqualFunc(after, before, maps.Equal) {
		t.Error("versions changed after a failed publication")
	}
	if got := counterValue(t, p.metrics.Publications.WithLabelValues("failed")); got != 1 {
		t.Errorf("failed publications = %v, want 1", got)
	}
	bad.Err = nil // the changes wait in the resource set for the next good Output
	if err := p.Publish(bad); err != nil {
		t.Fatal(err)
	}
	if after := p.Versions(); after["envoy"]["endpoint"] == before["envoy"]["endpoint"] {
		t.Error("the endpoint change was lost after a failed publication")
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
	if err := p.Publish(output(t, shop)); err != nil {
		t.Fatal(err)
	}
	if code := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the first snapshot = %d, want 200", code)
	}
}

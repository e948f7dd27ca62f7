package translator

import (
	"slices"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"sigs.k8s.io/yaml"
)

const appProtocolInput = `
ingressClasses:
- metadata: {name: fairway}
  spec: {controller: fairway.dev/ingress-controller}
services:
- metadata: {name: greeter, namespace: apps}
  spec: {ports: [{name: grpc, port: 50051}]}
endpointSlices:
- metadata: {name: greeter-1, namespace: apps, labels: {kubernetes.io/service-name: greeter}}
  addressType: IPv4
  ports: [{name: grpc, port: 50051}]
  endpoints: [{addresses: [10.0.0.1]}]
ingresses:
- metadata: {name: grpc, namespace: apps}
  spec:
    ingressClassName: fairway
    defaultBackend: {service: {name: greeter, port: {name: grpc}}}
    rules:
    - host: greeter.example.com
      http: {paths: [{path: /helloworld.Greeter, pathType: Prefix, backend: {service: {name: greeter, port: {name: grpc}}}}]}
`

// TestAppProtocolChangeMovesRoutes: when a Service port's appProtocol
// changes, the incremental engine re-resolves the routes (and the default
// backend) that use it: they move to the variant cluster, the plain one
// goes, and the result is what a translation from scratch gives. The
// proxyless API listener keeps naming the plain cluster throughout.
func TestAppProtocolChangeMovesRoutes(t *testing.T) {
	var in Input
	if err := yaml.UnmarshalStrict([]byte(appProtocolInput), &in); err != nil {
		t.Fatal(err)
	}
	opts := Options{Proxyless: true}
	e := NewEngine(opts)
	e.Sync(in)
	check := func(wantCluster, gone string) {
		t.Helper()
		out := e.Output()
		cold := NewEngine(opts)
		cold.Sync(in)
		if diff := compareOutputs(out, cold.Output()); diff != "" {
			t.Fatalf("incremental differs from scratch:\n%s", diff)
		}
		res := out.Result()
		if err := res.Validate(); err != nil {
			t.Fatal(err)
		}
		rc := routeConfig(res, "http")
		for _, path := range []string{"/helloworld.Greeter/SayHello", "/other"} {
			if got := pick(t, rc, "greeter.example.com", path); got != wantCluster {
				t.Errorf("%s: reached %q, want %q", path, got, wantCluster)
			}
		}
		names := clusterNames(res)
		if !slices.Contains(names, wantCluster) || slices.Contains(names, gone) {
			t.Errorf("clusters %v: want %s and not %s", names, wantCluster, gone)
		}
		if got := apiListenerClusters(t, res.Proxyless.Listeners, "greeter.example.com"); !slices.Equal(got, []string{"apps/greeter/50051", "apps/greeter/50051", "apps/greeter/50051"}) {
			t.Errorf("proxyless routes name %v, want the plain cluster", got)
		}
	}
	check("apps/greeter/50051", "apps/greeter/50051/h2c")
	svc := in.Services[0].DeepCopy()
	svc.Spec.Ports[0].AppProtocol = new("kubernetes.io/h2c")
	in.Services[0] = svc
	if err := e.Upsert(svc); err != nil {
		t.Fatal(err)
	}
	check("apps/greeter/50051/h2c", "apps/greeter/50051")
	svc = svc.DeepCopy()
	svc.Spec.Ports[0].AppProtocol = nil
	in.Services[0] = svc
	if err := e.Upsert(svc); err != nil {
		t.Fatal(err)
	}
	check("apps/greeter/50051", "apps/greeter/50051/h2c")
}

func clusterNames(res Result) []string {
	var out []string
	for _, c := range res.Clusters {
		out = append(out, c.GetName())
	}
	return out
}

// apiListenerClusters are the clusters of the routes of a proxyless API
// listener, in order.
func apiListenerClusters(t *testing.T, ls []*listenerv3.Listener, name string) []string {
	t.Helper()
	for _, l := range ls {
		if l.GetName() != name {
			continue
		}
		var hcm hcmv3.HttpConnectionManager
		if err := l.GetApiListener().GetApiListener().UnmarshalTo(&hcm); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, vh := range hcm.GetRouteConfig().GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if a, ok := r.GetAction().(*routev3.Route_Route); ok {
					out = append(out, a.Route.GetCluster())
				}
			}
		}
		return out
	}
	t.Fatalf("no API listener %q", name)
	return nil
}

// TestBackendGoldenRequests follows requests through the route tables of
// the backend goldens to the cluster each reaches: the variant names are
// what the routes say, per path, per Ingress and for the default backend.
func TestBackendGoldenRequests(t *testing.T) {
	for _, c := range []struct {
		golden string
		host   string
		want   map[string]string // path -> cluster
	}{
		{"backend-protocol-two-clusters", "api.example.com", map[string]string{
			"/shop.v1.Cart/Add": "shop/api/8443/h2/least-request/connect-10s",
			"/shop.v1.Cart":     "shop/api/8443/h2/least-request/connect-10s",
			"/shop.v1.CartX":    "shop/api/8443",
			"/":                 "shop/api/8443",
		}},
		{"backend-app-protocol", "app.example.com", map[string]string{
			"/h2c": "default/app/81/h2c", "/grpc/x.Y/Z": "default/app/82/h2c", "/https": "default/app/83/tls",
			"/k8s-https": "default/app/84/tls", "/ws": "default/app/85", "/wss/chat": "default/app/86/tls",
			"/http": "default/app/87", "/custom": "default/app/88", "/none": "default/app/89", "/elsewhere": "default/app/82/h2c",
		}},
		{"annotation-backend-protocol", "grpcs.example.com", map[string]string{"/": "default/web/443/h2"}},
		{"annotation-backend-protocol", "http.example.com", map[string]string{"/": "default/greeter/50051"}},
		{"annotation-backend-protocol", "h2c.example.com", map[string]string{"/": "default/web/80/h2c"}},
		{"annotation-backend-protocol-fcgi", "php.example.com", map[string]string{"/index.php": "default/php/9000/h2c"}},
		{"annotation-load-balance", "ewma.example.com", map[string]string{"/": "default/web/80/least-request"}},
		{"annotation-load-balance", "rr.example.com", map[string]string{"/": "default/web/80"}},
		{"annotation-affinity", "sticky-ewma.example.com", map[string]string{"/": "default/web/80/maglev"}},
		{"annotation-affinity", "plain.example.com", map[string]string{"/": "default/web/80"}},
		{"annotation-affinity-invalid", "cookie-alone.example.com", map[string]string{"/": "default/web/80"}},
		{"annotation-upstream-hash-by", "header.example.com", map[string]string{"/": "default/web/80/maglev"}},
		{"annotation-upstream-hash-by-invalid", "combined.example.com", map[string]string{"/": "default/web/80"}},
		{"annotation-proxy-connect-timeout", "suffixed.example.com", map[string]string{"/": "default/web/80/connect-50s"}},
		{"annotation-proxy-connect-timeout", "default.example.com", map[string]string{"/": "default/web/80"}},
		{"annotation-proxy-connect-timeout-invalid", "zero.example.com", map[string]string{"/": "default/web/80"}},
	} {
		in := readGoldenInput(t, "testdata/"+c.golden+"/input.yaml")
		res := Translate(in.Input, in.Options)
		if err := res.Validate(); err != nil {
			t.Fatalf("%s: %v", c.golden, err)
		}
		rc := routeConfig(res, "http")
		for path, want := range c.want {
			if got := pick(t, rc, c.host, path); got != want {
				t.Errorf("%s: %s%s reached %q, want %q", c.golden, c.host, path, got, want)
			}
		}
	}
}

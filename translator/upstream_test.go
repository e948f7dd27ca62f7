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

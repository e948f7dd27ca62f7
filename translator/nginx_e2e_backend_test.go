package translator

import (
	"strconv"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// upstreamShape is what a cluster says about speaking to its backend, as
// far as ingress-nginx's e2e cases check it (nginx.conf's proxy_pass
// https://, grpc_pass grpc:// and grpcs://, proxy_connect_timeout, the
// balancer).
type upstreamShape struct {
	tls          bool
	alpn         string // the one ALPN protocol offered over TLS
	http2        bool
	leastRequest bool
	connect      time.Duration
}

// shapeOf reads a cluster's upstream settings. A setting it does not know
// fails the test, so that a row cannot pass over what it does not check.
func shapeOf(t *testing.T, c *clusterv3.Cluster) upstreamShape {
	t.Helper()
	s := upstreamShape{connect: c.GetConnectTimeout().AsDuration()}
	switch c.GetLbPolicy() {
	case clusterv3.Cluster_ROUND_ROBIN:
	case clusterv3.Cluster_LEAST_REQUEST:
		s.leastRequest = true
	default:
		t.Fatalf("cluster %s: balancer %v", c.GetName(), c.GetLbPolicy())
	}
	for key, opts := range c.GetTypedExtensionProtocolOptions() {
		var h httpv3.HttpProtocolOptions
		if key != "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" || opts.UnmarshalTo(&h) != nil {
			t.Fatalf("cluster %s: protocol options %s this test does not know", c.GetName(), key)
		}
		s.http2 = h.GetExplicitHttpConfig().GetHttp2ProtocolOptions() != nil
		if !s.http2 {
			t.Fatalf("cluster %s: HTTP options other than explicit HTTP/2: %v", c.GetName(), &h)
		}
	}
	if ts := c.GetTransportSocket(); ts != nil {
		var ctx tlsv3.UpstreamTlsContext
		if ts.GetName() != "envoy.transport_sockets.tls" || ts.GetTypedConfig().UnmarshalTo(&ctx) != nil {
			t.Fatalf("cluster %s: transport socket %s this test does not know", c.GetName(), ts.GetName())
		}
		if ctx.GetSni() != "" || ctx.GetCommonTlsContext().GetValidationContextType() != nil || len(ctx.GetCommonTlsContext().GetAlpnProtocols()) != 1 {
			t.Fatalf("cluster %s: TLS beyond ingress-nginx's default (no SNI, no verification, one ALPN): %v", c.GetName(), &ctx)
		}
		s.tls, s.alpn = true, ctx.GetCommonTlsContext().GetAlpnProtocols()[0]
	}
	return s
}

// backendE2E is one ingress-nginx e2e case about the backend: an Ingress
// for host with annotations, to a Service port with appProtocol, and a
// request, with the cluster it must reach and that cluster's shape (or
// Envoy's own answer and the Problem the Ingress gets).
type backendE2E struct {
	name        string
	annotations map[string]string
	appProtocol string
	host, path  string
	want        string // the cluster, or "404"/"503"
	shape       upstreamShape
	problem     Reason
}

var plainShape = upstreamShape{connect: envoy.ClusterConnectTimeout}

var backendE2ECases = []backendE2E{
	// test/e2e/annotations/backendprotocol.go: "should set backend protocol to https:// and use proxy_pass"
	{name: "https", annotations: map[string]string{"backend-protocol": "HTTPS"}, host: "backendprotocol.foo.com", path: "/",
		want: "e2e/echo/80/tls", shape: upstreamShape{tls: true, alpn: "http/1.1", connect: envoy.ClusterConnectTimeout}},
	// test/e2e/annotations/backendprotocol.go: "should set backend protocol to grpc:// and use grpc_pass"
	{name: "grpc", annotations: map[string]string{"backend-protocol": "GRPC"}, host: "backendprotocol.foo.com", path: "/",
		want: "e2e/echo/80/h2c", shape: upstreamShape{http2: true, connect: envoy.ClusterConnectTimeout}},
	// test/e2e/annotations/backendprotocol.go: "should set backend protocol to grpcs:// and use grpc_pass"
	{name: "grpcs", annotations: map[string]string{"backend-protocol": "GRPCS"}, host: "backendprotocol.foo.com", path: "/",
		want: "e2e/echo/80/h2", shape: upstreamShape{tls: true, alpn: "h2", http2: true, connect: envoy.ClusterConnectTimeout}},
	// test/e2e/annotations/backendprotocol.go: "should set backend protocol to '' and use fastcgi_pass"
	// fairway speaks no FastCGI: the value is reported and the backend is spoken to over HTTP.
	{name: "fcgi", annotations: map[string]string{"backend-protocol": "FCGI"}, host: "backendprotocol.foo.com", path: "/",
		want: "e2e/echo/80", shape: plainShape, problem: InvalidAnnotation},
	// test/e2e/annotations/backendprotocol.go: "should set backend protocol to '' and use ajp_pass"
	{name: "ajp", annotations: map[string]string{"backend-protocol": "AJP"}, host: "backendprotocol.foo.com", path: "/",
		want: "e2e/echo/80", shape: plainShape, problem: InvalidAnnotation},
	// test/e2e/annotations/grpc.go: "should use grpc_pass in the configuration file"
	{name: "grpc fortune teller", annotations: map[string]string{"backend-protocol": "GRPC"}, host: "grpc", path: "/build.stack.fortune.FortuneTeller/Predict",
		want: "e2e/echo/80/h2c", shape: upstreamShape{http2: true, connect: envoy.ClusterConnectTimeout}},
	// test/e2e/annotations/grpc.go: "should return OK for service with backend protocol GRPC"
	// (the e2e dials :443 of a TLS host; the plain listener's route to the backend is the same)
	{name: "grpc grpcbin", annotations: map[string]string{"backend-protocol": "GRPC"}, host: "echo", path: "/grpcbin.GRPCBin/HeadersUnary",
		want: "e2e/echo/80/h2c", shape: upstreamShape{http2: true, connect: envoy.ClusterConnectTimeout}},
	// test/e2e/annotations/grpc.go: "should return OK for service with backend protocol GRPCS"
	// The case needs a configuration-snippet: fairway refuses it and does not serve the Ingress.
	{name: "grpcs grpcbin with snippet", annotations: map[string]string{"backend-protocol": "GRPCS", "configuration-snippet": "grpc_ssl_server_name on;"},
		host: "echo", path: "/grpcbin.GRPCBin/HeadersUnary", want: "404", problem: RefusedAnnotation},
	// test/e2e/annotations/grpc.go: "should return OK for service with backend protocol GRPCS", without its snippet
	{name: "grpcs grpcbin", annotations: map[string]string{"backend-protocol": "GRPCS"}, host: "echo", path: "/grpcbin.GRPCBin/HeadersUnary",
		want: "e2e/echo/80/h2", shape: upstreamShape{tls: true, alpn: "h2", http2: true, connect: envoy.ClusterConnectTimeout}},
	// test/e2e/annotations/proxy.go: "should set valid proxy timeouts" (proxy_connect_timeout 50s)
	{name: "connect timeout", annotations: map[string]string{"proxy-connect-timeout": "50"}, host: "proxy.foo.com", path: "/",
		want: "e2e/echo/80/connect-50s", shape: upstreamShape{connect: 50 * time.Second}},
	// test/e2e/annotations/proxy.go: "should not set invalid proxy timeouts" (50k is not used)
	{name: "connect timeout invalid", annotations: map[string]string{"proxy-connect-timeout": "50k"}, host: "proxy.foo.com", path: "/",
		want: "e2e/echo/80", shape: plainShape, problem: InvalidAnnotation},
	// test/e2e/loadbalance/round_robin.go: "should evenly distribute requests with round-robin (default algorithm)"
	{name: "round robin", host: "load-balance.com", path: "/", want: "e2e/echo/80", shape: plainShape},
	// test/e2e/loadbalance/ewma.go: "does not fail requests" (ewma set in the ConfigMap there, per Ingress here)
	{name: "ewma", annotations: map[string]string{"load-balance": "ewma"}, host: "load-balance.com", path: "/",
		want: "e2e/echo/80/least-request", shape: upstreamShape{leastRequest: true, connect: envoy.ClusterConnectTimeout}},
	// The appProtocol counterparts: the port says what the annotation would.
	{name: "appProtocol h2c", appProtocol: "kubernetes.io/h2c", host: "grpc", path: "/", want: "e2e/echo/80/h2c", shape: upstreamShape{http2: true, connect: envoy.ClusterConnectTimeout}},
	{name: "appProtocol https", appProtocol: "kubernetes.io/https", host: "backendprotocol.foo.com", path: "/",
		want: "e2e/echo/80/tls", shape: upstreamShape{tls: true, alpn: "http/1.1", connect: envoy.ClusterConnectTimeout}},
	{name: "annotation over appProtocol", appProtocol: "grpc", annotations: map[string]string{"backend-protocol": "HTTP"}, host: "grpc", path: "/",
		want: "e2e/echo/80", shape: plainShape},
}

// TestNginxE2EBackend ports the request-level expectations of
// ingress-nginx's backend-protocol, gRPC, proxy-connect-timeout and
// load-balance e2e cases. Where a case checks nginx.conf text only, the
// row checks the Envoy cluster setting that means the same. Every
// request of the e2e's echo Service reaches the same three endpoints,
// whichever cluster it goes through.
func TestNginxE2EBackend(t *testing.T) {
	for _, c := range backendE2ECases {
		t.Run(c.name, func(t *testing.T) {
			res := Translate(backendE2EInput(c), Options{})
			if err := res.Validate(); err != nil {
				t.Fatal(err)
			}
			out := evaluate(t, routeConfig(res, envoy.HTTPRouteConfig), request{authority: c.host, path: c.path})
			got := out.cluster
			if out.status != 0 {
				got = strconv.Itoa(out.status)
			}
			if got != c.want {
				t.Fatalf("%s%s reached %q, want %q", c.host, c.path, got, c.want)
			}
			if p := problemReasons(res); (c.problem == "") != (len(p) == 0) || (c.problem != "" && p[0] != c.problem) {
				t.Errorf("problems %v, want %q", p, c.problem)
			}
			if out.status != 0 {
				return
			}
			if s := shapeOf(t, findCluster(t, res, got)); s != c.shape {
				t.Errorf("cluster %s: %+v, want %+v", got, s, c.shape)
			}
			if n := endpointCount(t, res, got); n != 3 {
				t.Errorf("cluster %s has %d endpoints, want the echo Service's 3", got, n)
			}
		})
	}
}

// backendE2EInput is the e2e framework's echo Service (three replicas)
// and one Ingress, as framework.NewSingleIngress makes it.
func backendE2EInput(c backendE2E) Input {
	port := corev1.ServicePort{Name: "http", Port: 80}
	if c.appProtocol != "" {
		port.AppProtocol = &c.appProtocol
	}
	annotations := map[string]string{}
	for k, v := range c.annotations {
		annotations[annotationPrefix+k] = v
	}
	class, prefix := "fairway", networkingv1.PathTypePrefix
	name, target := "http", int32(8080)
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "echo-1", Namespace: "e2e", Labels: map[string]string{discoveryv1.LabelServiceName: "echo"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &target}},
	}
	for _, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}})
	}
	return Input{
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: class}, Spec: networkingv1.IngressClassSpec{Controller: DefaultIngressController}}},
		Services:       []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: "e2e"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{port}}}},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice},
		Ingresses: []*networkingv1.Ingress{{
			ObjectMeta: metav1.ObjectMeta{Name: c.host, Namespace: "e2e", Annotations: annotations},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
				Host: c.host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &prefix,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "echo", Port: networkingv1.ServiceBackendPort{Number: 80}}},
				}}}},
			}}},
		}},
	}
}

// annotationPrefix is the prefix the e2e cases write.
const annotationPrefix = "nginx.ingress.kubernetes.io/"

func findCluster(t *testing.T, res Result, name string) *clusterv3.Cluster {
	t.Helper()
	for _, c := range res.Clusters {
		if c.GetName() == name {
			return c
		}
	}
	t.Fatalf("the route names cluster %q, which is not published", name)
	return nil
}

func endpointCount(t *testing.T, res Result, name string) int {
	t.Helper()
	var cla *endpointv3.ClusterLoadAssignment
	for _, e := range res.Endpoints {
		if e.GetClusterName() == name {
			cla = e
		}
	}
	if cla == nil {
		t.Fatalf("cluster %q has no EDS assignment", name)
	}
	n := 0
	for _, l := range cla.GetEndpoints() {
		n += len(l.GetLbEndpoints())
	}
	return n
}

func problemReasons(res Result) []Reason {
	var out []Reason
	for _, p := range res.Problems {
		out = append(out, p.Reason)
	}
	return out
}

package gatewayapi

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// BenchmarkResolve10kHTTPRoutes resolves the 10k HTTPRoutes from scratch.
func BenchmarkResolve10kHTTPRoutes(b *testing.B) {
	in := tenKRoutes()
	b.ResetTimer()
	for b.Loop() {
		m := Resolve(in, Options{ControllerName: controller})
		if len(m.Listeners[0].HTTP) != 10000 {
			b.Fatalf("%d rules", len(m.Listeners[0].HTTP))
		}
	}
}

// BenchmarkResolverOneChange is one HTTPRoute of the 10k replaced (a
// rule added), through a Resolver that resolved them all before: what a
// change costs the engine's front end.
func BenchmarkResolverOneChange(b *testing.B) {
	in := tenKRoutes()
	rv := NewResolver()
	opts := Options{ControllerName: controller}
	rv.Resolve(in, opts)
	orig := in.HTTPRoutes[len(in.HTTPRoutes)/2]
	i := 0
	for b.Loop() {
		r := orig.DeepCopy()
		rule := *r.Spec.Rules[0].DeepCopy()
		v := fmt.Sprintf("/v%d", i)
		rule.Matches[0].Path.Value = &v
		r.Spec.Rules = append(r.Spec.Rules, rule)
		in.HTTPRoutes[len(in.HTTPRoutes)/2] = r
		i++
		if m := rv.Resolve(in, opts); len(m.Listeners[0].HTTP) != 10001 {
			b.Fatalf("%d rules", len(m.Listeners[0].HTTP))
		}
	}
}

// tenKRoutes is the Gateway workload: 10k HTTPRoutes, each with
// its own host, a path and a header match, on one shared HTTP listener.
func tenKRoutes() Input {
	in := Input{
		GatewayClasses: []*gatewayv1.GatewayClass{class()},
		Gateways: []*gatewayv1.Gateway{{
			ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "web"},
			Spec: gatewayv1.GatewaySpec{GatewayClassName: "fairway", Listeners: []gatewayv1.Listener{
				{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType},
			}},
		}},
		Services: []*corev1.Service{{
			ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "web"},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
		}},
	}
	port := gatewayv1.PortNumber(80)
	prefix := gatewayv1.PathMatchPathPrefix
	for i := range 10000 {
		path := fmt.Sprintf("/api/%d", i%50)
		in.HTTPRoutes = append(in.HTTPRoutes, &gatewayv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("r%05d", i), Namespace: "web", CreationTimestamp: metav1.NewTime(time.Unix(int64(i), 0))},
			Spec: gatewayv1.HTTPRouteSpec{
				CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "gw"}}},
				Hostnames:       []gatewayv1.Hostname{gatewayv1.Hostname(fmt.Sprintf("h%d.example.com", i))},
				Rules: []gatewayv1.HTTPRouteRule{{
					Matches: []gatewayv1.HTTPRouteMatch{{
						Path:    &gatewayv1.HTTPPathMatch{Type: &prefix, Value: &path},
						Headers: []gatewayv1.HTTPHeaderMatch{{Name: "x-tenant", Value: "a"}},
					}},
					BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
						BackendObjectReference: gatewayv1.BackendObjectReference{Name: "app", Port: &port},
					}}},
				}},
			},
		})
	}
	return in
}

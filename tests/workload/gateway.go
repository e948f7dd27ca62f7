package workload

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator"
)

// GatewayClass and GatewayName are the Gateway API objects the HTTPRoutes
// of a workload attach to: one Gateway in ns-0 whose HTTP listener on
// port 80 admits routes from every namespace, as a platform team runs
// one shared Gateway for its application teams.
const (
	GatewayClass = "fairway"
	GatewayName  = "edge"
)

// LargeGateway is Large's Services with 10k HTTPRoutes in place of the
// Ingresses: the same hosts, paths and backends, through the Gateway API.
var LargeGateway = Scale{Name: "large-gateway", Services: 10000, HTTPRoutes: 10000, EndpointsPerService: 10, LoadBalancers: 500, Namespaces: 50}

// gatewayObjects are the workload's GatewayClass, Gateway and HTTPRoutes.
func (g *generator) gatewayObjects(in *translator.Input) {
	all := gatewayv1.NamespacesFromAll
	in.GatewayClasses = []*gatewayv1.GatewayClass{{
		ObjectMeta: metav1.ObjectMeta{Name: GatewayClass, Generation: 1},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: translator.DefaultGatewayController},
	}}
	in.Gateways = []*gatewayv1.Gateway{{
		ObjectMeta: metav1.ObjectMeta{Name: GatewayName, Namespace: g.namespace(0), Generation: 1, CreationTimestamp: created(0)},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: GatewayClass,
			Listeners: []gatewayv1.Listener{{
				Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType,
				AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &all}},
			}},
		},
	}}
	for i := range g.scale.HTTPRoutes {
		in.HTTPRoutes = append(in.HTTPRoutes, g.httpRoute(i))
	}
}

// httpRoute i routes r<i>.example.com as ingress i routes its host: "/"
// to Service i mod S and "/api" to another Service of its namespace.
func (g *generator) httpRoute(i int) *gatewayv1.HTTPRoute {
	s := g.scale.Services
	root := i % s
	api := (root + g.scale.Namespaces) % s
	ns := gatewayv1.Namespace(g.namespace(0))
	port := gatewayv1.PortNumber(80)
	prefix := gatewayv1.PathMatchPathPrefix
	rule := func(path string, svc int) gatewayv1.HTTPRouteRule {
		p := path
		return gatewayv1.HTTPRouteRule{
			Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &prefix, Value: &p}}},
			BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{
				Name: gatewayv1.ObjectName(fmt.Sprintf("svc-%d", svc)), Port: &port,
			}}}},
		}
	}
	return &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("route-%d", i), Namespace: g.namespace(root), Generation: 1, CreationTimestamp: created(i)},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: GatewayName, Namespace: &ns}}},
			Hostnames:       []gatewayv1.Hostname{gatewayv1.Hostname(fmt.Sprintf("r%d.example.com", i))},
			Rules:           []gatewayv1.HTTPRouteRule{rule("/", root), rule("/api", api)},
		},
	}
}

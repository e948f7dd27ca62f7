package kube

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// routeKind is how the status writer reads and writes one route kind's
// status.parents: the five kinds share RouteStatus but not a Go type.
type routeKind struct {
	kind    string
	parents func(obj any) []gatewayv1.RouteParentStatus
	// update writes parents and returns the resourceVersion written.
	update func(ctx context.Context, c gatewayclient.Interface, obj any, parents []gatewayv1.RouteParentStatus) (string, error)
}

// routeKinds are the route kinds whose status.parents fairway writes.
var routeKinds = []routeKind{
	{
		kind:    KindHTTPRoute,
		parents: func(obj any) []gatewayv1.RouteParentStatus { return obj.(*gatewayv1.HTTPRoute).Status.Parents },
		update: func(ctx context.Context, c gatewayclient.Interface, obj any, parents []gatewayv1.RouteParentStatus) (string, error) {
			r := obj.(*gatewayv1.HTTPRoute).DeepCopy()
			r.Status.Parents = parents
			return resourceVersion(c.GatewayV1().HTTPRoutes(r.Namespace).UpdateStatus(ctx, r, metav1.UpdateOptions{}))
		},
	},
	{
		kind:    KindGRPCRoute,
		parents: func(obj any) []gatewayv1.RouteParentStatus { return obj.(*gatewayv1.GRPCRoute).Status.Parents },
		update: func(ctx context.Context, c gatewayclient.Interface, obj any, parents []gatewayv1.RouteParentStatus) (string, error) {
			r := obj.(*gatewayv1.GRPCRoute).DeepCopy()
			r.Status.Parents = parents
			return resourceVersion(c.GatewayV1().GRPCRoutes(r.Namespace).UpdateStatus(ctx, r, metav1.UpdateOptions{}))
		},
	},
	{
		kind:    KindTLSRoute,
		parents: func(obj any) []gatewayv1.RouteParentStatus { return obj.(*gatewayv1.TLSRoute).Status.Parents },
		update: func(ctx context.Context, c gatewayclient.Interface, obj any, parents []gatewayv1.RouteParentStatus) (string, error) {
			r := obj.(*gatewayv1.TLSRoute).DeepCopy()
			r.Status.Parents = parents
			return resourceVersion(c.GatewayV1().TLSRoutes(r.Namespace).UpdateStatus(ctx, r, metav1.UpdateOptions{}))
		},
	},
	{
		kind:    KindTCPRoute,
		parents: func(obj any) []gatewayv1.RouteParentStatus { return obj.(*gatewayv1.TCPRoute).Status.Parents },
		update: func(ctx context.Context, c gatewayclient.Interface, obj any, parents []gatewayv1.RouteParentStatus) (string, error) {
			r := obj.(*gatewayv1.TCPRoute).DeepCopy()
			r.Status.Parents = parents
			return resourceVersion(c.GatewayV1().TCPRoutes(r.Namespace).UpdateStatus(ctx, r, metav1.UpdateOptions{}))
		},
	},
	{
		kind:    KindUDPRoute,
		parents: func(obj any) []gatewayv1.RouteParentStatus { return obj.(*gatewayv1.UDPRoute).Status.Parents },
		update: func(ctx context.Context, c gatewayclient.Interface, obj any, parents []gatewayv1.RouteParentStatus) (string, error) {
			r := obj.(*gatewayv1.UDPRoute).DeepCopy()
			r.Status.Parents = parents
			return resourceVersion(c.GatewayV1().UDPRoutes(r.Namespace).UpdateStatus(ctx, r, metav1.UpdateOptions{}))
		},
	},
}

package tests

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/fairwayhq/fairway/translator"
)

// TestKubeGatewayAPIInstalledAfterStart: fairway starts on a cluster
// without the Gateway API's CRDs and serves its Ingress; the CRDs are
// installed while it runs, then a GatewayClass, a Gateway and an
// HTTPRoute are created. Without a restart, the next discovery check
// (--gateway-api-recheck, 1 s here) watches the new kinds: the route's
// host is served on the fleet's http listener beside the Ingress's, and
// the Gateway's and the route's status are written. The Ingress stays
// served throughout, and its status is not written again. The control
// plane is the test's own, since the shared one has the CRDs.
func TestKubeGatewayAPIInstalledAfterStart(t *testing.T) {
	kubeClient(t)
	cp, cs := ownControlPlane(t)
	const ns, shop, gwHost = "shop", "shop.example.com", "gw.example.com"
	create(t, func(ctx context.Context) error {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := cs.NetworkingV1().IngressClasses().Create(ctx, ingressClass("fairway", "fairway.dev/ingress-controller"), metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := cs.CoreV1().Services(ns).Create(ctx, clusterIPService(ns, "web", 80, 8080), metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, "shop", "fairway", shop, "web", 80), metav1.CreateOptions{})
		return err
	})
	f := startKubeFairway(t, cp.Kubeconfig(), ns, "--gateway-api-recheck=1s")
	v := watchADS(t, f.xds, "envoy-0")
	v.waitFor(10*time.Second, "the Ingress's virtual host", func() bool { return slices.Contains(v.virtualHosts("http"), shop) })
	var ingressRV string
	eventually(t, 10*time.Second, "the Ingress's status", func() bool {
		ing, err := cs.NetworkingV1().Ingresses(ns).Get(context.Background(), "shop", metav1.GetOptions{})
		if err != nil {
			return false
		}
		ingressRV = ing.ResourceVersion
		return len(ing.Status.LoadBalancer.Ingress) == 1
	})

	if err := applyGatewayCRDs(cp.Config()); err != nil {
		t.Fatalf("installing the Gateway API CRDs: %v", err)
	}
	gw, err := gatewayclient.NewForConfig(cp.Config())
	if err != nil {
		t.Fatal(err)
	}
	createGatewayRoute(t, gw, ns, gwHost)
	v.waitFor(20*time.Second, "the HTTPRoute's host served beside the Ingress's", func() bool {
		hosts := v.virtualHosts("http")
		return slices.Contains(hosts, gwHost) && slices.Contains(hosts, shop)
	})
	eventually(t, 10*time.Second, "the Gateway's and the route's status", func() bool {
		g, err := gw.GatewayV1().Gateways(ns).Get(context.Background(), "edge", metav1.GetOptions{})
		if err != nil || !meta.IsStatusConditionTrue(g.Status.Conditions, "Programmed") {
			return false
		}
		r, err := gw.GatewayV1().HTTPRoutes(ns).Get(context.Background(), "web", metav1.GetOptions{})
		return err == nil && len(r.Status.Parents) == 1 && r.Status.Parents[0].ControllerName == translator.DefaultGatewayController &&
			meta.IsStatusConditionTrue(r.Status.Parents[0].Conditions, "Accepted")
	})
	ing, err := cs.NetworkingV1().Ingresses(ns).Get(context.Background(), "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ing.ResourceVersion != ingressRV {
		t.Errorf("the Ingress was written again when the Gateway API came (resourceVersion %s → %s)", ingressRV, ing.ResourceVersion)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "since fairway started; watching them") || strings.Contains(logs, "restart fairway") {
		t.Error("fairway did not say it watches the CRDs installed after it started, or asked for a restart")
	}
}

// createGatewayRoute creates fairway's GatewayClass, a Gateway edge with
// an HTTP listener on the fleet's http port, and an HTTPRoute web for
// host to Service web.
func createGatewayRoute(t *testing.T, gw gatewayclient.Interface, ns, host string) {
	t.Helper()
	create(t, func(ctx context.Context) error {
		_, err := gw.GatewayV1().GatewayClasses().Create(ctx, &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "fairway"},
			Spec: gatewayv1.GatewayClassSpec{ControllerName: translator.DefaultGatewayController}}, metav1.CreateOptions{})
		return err
	})
	createGateway(t, gw, ns, "edge", "fairway")
	port := gatewayv1.PortNumber(80)
	route := httpRoute(ns, "web", "edge")
	route.Spec.Hostnames = []gatewayv1.Hostname{gatewayv1.Hostname(host)}
	route.Spec.Rules = []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{Name: "web", Port: &port}}}}}}
	create(t, func(ctx context.Context) error {
		_, err := gw.GatewayV1().HTTPRoutes(ns).Create(ctx, route, metav1.CreateOptions{})
		return err
	})
}

package tests

import (
	"context"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/fairwayhq/fairway/translator"
)

// TestKubeGatewayStaleRouteParents: serve, against the real API server,
// removes the entry it wrote in a route's status.parents once that parent
// is no longer fairway's, in each of the three ways: the Gateway is
// deleted, its class becomes another controller's, the parentRef leaves
// the route. The new owner's entry for a Gateway that changed class is
// kept. The Gateway that changed class keeps the status fairway last
// wrote, left to its new owner (Gateway status has no controllerName, so
// fairway cannot tell its conditions from the new owner's; Contour and
// Envoy Gateway leave such a Gateway alone too): fairway writes nothing
// more to it.
func TestKubeGatewayStaleRouteParents(t *testing.T) {
	gw := gatewayClient(t)
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	class, otherClass := "fairway-"+ns, "other-"+ns
	deleteGatewayObjects(t, gw, ns, class, otherClass)
	ctx := context.Background()
	for name, controller := range map[string]gatewayv1.GatewayController{class: translator.DefaultGatewayController, otherClass: "example.com/other"} {
		create(t, func(ctx context.Context) error {
			_, err := gw.GatewayV1().GatewayClasses().Create(ctx, &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: gatewayv1.GatewayClassSpec{ControllerName: controller}}, metav1.CreateOptions{})
			return err
		})
	}
	for i, name := range []string{"a", "b", "c"} {
		createGatewayOn(t, gw, ns, name, class, gatewayv1.PortNumber(8081+i))
	}
	create(t, func(ctx context.Context) error {
		_, err := gw.GatewayV1().HTTPRoutes(ns).Create(ctx, httpRoute(ns, "web", "a", "b", "c"), metav1.CreateOptions{})
		return err
	})
	startKubeFairway(t, controlPlane.Kubeconfig(), ns)
	waitParents(t, gw, ns, "fairway's entries for a, b and c", []string{"a", "b", "c"}, nil)

	// The Gateway is deleted.
	if err := gw.GatewayV1().Gateways(ns).Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitParents(t, gw, ns, "a's entry removed with the Gateway", []string{"b", "c"}, nil)

	// b's class becomes another controller's, which writes its own entry.
	var before gatewayv1.GatewayStatus
	eventually(t, 10*time.Second, "b's class changed", func() bool {
		b, err := gw.GatewayV1().Gateways(ns).Get(ctx, "b", metav1.GetOptions{})
		if err != nil {
			return false
		}
		before = b.Status
		b.Spec.GatewayClassName = gatewayv1.ObjectName(otherClass)
		_, err = gw.GatewayV1().Gateways(ns).Update(ctx, b, metav1.UpdateOptions{})
		return err == nil
	})
	if !meta.IsStatusConditionTrue(before.Conditions, "Accepted") {
		t.Fatalf("b's status before its class changed = %+v; want fairway's Accepted", before)
	}
	theirs := gatewayv1.RouteParentStatus{ParentRef: gatewayv1.ParentReference{Name: "b"}, ControllerName: "example.com/other",
		Conditions: []metav1.Condition{condition("Accepted", metav1.ConditionTrue, "Accepted", 1)}}
	theirs.Conditions[0].LastTransitionTime = metav1.Now()
	eventually(t, 10*time.Second, "the new owner's entry written", func() bool {
		r, err := gw.GatewayV1().HTTPRoutes(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false
		}
		r.Status.Parents = append(slices.Clone(r.Status.Parents), theirs)
		_, err = gw.GatewayV1().HTTPRoutes(ns).UpdateStatus(ctx, r, metav1.UpdateOptions{})
		return err == nil
	})
	waitParents(t, gw, ns, "b's entry of fairway's removed, the new owner's kept", []string{"c"}, []string{"b"})
	time.Sleep(time.Second)
	b, err := gw.GatewayV1().Gateways(ns).Get(ctx, "b", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(b.Status, before) {
		t.Errorf("fairway wrote the status of a Gateway no longer its own:\nbefore %+v\nafter  %+v", before, b.Status)
	}

	// c leaves the route's parentRefs.
	eventually(t, 10*time.Second, "c removed from the route", func() bool {
		r, err := gw.GatewayV1().HTTPRoutes(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false
		}
		r.Spec.ParentRefs = r.Spec.ParentRefs[:2] // a (gone) and b (the other controller's)
		_, err = gw.GatewayV1().HTTPRoutes(ns).Update(ctx, r, metav1.UpdateOptions{})
		return err == nil
	})
	waitParents(t, gw, ns, "c's entry removed with the parentRef", nil, []string{"b"})
}

// createGatewayOn is createGateway with an HTTP listener on port.
func createGatewayOn(t *testing.T, gw gatewayclient.Interface, ns, name, class string, port gatewayv1.PortNumber) {
	t.Helper()
	create(t, func(ctx context.Context) error {
		_, err := gw.GatewayV1().Gateways(ns).Create(ctx, &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: gatewayv1.GatewaySpec{GatewayClassName: gatewayv1.ObjectName(class),
				Listeners: []gatewayv1.Listener{{Name: "http", Port: port, Protocol: gatewayv1.HTTPProtocolType}}}}, metav1.CreateOptions{})
		return err
	})
}

// waitParents waits until route web's status.parents is the other
// controller's entries for theirs, then fairway's for ours, in order.
func waitParents(t *testing.T, gw gatewayclient.Interface, ns, what string, ours, theirs []string) {
	t.Helper()
	var got []string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s: status.parents last seen as %v", what, got)
		}
	})
	var want []string
	for _, n := range theirs {
		want = append(want, "example.com/other "+n)
	}
	for _, n := range ours {
		want = append(want, translator.DefaultGatewayController+" "+n)
	}
	eventually(t, 15*time.Second, what, func() bool {
		r, err := gw.GatewayV1().HTTPRoutes(ns).Get(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			return false
		}
		got = got[:0]
		for _, p := range r.Status.Parents {
			got = append(got, string(p.ControllerName)+" "+string(p.ParentRef.Name))
		}
		return slices.Equal(got, want)
	})
}

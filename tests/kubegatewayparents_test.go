package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/source/kube"
	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// TestKubeGatewayRouteParentsCapped: the CRD bounds a route's
// status.parents at 32 and the API server refuses a longer list whole.
// With 12 entries of another controller already there (8 for its
// parentRefs, 4 stale ones it left) and 24 parents of fairway's wanted,
// the writer keeps the other controller's 12 first, as they were, then
// fairway's first 20 in parentRef order, and says in its log which route
// left 4 out; the list is written, not refused, and not written again.
// When the other controller drops its stale entries, fairway's 24 fit.
func TestKubeGatewayRouteParentsCapped(t *testing.T) {
	gw := gatewayClient(t)
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	deleteGatewayObjects(t, gw, ns)
	ctx := context.Background()
	route := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "many"}}
	ours := make([]string, 24)
	for i := range ours {
		ours[i] = fmt.Sprintf("edge-%02d", i)
		route.Spec.ParentRefs = append(route.Spec.ParentRefs, gatewayv1.ParentReference{Name: gatewayv1.ObjectName(ours[i])})
	}
	var theirs []gatewayv1.RouteParentStatus
	for i := range 12 {
		name := fmt.Sprintf("theirs-%02d", i)
		if i < 8 {
			route.Spec.ParentRefs = append(route.Spec.ParentRefs, gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name)})
		} else {
			name = fmt.Sprintf("stale-%02d", i)
		}
		p := gatewayv1.RouteParentStatus{ParentRef: gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name)}, ControllerName: "example.com/other",
			Conditions: []metav1.Condition{condition("Accepted", metav1.ConditionTrue, "Accepted", 1)}}
		p.Conditions[0].LastTransitionTime = metav1.NewTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
		theirs = append(theirs, p)
	}
	created, err := gw.GatewayV1().HTTPRoutes(ns).Create(ctx, route, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status.Parents = theirs
	if _, err := gw.GatewayV1().HTTPRoutes(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	src, sctx := startGatewaySource(t, cs, gw, ns)
	logs := &syncWriter{}
	reg := prometheus.NewRegistry()
	w := kube.NewGatewayStatusWriter(gw, src, nil, translator.DefaultGatewayController, kube.NewMetrics(reg), hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the writer's logs:\n%s", logs)
		}
	})
	go func() {
		if err := w.Run(sctx); err != nil {
			t.Errorf("the writer: %v", err)
		}
	}()
	w.Lead(sctx)
	want := gatewayapi.Status{Routes: []gatewayapi.RouteStatus{{Kind: "HTTPRoute", Namespace: ns, Name: "many"}}}
	for _, name := range ours {
		want.Routes[0].Parents = append(want.Routes[0].Parents, gatewayv1.RouteParentStatus{ParentRef: gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name)},
			Conditions: []metav1.Condition{condition("Accepted", metav1.ConditionTrue, "Accepted", created.Generation),
				condition("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", created.Generation)}})
	}
	w.Observe(want)

	read := func() *gatewayv1.HTTPRoute {
		r, err := gw.GatewayV1().HTTPRoutes(ns).Get(ctx, "many", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var r *gatewayv1.HTTPRoute
	eventually(t, 10*time.Second, "fairway's entries written beside the other controller's", func() bool {
		r = read()
		return len(r.Status.Parents) > len(theirs)
	})
	checkParents(t, r.Status.Parents, theirs, ours[:20])
	if !strings.Contains(logs.String(), "status.parents") || !strings.Contains(logs.String(), "name=many") || !strings.Contains(logs.String(), "left_out=4") {
		t.Errorf("the writer's log does not name the route and the 4 entries left out:\n%s", logs)
	}

	// Told the same again: the capped list is what is stored, so nothing
	// is written.
	eventually(t, 10*time.Second, "the write's echo in the cache", func() bool {
		obj, ok, _ := src.Informer(kube.KindHTTPRoute).GetStore().GetByKey(ns + "/many")
		return ok && obj.(*gatewayv1.HTTPRoute).ResourceVersion == r.ResourceVersion
	})
	w.Observe(want)
	time.Sleep(time.Second)
	if again := read(); again.ResourceVersion != r.ResourceVersion {
		t.Errorf("the capped status was written again (resourceVersion %s → %s)", r.ResourceVersion, again.ResourceVersion)
	}

	// The other controller drops its 4 stale entries: fairway's 24 fit.
	r.Status.Parents = append(theirs[:8:8], r.Status.Parents[len(theirs):]...)
	if _, err := gw.GatewayV1().HTTPRoutes(ns).UpdateStatus(ctx, r, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "all of fairway's entries written", func() bool {
		r = read()
		return len(r.Status.Parents) == 8+24
	})
	checkParents(t, r.Status.Parents, theirs[:8], ours)
}

// checkParents: got is the other controller's entries as they were, then
// fairway's for the names given, in that order.
func checkParents(t *testing.T, got, theirs []gatewayv1.RouteParentStatus, ours []string) {
	t.Helper()
	if len(got) != len(theirs)+len(ours) {
		t.Fatalf("%d entries in status.parents, want %d of the other controller's and %d of fairway's", len(got), len(theirs), len(ours))
	}
	for i, p := range theirs {
		if got[i].ControllerName != p.ControllerName || got[i].ParentRef.Name != p.ParentRef.Name || !got[i].Conditions[0].LastTransitionTime.Equal(&p.Conditions[0].LastTransitionTime) {
			t.Errorf("entry %d = %s %s; want the other controller's %s, unchanged", i, got[i].ControllerName, got[i].ParentRef.Name, p.ParentRef.Name)
		}
	}
	for i, name := range ours {
		p := got[len(theirs)+i]
		if p.ControllerName != translator.DefaultGatewayController || string(p.ParentRef.Name) != name {
			t.Errorf("entry %d = %s %s; want fairway's %s", len(theirs)+i, p.ControllerName, p.ParentRef.Name, name)
		}
	}
}

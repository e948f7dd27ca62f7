package tests

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/fairwayhq/fairway/source/kube"
	"github.com/fairwayhq/fairway/tests/kubeapi"
	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// gatewayClient is an admin Gateway API clientset on the shared control
// plane, with the CRDs installed.
func gatewayClient(t *testing.T) gatewayclient.Interface {
	t.Helper()
	installGatewayCRDs(t)
	gw, err := gatewayclient.NewForConfig(controlPlane.Config())
	if err != nil {
		t.Fatal(err)
	}
	return gw
}

// deleteGatewayObjects removes the Gateway API objects of ns (no
// namespace controller runs here to do it) and the cluster-scoped
// GatewayClasses named.
func deleteGatewayObjects(t *testing.T, gw gatewayclient.Interface, ns string, classes ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		all, now := metav1.ListOptions{}, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}
		v1 := gw.GatewayV1()
		_ = v1.Gateways(ns).DeleteCollection(ctx, now, all)
		_ = v1.HTTPRoutes(ns).DeleteCollection(ctx, now, all)
		_ = v1.GRPCRoutes(ns).DeleteCollection(ctx, now, all)
		_ = v1.TLSRoutes(ns).DeleteCollection(ctx, now, all)
		_ = v1.TCPRoutes(ns).DeleteCollection(ctx, now, all)
		_ = v1.UDPRoutes(ns).DeleteCollection(ctx, now, all)
		_ = v1.ReferenceGrants(ns).DeleteCollection(ctx, now, all)
		for _, c := range classes {
			_ = v1.GatewayClasses().Delete(ctx, c, now)
		}
	})
}

// startGatewaySource runs fairway's Kubernetes source in this process,
// watching ns with the Gateway API, as serve does.
func startGatewaySource(t *testing.T, cs kubernetes.Interface, gw gatewayclient.Interface, ns string) (*kube.Source, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncWriter{}
	src, err := kube.NewSource(cs, kube.SourceConfig{Namespace: ns, Gateway: gw}, hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the source's logs:\n%s", logs)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); src.Shutdown() })
	// Start's context is the informers' life, as in serve.
	if err := src.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return src, ctx
}

func condition(typ string, status metav1.ConditionStatus, reason string, generation int64) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: typ + " " + string(status), ObservedGeneration: generation}
}

// TestKubeGatewayAPIObjectsReachTheSource: with the CRDs installed, the
// source watches every Gateway API kind, and the objects in the API
// server, created before and after it starts, are in its caches, which
// are what it hands the translator; Namespaces come with their labels.
func TestKubeGatewayAPIObjectsReachTheSource(t *testing.T) {
	gw := gatewayClient(t)
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	class := "fairway-" + ns
	deleteGatewayObjects(t, gw, ns, class)
	ctx := context.Background()
	create(t, func(ctx context.Context) error {
		_, err := gw.GatewayV1().GatewayClasses().Create(ctx, &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: class},
			Spec: gatewayv1.GatewayClassSpec{ControllerName: translator.DefaultGatewayController}}, metav1.CreateOptions{})
		return err
	})
	createGateway(t, gw, ns, "edge", class)
	src, _ := startGatewaySource(t, cs, gw, ns)
	for _, kind := range []string{kube.KindGatewayClass, kube.KindGateway, kube.KindHTTPRoute, kube.KindGRPCRoute, kube.KindTLSRoute,
		kube.KindTCPRoute, kube.KindUDPRoute, kube.KindReferenceGrant, kube.KindNamespace} {
		if src.Informer(kind) == nil {
			t.Fatalf("%s is not watched with the CRDs installed", kind)
		}
	}
	createRoutesAndGrant(t, gw, ns)
	want := map[string]string{kube.KindGatewayClass: class, kube.KindGateway: ns + "/edge", kube.KindHTTPRoute: ns + "/web", kube.KindGRPCRoute: ns + "/api",
		kube.KindTLSRoute: ns + "/pass", kube.KindTCPRoute: ns + "/tcp", kube.KindUDPRoute: ns + "/dns", kube.KindReferenceGrant: ns + "/grant", kube.KindNamespace: ns}
	missing := ""
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("not in the caches: %s", missing)
		}
	})
	eventually(t, 10*time.Second, "every object in the source's caches", func() bool {
		for kind, key := range want {
			if _, ok, _ := src.Informer(kind).GetStore().GetByKey(key); !ok {
				missing = kind + " " + key
				return false
			}
		}
		return true
	})
	labelled, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	labelled.Labels["team"] = "shop"
	if _, err := cs.CoreV1().Namespaces().Update(ctx, labelled, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the Namespace's new label in the cache", func() bool {
		obj, ok, _ := src.Informer(kube.KindNamespace).GetStore().GetByKey(ns)
		return ok && obj.(metav1.Object).GetLabels()["team"] == "shop"
	})
}

// createRoutesAndGrant creates one route of each kind, parented to the
// Gateway edge, and a ReferenceGrant, all valid for the CRDs' schemas.
func createRoutesAndGrant(t *testing.T, gw gatewayclient.Interface, ns string) {
	t.Helper()
	port := gatewayv1.PortNumber(80)
	backend := []gatewayv1.BackendRef{{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "db", Port: &port}}}
	parent := []gatewayv1.ParentReference{{Name: "edge"}}
	create(t, func(ctx context.Context) error {
		if _, err := gw.GatewayV1().HTTPRoutes(ns).Create(ctx, httpRoute(ns, "web", "edge"), metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := gw.GatewayV1().GRPCRoutes(ns).Create(ctx, &gatewayv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Name: "api"},
			Spec: gatewayv1.GRPCRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: parent}}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := gw.GatewayV1().TLSRoutes(ns).Create(ctx, &gatewayv1.TLSRoute{ObjectMeta: metav1.ObjectMeta{Name: "pass"},
			Spec: gatewayv1.TLSRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: parent}, Hostnames: []gatewayv1.Hostname{"db.example.com"},
				Rules: []gatewayv1.TLSRouteRule{{BackendRefs: backend}}}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := gw.GatewayV1().TCPRoutes(ns).Create(ctx, &gatewayv1.TCPRoute{ObjectMeta: metav1.ObjectMeta{Name: "tcp"},
			Spec: gatewayv1.TCPRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: parent}, Rules: []gatewayv1.TCPRouteRule{{BackendRefs: backend}}}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := gw.GatewayV1().UDPRoutes(ns).Create(ctx, &gatewayv1.UDPRoute{ObjectMeta: metav1.ObjectMeta{Name: "dns"},
			Spec: gatewayv1.UDPRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: parent}, Rules: []gatewayv1.UDPRouteRule{{BackendRefs: backend}}}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := gw.GatewayV1().ReferenceGrants(ns).Create(ctx, &gatewayv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Name: "grant"},
			Spec: gatewayv1.ReferenceGrantSpec{From: []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: "other"}},
				To: []gatewayv1.ReferenceGrantTo{{Kind: "Service"}}}}, metav1.CreateOptions{})
		return err
	})
}

func createGateway(t *testing.T, gw gatewayclient.Interface, ns, name, class string) {
	t.Helper()
	create(t, func(ctx context.Context) error {
		_, err := gw.GatewayV1().Gateways(ns).Create(ctx, &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: gatewayv1.GatewaySpec{GatewayClassName: gatewayv1.ObjectName(class),
				Listeners: []gatewayv1.Listener{{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType}}}}, metav1.CreateOptions{})
		return err
	})
}

func httpRoute(ns, name string, parents ...string) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for _, p := range parents {
		r.Spec.ParentRefs = append(r.Spec.ParentRefs, gatewayv1.ParentReference{Name: gatewayv1.ObjectName(p)})
	}
	return r
}

// gatewayStatusFixture is what TestKubeGatewayStatusWriter writes to.
type gatewayStatusFixture struct {
	gw          gatewayclient.Interface
	ns, class   string
	other       gatewayv1.RouteParentStatus
	generations map[string]int64
}

// newGatewayStatusFixture creates a GatewayClass of fairway's, a Gateway
// of it, and an HTTPRoute whose parents are that Gateway and another
// controller's, whose entry in status.parents is already there.
func newGatewayStatusFixture(t *testing.T, cs kubernetes.Interface) *gatewayStatusFixture {
	f := &gatewayStatusFixture{gw: gatewayClient(t), ns: newNamespace(t, cs)}
	f.class = "fairway-" + f.ns
	deleteGatewayObjects(t, f.gw, f.ns, f.class)
	ctx := context.Background()
	gc, err := f.gw.GatewayV1().GatewayClasses().Create(ctx, &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: f.class},
		Spec: gatewayv1.GatewayClassSpec{ControllerName: translator.DefaultGatewayController}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	createGateway(t, f.gw, f.ns, "edge", f.class)
	route, err := f.gw.GatewayV1().HTTPRoutes(f.ns).Create(ctx, httpRoute(f.ns, "web", "edge", "theirs"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.other = gatewayv1.RouteParentStatus{ParentRef: gatewayv1.ParentReference{Name: "theirs"}, ControllerName: "example.com/other",
		Conditions: []metav1.Condition{condition("Accepted", metav1.ConditionTrue, "Accepted", 1)}}
	f.other.Conditions[0].LastTransitionTime = metav1.NewTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	route.Status.Parents = []gatewayv1.RouteParentStatus{f.other}
	if _, err := f.gw.GatewayV1().HTTPRoutes(f.ns).UpdateStatus(ctx, route, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.generations = map[string]int64{"class": gc.Generation, "route": route.Generation}
	return f
}

// status is what the translator would say: the class accepted, the
// Gateway accepted and programmed as told, the route attached when
// attached.
func (f *gatewayStatusFixture) status(programmed, attached bool) gatewayapi.Status {
	prog, reason := metav1.ConditionTrue, "Programmed"
	if !programmed {
		prog, reason = metav1.ConditionFalse, "Invalid"
	}
	listener := gatewayv1.ListenerStatus{Name: "http", AttachedRoutes: 1,
		SupportedKinds: []gatewayv1.RouteGroupKind{{Group: ptrTo(gatewayv1.Group(gatewayv1.GroupName)), Kind: "HTTPRoute"}},
		Conditions: []metav1.Condition{condition("Accepted", metav1.ConditionTrue, "Accepted", 1), condition("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", 1),
			condition("Programmed", prog, reason, 1), condition("Conflicted", metav1.ConditionFalse, "NoConflicts", 1)}}
	st := gatewayapi.Status{
		GatewayClasses: []gatewayapi.GatewayClassStatus{{Name: f.class, Status: gatewayv1.GatewayClassStatus{
			Conditions:        []metav1.Condition{condition("Accepted", metav1.ConditionTrue, "Accepted", f.generations["class"])},
			SupportedFeatures: []gatewayv1.SupportedFeature{{Name: "Gateway"}, {Name: "HTTPRoute"}}}}},
		Gateways: []gatewayapi.GatewayStatus{{Namespace: f.ns, Name: "edge", Status: gatewayv1.GatewayStatus{
			Addresses:  []gatewayv1.GatewayStatusAddress{{Type: ptrTo(gatewayv1.IPAddressType), Value: fleetAddress}},
			Conditions: []metav1.Condition{condition("Accepted", metav1.ConditionTrue, "Accepted", 1), condition("Programmed", prog, reason, 1)},
			Listeners:  []gatewayv1.ListenerStatus{listener}}}},
	}
	if attached {
		st.Routes = []gatewayapi.RouteStatus{{Kind: "HTTPRoute", Namespace: f.ns, Name: "web", Parents: []gatewayv1.RouteParentStatus{{
			ParentRef:  gatewayv1.ParentReference{Name: "edge"},
			Conditions: []metav1.Condition{condition("Accepted", metav1.ConditionTrue, "Accepted", f.generations["route"]), condition("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", f.generations["route"])}}}}}
	}
	return st
}

func ptrTo[T any](v T) *T { return &v }

// read returns the three objects as the API server has them.
func (f *gatewayStatusFixture) read(t *testing.T) (*gatewayv1.GatewayClass, *gatewayv1.Gateway, *gatewayv1.HTTPRoute) {
	t.Helper()
	ctx := context.Background()
	gc, err := f.gw.GatewayV1().GatewayClasses().Get(ctx, f.class, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.gw.GatewayV1().Gateways(f.ns).Get(ctx, "edge", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.gw.GatewayV1().HTTPRoutes(f.ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return gc, g, r
}

// inCache: the source's caches hold these versions, so that the writer's
// next pass compares against what the API server has.
func inCache(src *kube.Source, gc *gatewayv1.GatewayClass, g *gatewayv1.Gateway, r *gatewayv1.HTTPRoute) bool {
	for kind, o := range map[string]metav1.Object{kube.KindGatewayClass: gc, kube.KindGateway: g, kube.KindHTTPRoute: r} {
		key := o.GetName()
		if o.GetNamespace() != "" {
			key = o.GetNamespace() + "/" + key
		}
		obj, ok, _ := src.Informer(kind).GetStore().GetByKey(key)
		if !ok || obj.(metav1.Object).GetResourceVersion() != o.GetResourceVersion() {
			return false
		}
	}
	return true
}

// TestKubeGatewayStatusWriter: the writer, against the real API server
// and its CRD validation and defaulting, makes
// the status the translator says: the class Accepted with its
// supportedFeatures, the Gateway's conditions, listeners and addresses,
// and its own entry in the route's parents beside another controller's,
// which survives. Told the same again, it writes nothing. When a
// condition's status flips, that condition's lastTransitionTime moves
// and the others' stay; a parent no longer listed loses fairway's entry.
func TestKubeGatewayStatusWriter(t *testing.T) {
	cs := kubeClient(t)
	f := newGatewayStatusFixture(t, cs)
	src, ctx := startGatewaySource(t, cs, f.gw, f.ns)
	reg := prometheus.NewRegistry()
	logs := &syncWriter{}
	w := kube.NewGatewayStatusWriter(f.gw, src, nil, translator.DefaultGatewayController, kube.NewMetrics(reg), hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the writer's logs:\n%s", logs)
		}
	})
	go func() {
		if err := w.Run(ctx); err != nil {
			t.Errorf("the writer: %v", err)
		}
	}()
	w.Lead(ctx)
	w.Observe(f.status(true, true))
	gc, g, r := f.checkFirstWrite(t)

	// The same status again: nothing is written.
	eventually(t, 10*time.Second, "the writes' echoes in the cache", func() bool { return inCache(src, gc, g, r) })
	writes := statusRequests(t, reg)
	if writes < 3 {
		t.Errorf("%v status requests counted for three objects written", writes)
	}
	w.Observe(f.status(true, true))
	time.Sleep(time.Second)
	gc2, g2, r2 := f.read(t)
	if gc2.ResourceVersion != gc.ResourceVersion || g2.ResourceVersion != g.ResourceVersion || r2.ResourceVersion != r.ResourceVersion {
		t.Errorf("unchanged status was written again: resourceVersions %s %s %s → %s %s %s",
			gc.ResourceVersion, g.ResourceVersion, r.ResourceVersion, gc2.ResourceVersion, g2.ResourceVersion, r2.ResourceVersion)
	}
	if after := statusRequests(t, reg); after != writes {
		t.Errorf("%v status requests for an unchanged status", after-writes)
	}

	// Programmed flips, a second later (the times have seconds), and the
	// route no longer has fairway's Gateway as a parent.
	time.Sleep(1100 * time.Millisecond)
	w.Observe(f.status(false, false))
	eventually(t, 10*time.Second, "Programmed=False written", func() bool {
		_, g2, r2 = f.read(t)
		return meta.IsStatusConditionFalse(g2.Status.Conditions, "Programmed") && len(r2.Status.Parents) == 1
	})
	checkTransitions(t, g.Status.Conditions, g2.Status.Conditions, "Gateway")
	checkTransitions(t, g.Status.Listeners[0].Conditions, g2.Status.Listeners[0].Conditions, "listener")
	if p := r2.Status.Parents[0]; p.ControllerName != "example.com/other" {
		t.Errorf("route parents = %+v; want only the other controller's", r2.Status.Parents)
	}
}

// checkFirstWrite waits for the first status and checks what it holds.
func (f *gatewayStatusFixture) checkFirstWrite(t *testing.T) (gc *gatewayv1.GatewayClass, g *gatewayv1.Gateway, r *gatewayv1.HTTPRoute) {
	t.Helper()
	eventually(t, 10*time.Second, "the status written", func() bool {
		gc, g, r = f.read(t)
		return meta.IsStatusConditionTrue(gc.Status.Conditions, "Accepted") && meta.IsStatusConditionTrue(g.Status.Conditions, "Programmed") &&
			len(r.Status.Parents) == 2
	})
	if len(gc.Status.SupportedFeatures) != 2 || gc.Status.Conditions[0].ObservedGeneration != f.generations["class"] {
		t.Errorf("GatewayClass status = %+v", gc.Status)
	}
	if len(g.Status.Listeners) != 1 || g.Status.Listeners[0].AttachedRoutes != 1 || len(g.Status.Listeners[0].Conditions) != 4 ||
		len(g.Status.Addresses) != 1 || g.Status.Addresses[0].Value != fleetAddress {
		t.Errorf("Gateway status = %+v", g.Status)
	}
	if p := r.Status.Parents; p[0].ControllerName != "example.com/other" || !p[0].Conditions[0].LastTransitionTime.Equal(&f.other.Conditions[0].LastTransitionTime) ||
		p[1].ControllerName != translator.DefaultGatewayController || p[1].ParentRef.Name != "edge" || len(p[1].Conditions) != 2 {
		t.Errorf("route parents = %+v; want the other controller's entry kept, then fairway's", p)
	}
	return gc, g, r
}

// checkTransitions: from before to after Programmed flipped and Accepted
// held; Programmed's lastTransitionTime moved on, Accepted's stayed.
func checkTransitions(t *testing.T, before, after []metav1.Condition, what string) {
	t.Helper()
	a, a2 := meta.FindStatusCondition(before, "Accepted"), meta.FindStatusCondition(after, "Accepted")
	if !a2.LastTransitionTime.Equal(&a.LastTransitionTime) {
		t.Errorf("%s: Accepted did not change, but its lastTransitionTime moved from %v to %v", what, a.LastTransitionTime, a2.LastTransitionTime)
	}
	p, p2 := meta.FindStatusCondition(before, "Programmed"), meta.FindStatusCondition(after, "Programmed")
	if !p.LastTransitionTime.Before(&p2.LastTransitionTime) {
		t.Errorf("%s: Programmed flipped, but its lastTransitionTime went from %v to %v", what, p.LastTransitionTime, p2.LastTransitionTime)
	}
}

// statusRequests sums fairway_status_writes_total: every status request
// the writer made, whatever its result.
func statusRequests(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() == "fairway_status_writes_total" {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// syncWriter is a log destination that tests read while it is written.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// ownControlPlane starts a control plane of the test's own, for a test
// that needs a cluster without the Gateway API's CRDs: the shared one has
// them once any Gateway API test has run.
func ownControlPlane(t *testing.T) (*kubeapi.ControlPlane, kubernetes.Interface) {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), "control-plane.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cp, err := kubeapi.Start(kubeapi.BinDir(), logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	cs, err := cp.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	return cp, cs
}

// TestKubeGatewayAPINotInstalled: on a cluster without the Gateway API's
// CRDs, fairway says so once, in one line, and serves Ingress as before.
// The shared control plane has the CRDs once any Gateway API test has
// run, so this one runs a control plane of its own.
func TestKubeGatewayAPINotInstalled(t *testing.T) {
	kubeClient(t)
	cp, cs := ownControlPlane(t)
	const ns = "shop"
	host := "shop.example.com"
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
		_, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, "shop", "fairway", host, "web", 80), metav1.CreateOptions{})
		return err
	})
	f := startKubeFairway(t, cp.Kubeconfig(), ns)
	v := watchADS(t, f.xds, "envoy-0")
	v.waitFor(10*time.Second, "the Ingress's virtual host", func() bool { return slices.Contains(v.virtualHosts("http"), host) })
	eventually(t, 10*time.Second, "the Ingress's status", func() bool {
		ing, err := cs.NetworkingV1().Ingresses(ns).Get(context.Background(), "shop", metav1.GetOptions{})
		return err == nil && len(ing.Status.LoadBalancer.Ingress) == 1
	})
	logs := f.logs.String()
	if n := strings.Count(logs, "the Gateway API CRDs are not installed"); n != 1 {
		t.Errorf("the not-installed line is logged %d times, want once", n)
	}
	if strings.Contains(logs, "some Gateway API CRDs are not installed") || strings.Contains(logs, "waiting_for") {
		t.Error("fairway treats the absent Gateway API as partly installed, or waits for it")
	}
}

package kube

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"

	"github.com/fairwayhq/fairway/translator"
)

// authorize makes the fake API server's authorizer allow fairway every
// request but those on the denied resources.
func authorize(client *fake.Clientset, denied ...string) {
	client.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		review := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		review.Status.Allowed = !slices.Contains(denied, review.Spec.ResourceAttributes.Resource)
		return true, review, nil
	})
}

// servedGatewayResources makes the fake API server's discovery serve
// these Gateway API resources at v1, and its authorizer allow fairway.
func servedGatewayResources(client *fake.Clientset, resources ...string) {
	authorize(client)
	list := &metav1.APIResourceList{GroupVersion: GatewayAPIGroupVersion}
	for _, r := range resources {
		list.APIResources = append(list.APIResources, metav1.APIResource{Name: r, Namespaced: r != "gatewayclasses"})
	}
	client.Resources = append(client.Resources, list)
}

func startGatewaySource(t *testing.T, client *fake.Clientset, gw *gatewayfake.Clientset) (*Source, *syncBuffer) {
	t.Helper()
	return startGatewaySourceWith(t, client, gw, nil, 0)
}

// startGatewaySourceWith is startGatewaySource with discovery answered by
// disc instead of the fake clientset, when set, and checked again every
// recheck (0: the default).
func startGatewaySourceWith(t *testing.T, client *fake.Clientset, gw *gatewayfake.Clientset, disc resourceLister, recheck time.Duration) (*Source, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	logs := &syncBuffer{}
	src, err := NewSource(client, SourceConfig{Gateway: gw, GatewayRecheck: recheck}, hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info}))
	if err != nil {
		t.Fatal(err)
	}
	if disc != nil {
		src.gateway.discovery = disc
	}
	t.Cleanup(func() { cancel(); src.Shutdown() })
	if err := src.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return src, logs
}

// laterDiscovery serves no Gateway API resources until installed.
type laterDiscovery struct {
	mu        sync.Mutex
	resources []metav1.APIResource
}

func (d *laterDiscovery) ServerResourcesForGroupVersion(gv string) (*metav1.APIResourceList, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.resources) == 0 {
		return nil, apierrors.NewNotFound(schema.GroupResource{}, gv)
	}
	return &metav1.APIResourceList{GroupVersion: gv, APIResources: slices.Clone(d.resources)}, nil
}

func (d *laterDiscovery) install() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range gatewayKinds {
		d.resources = append(d.resources, metav1.APIResource{Name: k.resource})
	}
}

// TestGatewayAPINotInstalled: without the CRDs, nothing of the Gateway
// API is watched (the caches sync without it), and the log says so once.
func TestGatewayAPINotInstalled(t *testing.T) {
	src, logs := startGatewaySource(t, fake.NewClientset(), gatewayfake.NewClientset())
	for _, kind := range []string{KindGateway, KindHTTPRoute, KindNamespace} {
		if src.Informer(kind) != nil {
			t.Errorf("%s is watched without the CRDs", kind)
		}
	}
	if n := strings.Count(logs.String(), "the Gateway API CRDs are not installed"); n != 1 {
		t.Errorf("the not-installed line is logged %d times, want once:\n%s", n, logs)
	}
}

// TestGatewayAPIPartlyInstalled: the installed kinds are watched and fed
// to the loop, Namespaces with them; the missing ones are named once.
func TestGatewayAPIPartlyInstalled(t *testing.T) {
	client := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "shop"},
		Annotations: map[string]string{"big": strings.Repeat("x", 100)}}})
	var kinds []string
	for _, k := range gatewayKinds {
		if k.kind != KindTCPRoute && k.kind != KindUDPRoute {
			kinds = append(kinds, k.resource)
		}
	}
	servedGatewayResources(client, kinds...)
	gw := gatewayfake.NewSimpleClientset(&gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}})
	// The simple fake: NewClientset's needs a schema for the Gateway
	// API's types. The Gateway is created, not passed to it, since its
	// tracker would file it under the resource "gatewaies".
	if _, err := gw.GatewayV1().Gateways("shop").Create(context.Background(), &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "edge"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	src, logs := startGatewaySource(t, client, gw)
	if src.Informer(KindTCPRoute) != nil || src.Informer(KindUDPRoute) != nil {
		t.Error("TCPRoutes or UDPRoutes are watched, though their CRDs are not installed")
	}
	for _, kind := range []string{KindGatewayClass, KindGateway, KindHTTPRoute, KindGRPCRoute, KindTLSRoute, KindReferenceGrant, KindNamespace} {
		if src.Informer(kind) == nil {
			t.Errorf("%s is not watched", kind)
		}
	}
	if n := strings.Count(logs.String(), "some Gateway API CRDs are not installed"); n != 1 || !strings.Contains(logs.String(), `missing=["TCPRoute", "UDPRoute"]`) {
		t.Errorf("want one line naming TCPRoute and UDPRoute as missing:\n%s", logs)
	}
	// A synced cache has not necessarily called its handlers yet.
	want := []objectKey{{KindGateway, "shop", "edge"}, {KindHTTPRoute, "shop", "web"}, {KindNamespace, "", "shop"}}
	var pending map[objectKey]change
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		src.mu.Lock()
		pending = maps.Clone(src.pending)
		src.mu.Unlock()
		if len(pending) == len(want) || time.Now().After(deadline) {
			break
		}
	}
	for _, k := range want {
		if _, ok := pending[k]; !ok {
			t.Errorf("%v is not handed to the loop; pending = %v", k, pending)
		}
	}
	ns := pending[objectKey{KindNamespace, "", "shop"}].obj.(*corev1.Namespace)
	if ns.Labels["team"] != "shop" || ns.Annotations != nil {
		t.Errorf("the cached Namespace keeps %v and %v; want its labels only", ns.Labels, ns.Annotations)
	}
}

// TestGatewayAPIWithoutRBAC: with the CRDs installed but fairway's RBAC
// not updated for them, the Gateway API is not watched at all (its
// informers would keep every cache from syncing), the log says why once,
// and the rest syncs.
func TestGatewayAPIWithoutRBAC(t *testing.T) {
	client := fake.NewClientset()
	var all []string
	for _, k := range gatewayKinds {
		all = append(all, k.resource)
	}
	servedGatewayResources(client, all...)
	authorize(client, "namespaces")
	src, logs := startGatewaySource(t, client, gatewayfake.NewSimpleClientset())
	for _, kind := range []string{KindGateway, KindHTTPRoute, KindNamespace} {
		if src.Informer(kind) != nil {
			t.Errorf("%s is watched without the RBAC for Namespaces", kind)
		}
	}
	if n := strings.Count(logs.String(), "may not list and watch"); n != 1 || !strings.Contains(logs.String(), `denied=["list namespaces", "watch namespaces"]`) {
		t.Errorf("want one warning naming list and watch of namespaces:\n%s", logs)
	}
}

// TestGatewayStatusWritesAreNoWork: an update of a Gateway API object that
// changes only its status (fairway's own writes) is not handed to the
// translator; a spec change (a new generation) is.
func TestGatewayStatusWritesAreNoWork(t *testing.T) {
	old := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "r", UID: "u", Generation: 1, ResourceVersion: "1"}}
	status := old.DeepCopy()
	status.ResourceVersion = "2"
	status.Status.Parents = []gatewayv1.RouteParentStatus{{ControllerName: "fairway.dev/gateway-controller"}}
	if !sameForTranslation(old, status, false) {
		t.Error("a status write is handed to the translator")
	}
	spec := status.DeepCopy()
	spec.Generation = 2
	if sameForTranslation(old, spec, false) {
		t.Error("a new generation is not handed to the translator")
	}
	labels := status.DeepCopy()
	labels.Labels = map[string]string{"a": "b"}
	if sameForTranslation(old, labels, false) {
		t.Error("a label change is not handed to the translator")
	}
}

// TestGatewayAPIInstalledAfterStart: CRDs installed after fairway
// started are found by the next check and watched without a restart.
// Their objects reach the loop in one batch, once every new cache has
// synced (never a part of them), and their informers become visible
// only with the Sync that hands the loop that batch.
func TestGatewayAPIInstalledAfterStart(t *testing.T) {
	client := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}})
	authorize(client)
	gw := gatewayfake.NewSimpleClientset(&gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}})
	if _, err := gw.GatewayV1().Gateways("shop").Create(context.Background(), &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "edge"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	disc := &laterDiscovery{}
	src, logs := startGatewaySourceWith(t, client, gw, disc, 20*time.Millisecond)
	if src.Informer(KindGateway) != nil {
		t.Fatal("Gateways are watched before their CRD is installed")
	}
	disc.install()
	want := []objectKey{{KindGateway, "shop", "edge"}, {KindHTTPRoute, "shop", "web"}, {KindNamespace, "", "shop"}}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		src.mu.Lock()
		n := 0
		for _, k := range want {
			if _, ok := src.pending[k]; ok {
				n++
			}
		}
		src.mu.Unlock()
		if n == len(want) {
			break
		}
		if n > 0 {
			t.Fatalf("%d of the %d Gateway API objects reached the loop before the others", n, len(want))
		}
		if src.Informer(KindGateway) != nil {
			t.Fatal("Gateways' informer is visible before the loop has their objects")
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CRDs installed after start are not watched:\n%s", logs)
		}
	}
	if src.Informer(KindGateway) != nil {
		t.Error("Gateways' informer is visible before the Sync that hands their objects to the loop")
	}
	src.Sync(translator.NewEngine(translator.Options{}))
	for _, kind := range []string{KindGatewayClass, KindGateway, KindHTTPRoute, KindTCPRoute, KindReferenceGrant, KindNamespace} {
		if src.Informer(kind) == nil {
			t.Errorf("%s is not watched after the CRDs were installed", kind)
		}
	}
	if n := strings.Count(logs.String(), "since fairway started; watching them"); n != 1 {
		t.Errorf("said %d times that the CRDs are watched now, want once:\n%s", n, logs)
	}
}

// TestGatewayAPIRBACGrantedAfterStart: with the CRDs installed but the
// RBAC for Namespaces denied, nothing of the Gateway API is watched and
// the later checks do not warn again for the same denial; once the RBAC
// is granted, the next check watches every kind, without a restart.
func TestGatewayAPIRBACGrantedAfterStart(t *testing.T) {
	client := fake.NewClientset()
	var all []string
	for _, k := range gatewayKinds {
		all = append(all, k.resource)
	}
	servedGatewayResources(client, all...)
	// One reactor that reads the grant, since the fake's reactor list may
	// not change while the source's checks run.
	var granted atomic.Bool
	client.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		review := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		review.Status.Allowed = granted.Load() || review.Spec.ResourceAttributes.Resource != "namespaces"
		return true, review, nil
	})
	src, logs := startGatewaySourceWith(t, client, gatewayfake.NewSimpleClientset(), nil, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // several checks, all denied
	if src.Informer(KindGateway) != nil {
		t.Fatal("Gateways are watched without the RBAC for Namespaces")
	}
	if n := strings.Count(logs.String(), "may not list and watch"); n != 1 {
		t.Errorf("the denial is warned about %d times, want once:\n%s", n, logs)
	}
	granted.Store(true)
	for deadline := time.Now().Add(5 * time.Second); src.Informer(KindGateway) == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the Gateway API is not watched once the RBAC is granted:\n%s", logs)
		}
		src.Sync(translator.NewEngine(translator.Options{}))
	}
	for _, kind := range []string{KindGatewayClass, KindUDPRoute, KindNamespace} {
		if src.Informer(kind) == nil {
			t.Errorf("%s is not watched once the RBAC is granted", kind)
		}
	}
}

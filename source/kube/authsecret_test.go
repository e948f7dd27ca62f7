package kube

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/fairwayhq/fairway/translator"
)

// TestOpaqueAuthSecretReachesTheTranslator: an Ingress's basic-auth users
// are in an Opaque Secret (kubectl create secret generic), which the
// TLS-only watch would never see. The source watches Opaque Secrets too,
// keeps all their keys (an auth-map's keys are its users), and lists
// Secrets by type only, so that service-account tokens, registry logins
// and Helm releases never reach fairway; and PEM blocks in Opaque
// Secrets (certgen's CA key) are dropped before they are cached.
func TestOpaqueAuthSecretReachesTheTranslator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pathType := networkingv1.PathTypePrefix
	class := "fairway"
	objs := []runtime.Object{
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: class}, Spec: networkingv1.IngressClassSpec{Controller: "fairway.dev/ingress-controller"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "users", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}, Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"foo": []byte("{SHA}Ys23Ag/5IOWqZCw9QGaVDdHwH00=")}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "fairway-ca"}, Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"tls.key": []byte("-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----\n"), "note": []byte("kept")}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "token"}, Type: corev1.SecretTypeServiceAccountToken, Data: map[string][]byte{"token": []byte("t")}},
		&networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "private", Annotations: map[string]string{
				"nginx.ingress.kubernetes.io/auth-type": "basic", "nginx.ingress.kubernetes.io/auth-secret": "users",
				"nginx.ingress.kubernetes.io/auth-secret-type": "auth-map",
			}},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{Host: "private.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pathType, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
			}}}}},
		},
	}
	client := fake.NewClientset(objs...)
	var mu sync.Mutex
	var selectors []string
	// The fake API server ignores field selectors, and hands every watch
	// the same objects; this one applies the selectors, as the real one
	// does, gives each watch its own copies, and records the selectors.
	secrets := corev1.SchemeGroupVersion.WithResource("secrets")
	client.PrependReactor("list", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sel := a.(k8stesting.ListAction).GetListRestrictions().Fields
		mu.Lock()
		selectors = append(selectors, sel.String())
		mu.Unlock()
		all, err := client.Tracker().List(secrets, corev1.SchemeGroupVersion.WithKind("Secret"), a.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		out := &corev1.SecretList{}
		for _, s := range all.(*corev1.SecretList).Items {
			if sel.Matches(fields.Set{"type": string(s.Type)}) {
				out.Items = append(out.Items, *s.DeepCopy())
			}
		}
		return true, out, nil
	})
	client.PrependWatchReactor("secrets", func(a k8stesting.Action) (bool, watch.Interface, error) {
		sel := a.(k8stesting.WatchAction).GetWatchRestrictions().Fields
		w, err := client.Tracker().Watch(secrets, a.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		return true, watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
			s, ok := e.Object.(*corev1.Secret)
			if !ok {
				return e, true
			}
			return watch.Event{Type: e.Type, Object: s.DeepCopy()}, sel.Matches(fields.Set{"type": string(s.Type)})
		}), nil
	})
	src, err := NewSource(client, SourceConfig{}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); src.Shutdown() }()
	if err := src.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e := translator.NewEngine(translator.Options{})
	src.Sync(e)
	res := e.Output().Result()
	for _, p := range res.Problems {
		t.Errorf("problem: %+v", p)
	}
	shown, err := res.Resources(true)
	if err != nil {
		t.Fatal(err)
	}
	routes, _ := json.Marshal(shown.Routes)
	if !strings.Contains(string(routes), "foo:{SHA}Ys23Ag/5IOWqZCw9QGaVDdHwH00=") {
		t.Errorf("the auth-map Secret's user did not reach the route: %s", routes)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(selectors)
	selectors = slices.Compact(selectors)
	if want := []string{"type=Opaque", "type=kubernetes.io/tls"}; !slices.Equal(selectors, want) {
		t.Errorf("Secrets listed with selectors %q, want %q", selectors, want)
	}
	if obj, _, _ := src.Informer(KindAuthSecret).GetStore().GetByKey("app/users"); obj == nil || len(obj.(*corev1.Secret).ManagedFields) != 0 {
		t.Errorf("the Opaque Secret is not cached, or not trimmed: %+v", obj)
	}
	if obj, _, _ := src.Informer(KindAuthSecret).GetStore().GetByKey("app/fairway-ca"); obj == nil || len(obj.(*corev1.Secret).Data) != 2 || obj.(*corev1.Secret).Data["tls.key"] != nil {
		t.Errorf("an Opaque Secret's PEM block is cached: %+v", obj)
	}
	for _, kind := range []string{KindSecret, KindAuthSecret} {
		if obj, _, _ := src.Informer(kind).GetStore().GetByKey("app/token"); obj != nil {
			t.Errorf("a service-account token Secret is cached by the %s watch", kind)
		}
	}
}

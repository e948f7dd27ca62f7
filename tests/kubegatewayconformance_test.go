package tests

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/tests/testpki"
	"github.com/fairwayhq/fairway/translator"
)

// The ported Gateway API conformance cases (translator/conformance_*_test.go)
// hold Translate's status to the suite's expectations. This half puts the
// same manifests into the real API server, with the standard channel's
// CRDs, and runs fairway against it: the status the leader writes must be
// the translator's status of the objects as the API server holds them
// (its creation times and generations, its CRD defaults), condition for
// condition, with a lastTransitionTime on each; a handful of cases are
// also held directly to the spec's key conditions.

const (
	conformanceManifests = "../translator/testdata/gateway-conformance/"
	conformanceClass     = "gateway-conformance"
	// conformancePool gives each Gateway an address of its own, as the
	// translator-side harness does, so the base Gateways can all use
	// port 80.
	conformancePool  = "10.9.0.0/24"
	conformanceInfra = "gateway-conformance-infra"
	usableAddress    = "10.9.0.200"
	unusableAddress  = "203.0.113.7"
)

// conformanceNamespaces are the base manifests' namespaces.
var conformanceNamespaces = []string{conformanceInfra, "gateway-conformance-web-backend", "gateway-conformance-app-backend"}

// conformanceResource is where a manifest's kind lives in the API server.
type conformanceResource struct {
	gvr        schema.GroupVersionResource
	namespaced bool
}

var conformanceResources = map[string]conformanceResource{
	"Namespace":        {schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, false},
	"Service":          {schema.GroupVersionResource{Version: "v1", Resource: "services"}, true},
	"Secret":           {schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, true},
	"EndpointSlice":    {schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}, true},
	"GatewayClass":     {gatewayResource("gatewayclasses"), false},
	"Gateway":          {gatewayResource("gateways"), true},
	"HTTPRoute":        {gatewayResource("httproutes"), true},
	"GRPCRoute":        {gatewayResource("grpcroutes"), true},
	"TLSRoute":         {gatewayResource("tlsroutes"), true},
	"TCPRoute":         {gatewayResource("tcproutes"), true},
	"UDPRoute":         {gatewayResource("udproutes"), true},
	"ReferenceGrant":   {gatewayResource("referencegrants"), true},
	"BackendTLSPolicy": {gatewayResource("backendtlspolicies"), true},
}

func gatewayResource(r string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: r}
}

// notApplied are the manifests' kinds left out: no controller-manager
// runs beside this API server, so a Deployment would start no pod, and
// fairway reads neither kind.
var notApplied = map[string]bool{"Deployment": true, "ConfigMap": true}

// conformanceObjects reads one manifest file as the suite's applier does:
// the placeholders substituted, one object per document, in order.
func conformanceObjects(t *testing.T, file string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(conformanceManifests + file)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte("{GATEWAY_CLASS_NAME}"), []byte(conformanceClass))
	data = bytes.ReplaceAll(data, []byte("{GATEWAY_CONTROLLER_NAME}"), []byte(translator.DefaultGatewayController))
	// GatewayStaticAddresses' placeholders are the runner's addresses
	// (its --usable-network-addresses and --unusable-network-addresses):
	// here one of the pool's and one outside it.
	data = bytes.ReplaceAll(data, []byte("PLACEHOLDER_USABLE_ADDRS"), []byte(usableAddress))
	data = bytes.ReplaceAll(data, []byte("PLACEHOLDER_UNUSABLE_ADDRS"), []byte(unusableAddress))
	var out []*unstructured.Unstructured
	for i, doc := range bytes.Split(data, []byte("\n---")) {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
			t.Fatalf("%s document %d: %v", file, i+1, err)
		}
		if len(obj.Object) == 0 || notApplied[obj.GetKind()] {
			continue
		}
		if _, ok := conformanceResources[obj.GetKind()]; !ok {
			t.Fatalf("%s document %d: kind %s is not one this test applies", file, i+1, obj.GetKind())
		}
		out = append(out, obj)
	}
	return out
}

// conformanceSecretObjects are the TLS Secrets the suite's setup creates
// before any test (suite.go), as the translator-side harness makes them:
// one CA, a leaf for the DNS names the suite gives each.
func conformanceSecretObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	ca := testpki.NewCA(t, "conformance CA")
	secret := func(ns, name string, dns ...string) *unstructured.Unstructured {
		certPEM, keyPEM := ca.Issue(t, testpki.Leaf{CommonName: dns[0], DNSNames: dns})
		s := &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM},
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
		if err != nil {
			t.Fatal(err)
		}
		return &unstructured.Unstructured{Object: m}
	}
	web, app := conformanceNamespaces[1], conformanceNamespaces[2]
	return []*unstructured.Unstructured{
		secret(web, "certificate", "*"),
		secret(conformanceInfra, "tls-validity-checks-certificate", "*", "*.org", "*.wildcard.org"),
		secret(conformanceInfra, "tls-checks-certificate", "abc.example.com", "other.example.com"),
		secret(conformanceInfra, "tls-passthrough-checks-certificate", "abc.example.com"),
		secret(app, "tls-passthrough-checks-certificate", "abc.example.com"),
		secret(conformanceInfra, "tls-terminate-checks-certificate", "tls.example.com"),
	}
}

// applied is what one apply created, to delete again.
type applied struct {
	dyn     dynamic.Interface
	objects []*unstructured.Unstructured
}

// resourceOf is the client of one object's resource.
func (a *applied) resourceOf(obj *unstructured.Unstructured) dynamic.ResourceInterface {
	r := conformanceResources[obj.GetKind()]
	if r.namespaced {
		return a.dyn.Resource(r.gvr).Namespace(obj.GetNamespace())
	}
	return a.dyn.Resource(r.gvr)
}

// apply creates the objects one after another, as the suite's applier
// does. The API server's refusals are returned, "Kind ns/name: reason",
// not fatal: the manifests hold objects its validation is meant to stop
// (GatewayStaticAddresses' placeholders), and what it accepts is what
// fairway sees.
func (a *applied) apply(t *testing.T, objs []*unstructured.Unstructured) (refused []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, obj := range objs {
		created, err := a.resourceOf(obj).Create(ctx, obj, metav1.CreateOptions{})
		switch {
		case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
			refused = append(refused, obj.GetKind()+" "+key(obj)+": "+err.Error())
		case err != nil:
			t.Fatalf("creating %s %s: %v", obj.GetKind(), key(obj), err)
		default:
			a.objects = append(a.objects, created)
		}
	}
	return refused
}

// deleteAll deletes what apply created, newest first, and waits until
// the API server has none of it (no finalizers hold these kinds here).
func (a *applied) deleteAll(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := metav1.DeleteOptions{GracePeriodSeconds: new(int64)}
	for i := len(a.objects) - 1; i >= 0; i-- {
		obj := a.objects[i]
		if err := a.resourceOf(obj).Delete(ctx, obj.GetName(), now); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting %s %s: %v", obj.GetKind(), key(obj), err)
		}
	}
	for _, obj := range a.objects {
		for {
			_, err := a.resourceOf(obj).Get(ctx, obj.GetName(), metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s %s is still there", obj.GetKind(), key(obj))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a.objects = nil
}

func key(obj metav1.Object) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

// conformanceCaseFiles are the cases' manifests, tests/<name>.yaml, one
// manifest set per file, sorted. Every copied case runs here: what the
// module's tests assert of status is in these objects, whatever the
// translator-side harness skips for its requests.
func conformanceCaseFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(conformanceManifests + "tests/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance manifests: %v", err)
	}
	for i, f := range files {
		files[i] = strings.TrimPrefix(f, conformanceManifests)
	}
	sort.Strings(files)
	return files
}

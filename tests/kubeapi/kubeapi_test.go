package kubeapi

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// One control plane for the package: starting one costs seconds, and the
// tests use distinct namespaces so they do not see each other's objects.
var cp *ControlPlane

// The identity fairway runs as in a cluster; the RBAC test impersonates it.
const (
	testNS = "fairway-system"
	testSA = "system:serviceaccount:fairway-system:fairway"
)

func TestMain(m *testing.M) {
	flag.Parse() // for testing.Verbose
	if dir := BinDir(); dir != "" {
		var err error
		// -v shows the control plane's output; otherwise it would drown
		// the test output, and a failed start quotes its last lines anyway.
		var logw io.Writer
		if testing.Verbose() {
			logw = os.Stderr
		}
		if cp, err = Start(dir, logw); err != nil {
			fmt.Fprintln(os.Stderr, "kubeapi: starting the control plane:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if cp != nil {
		if err := cp.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "kubeapi: stopping the control plane:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// needControlPlane skips when the binaries were not built, naming the fix.
func needControlPlane(t *testing.T) {
	t.Helper()
	if cp == nil {
		t.Skip("kube-apiserver/etcd not built: run hack/control-plane-bins.sh and set FAIRWAY_CONTROL_PLANE_BINS")
	}
}

func admin(t *testing.T) *kubernetes.Clientset {
	t.Helper()
	c, err := cp.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// ensureNamespace creates ns, tolerating an earlier test having done so.
func ensureNamespace(t *testing.T, c kubernetes.Interface, ns string) {
	t.Helper()
	_, err := c.CoreV1().Namespaces().Create(ctx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
}

func createService(t *testing.T, c kubernetes.Interface, ns, name string) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	got, err := c.CoreV1().Services(ns).Create(ctx(t), svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service %s/%s: %v", ns, name, err)
	}
	return got
}

// TestNamespaceAndService proves the API server really serves and stores:
// the Service comes back with a ClusterIP allocated from the configured
// range and server-side defaults applied, which no fake clientset does,
// and the admin kubeconfig reaches it over verified TLS.
func TestNamespaceAndService(t *testing.T) {
	needControlPlane(t)
	c := admin(t)
	ensureNamespace(t, c, "create")
	svc := createService(t, c, "create", "web")
	if !strings.HasPrefix(svc.Spec.ClusterIP, "10.96.") {
		t.Errorf("ClusterIP = %q, want one from 10.96.0.0/16", svc.Spec.ClusterIP)
	}
	if got := svc.Spec.Ports[0].TargetPort.IntValue(); got != 80 {
		t.Errorf("defaulted targetPort = %d, want 80", got)
	}
	// Read back through the admin kubeconfig, the way a separate binary
	// (fairway serve --kubeconfig, kubectl) reaches this control plane.
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	list, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Services("create").List(ctx(t), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "web" {
		t.Errorf("services in namespace create = %v, want [web]", list.Items)
	}
}

// TestRBACEnforced proves authorization is real: the ServiceAccount, used
// through an impersonating kubeconfig as a separate binary would, is
// forbidden from listing Services until a RoleBinding grants it.
func TestRBACEnforced(t *testing.T) {
	needControlPlane(t)
	c := admin(t)
	ensureNamespace(t, c, testNS)
	path, err := cp.KubeconfigAs(testSA)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	sa := kubernetes.NewForConfigOrDie(cfg)
	_, err = sa.CoreV1().Services(testNS).List(ctx(t), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("list services as %s without RBAC: err = %v, want Forbidden", testSA, err)
	}

	// The positive control: the same client succeeds once a RoleBinding
	// grants it, so the Forbidden above was RBAC and not a broken
	// kubeconfig. A Role of its own, not the "view" ClusterRole: view is
	// aggregated, and with no controller manager running it has no rules.
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "fairway-services", Namespace: testNS},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"list"}}},
	}
	if _, err := c.RbacV1().Roles(testNS).Create(ctx(t), role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "fairway-services", Namespace: testNS},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "fairway", Namespace: testNS}},
	}
	if _, err := c.RbacV1().RoleBindings(testNS).Create(ctx(t), rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The authorizer reads bindings from an informer: allow it to catch up.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = sa.CoreV1().Services(testNS).List(ctx(t), metav1.ListOptions{})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("list services as %s with a RoleBinding: %v", testSA, err)
	}
}

// TestAPIServerRestartKeepsData proves StopAPIServer/StartAPIServer is an
// outage of the API server alone: clients fail while it is down, and the
// same client then sees the same object (same UID) on the same address.
func TestAPIServerRestartKeepsData(t *testing.T) {
	needControlPlane(t)
	c := admin(t)
	ensureNamespace(t, c, "restart")
	before := createService(t, c, "restart", "survivor")

	if err := cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	// Restart even if an assertion below fails, so later tests have a server.
	t.Cleanup(func() {
		if err := cp.StartAPIServer(); err != nil {
			t.Errorf("StartAPIServer (cleanup): %v", err)
		}
	})
	if _, err := c.CoreV1().Services("restart").Get(ctx(t), "survivor", metav1.GetOptions{}); err == nil {
		t.Fatal("get succeeded while the API server was stopped")
	}

	if err := cp.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	after, err := c.CoreV1().Services("restart").Get(ctx(t), "survivor", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get after restart: %v", err)
	}
	if after.UID != before.UID || after.Spec.ClusterIP != before.Spec.ClusterIP {
		t.Errorf("after restart: uid %s ip %s, want uid %s ip %s",
			after.UID, after.Spec.ClusterIP, before.UID, before.Spec.ClusterIP)
	}
}

package tests

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// gatewayStatusKinds are the Gateway API kinds with a status fairway
// writes; ReferenceGrants have none.
var gatewayStatusKinds = []string{"gatewayclasses", "gateways", "httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes"}

// allowed asks the API server's authorizer whether user (with groups)
// may do verb on resource (with subresource) of group.
func allowed(t *testing.T, cs kubernetes.Interface, user string, groups []string, verb, group, resource, subresource string) bool {
	t.Helper()
	review, err := cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: groups, ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Group: group, Resource: resource, Subresource: subresource, Namespace: "any"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return review.Status.Allowed
}

// checkGatewayRBAC: the install's RBAC lets fairway read the Gateway
// API's kinds and Namespaces and update the status of those that have
// one, and nothing more: no write of a spec, no patch of a status, no
// create or delete, no write of a Namespace.
func checkGatewayRBAC(t *testing.T, cs kubernetes.Interface, user string, groups []string) {
	t.Helper()
	const gw = "gateway.networking.k8s.io"
	for _, res := range append([]string{"referencegrants"}, gatewayStatusKinds...) {
		for _, verb := range []string{"get", "list", "watch"} {
			if !allowed(t, cs, user, groups, verb, gw, res, "") {
				t.Errorf("fairway may not %s %s", verb, res)
			}
		}
		for _, verb := range []string{"create", "update", "patch", "delete", "deletecollection"} {
			if allowed(t, cs, user, groups, verb, gw, res, "") {
				t.Errorf("fairway may %s %s, which it never does", verb, res)
			}
		}
	}
	for _, res := range gatewayStatusKinds {
		if !allowed(t, cs, user, groups, "update", gw, res, "status") {
			t.Errorf("fairway may not update %s/status", res)
		}
		if allowed(t, cs, user, groups, "patch", gw, res, "status") {
			t.Errorf("fairway may patch %s/status, which it never does", res)
		}
	}
	if allowed(t, cs, user, groups, "update", gw, "referencegrants", "status") {
		t.Error("fairway may update referencegrants/status, which does not exist")
	}
	for _, verb := range []string{"get", "list", "watch"} {
		if !allowed(t, cs, user, groups, verb, "", "namespaces", "") {
			t.Errorf("fairway may not %s namespaces", verb)
		}
	}
	for _, verb := range []string{"create", "update", "patch", "delete"} {
		if allowed(t, cs, user, groups, verb, "", "namespaces", "") {
			t.Errorf("fairway may %s namespaces", verb)
		}
	}
}

// installClusterRole is the install's ClusterRole for fairway, from
// manifests/kubernetes/rbac.yaml.
func installClusterRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	data, err := os.ReadFile("../manifests/kubernetes/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var role rbacv1.ClusterRole
		if err := yaml.Unmarshal([]byte(doc), &role); err != nil {
			t.Fatal(err)
		}
		if role.Kind == "ClusterRole" {
			return &role
		}
	}
	t.Fatal("rbac.yaml has no ClusterRole")
	return nil
}

// TestKubeGatewayAPIWithoutRBAC: a cluster that installed the Gateway
// API's CRDs but still gives fairway the RBAC of an install from before
// them keeps its Ingresses served: fairway sees it may not watch the new
// kinds, says so once, and watches the rest.
func TestKubeGatewayAPIWithoutRBAC(t *testing.T) {
	installGatewayCRDs(t)
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	user, name := "fairway-before-gateway-"+ns, "fairway-before-gateway-"+ns
	role := installClusterRole(t)
	role.ObjectMeta = metav1.ObjectMeta{Name: name}
	role.Rules = slices.DeleteFunc(role.Rules, func(r rbacv1.PolicyRule) bool {
		return slices.Contains(r.APIGroups, "gateway.networking.k8s.io") || slices.Contains(r.Resources, "namespaces")
	})
	ctx := context.Background()
	create(t, func(ctx context.Context) error {
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}, metav1.CreateOptions{})
		return err
	})
	t.Cleanup(func() {
		_ = cs.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
		_ = cs.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})
	})
	class, host := "fairway-"+ns, "old-rbac."+ns+".example.com"
	createIngressClass(t, cs, ingressClass(class, "fairway.dev/ingress-controller"))
	create(t, func(ctx context.Context) error {
		if _, err := cs.CoreV1().Services(ns).Create(ctx, clusterIPService(ns, "web", 80, 8080), metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, "shop", class, host, "web", 80), metav1.CreateOptions{})
		return err
	})
	kc, err := controlPlane.KubeconfigAs(user, "system:authenticated")
	if err != nil {
		t.Fatal(err)
	}
	// No Lease: this role has none in ns, and the test is not about it.
	f := startKubeFairway(t, kc, ns, "--leader-elect=false")
	v := watchADS(t, f.xds, "envoy-0")
	v.waitFor(10*time.Second, "the Ingress's virtual host", func() bool { return slices.Contains(v.virtualHosts("http"), host) })
	logs := f.logs.String()
	if n := strings.Count(logs, "may not list and watch"); n != 1 {
		t.Errorf("the missing-RBAC warning is logged %d times, want once", n)
	}
	if strings.Contains(strings.ToLower(logs), "forbidden") {
		t.Errorf("a request was forbidden: fairway watched what it may not")
	}
}

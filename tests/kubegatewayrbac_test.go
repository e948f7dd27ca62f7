package tests

import (
	"context"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
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

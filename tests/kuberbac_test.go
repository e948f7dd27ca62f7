package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fairwayhq/fairway/tests/kubeapi"
)

// kubectl runs the kubectl built beside the API server.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	bin := filepath.Join(kubeapi.BinDir(), "kubectl")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no kubectl in %s: rebuild with `make control-plane`", kubeapi.BinDir())
	}
	out, err := exec.Command(bin, append([]string{"--kubeconfig", controlPlane.Kubeconfig()}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestKubeManifestsAndRBAC: the install manifests apply cleanly (a
// server-side dry run, then for real), and fairway, running with exactly
// the RBAC they grant its ServiceAccount, does its whole job: it lists and
// watches what it needs (the Gateway API's kinds and Namespaces among
// them), writes status, records Events and holds its Lease, and no
// request is forbidden. Its Gateway API rights are exactly read, and
// update of status (checkGatewayRBAC).
func TestKubeManifestsAndRBAC(t *testing.T) {
	cs := kubeClient(t)
	// A server-side dry run checks every object against the API server's
	// schemas and admission, but namespaced objects need their namespace to
	// exist, so that one goes first, for real.
	kubectl(t, "apply", "-f", "../manifests/kubernetes/namespace.yaml", "--server-side")
	out := kubectl(t, "apply", "-k", "../manifests/kubernetes", "--server-side", "--dry-run=server")
	t.Logf("dry run:\n%s", out)
	kubectl(t, "apply", "-k", "../manifests/kubernetes", "--server-side")
	const system = "fairway-system"
	t.Cleanup(func() { // after fairway has stopped: cleanups run last first
		exec.Command(filepath.Join(kubeapi.BinDir(), "kubectl"), "--kubeconfig", controlPlane.Kubeconfig(),
			"delete", "-k", "../manifests/kubernetes", "--wait=false", "--ignore-not-found").Run()
		purgeNamespace(t, cs, system)
	})
	create(t, func(ctx context.Context) error { // no controller-manager makes it here
		_, err := cs.CoreV1().ServiceAccounts(system).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
		return err
	})
	fleetMember(t, cs, system, "edge-rbac", "203.0.113.8", "app.kubernetes.io/name=fairway-envoy")

	ns := newNamespace(t, cs)
	createLBService(t, cs, ns, "db", 5433)
	time.Sleep(1100 * time.Millisecond)
	createLBService(t, cs, ns, "db-copy", 5433) // loses the port: an Event
	create(t, func(ctx context.Context) error {
		if _, err := cs.CoreV1().Services(ns).Create(ctx, clusterIPService(ns, "web", 80, 8080), metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, "shop", "fairway", "rbac.example.com", "web", 80), metav1.CreateOptions{})
		return err
	})

	// With the Gateway API installed, fairway watches its kinds and the
	// Namespaces too, under the same RBAC; the GatewayClass manifest,
	// applied after the CRDs, passes the API server's validation.
	installGatewayCRDs(t)
	kubectl(t, "apply", "-f", "../manifests/kubernetes/gatewayclass.yaml", "--server-side", "--dry-run=server")

	sa := "system:serviceaccount:" + system + ":fairway"
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + system, "system:authenticated"}
	checkGatewayRBAC(t, cs, sa, groups)
	kc, err := controlPlane.KubeconfigAs(sa, groups...)
	if err != nil {
		t.Fatal(err)
	}
	f := startFairwayArgs(t, append([]string{"--kubeconfig", kc, "--fairway-namespace", system}, fastLease...)...)
	v := watchADS(t, f.xds, "envoy-0")
	v.waitFor(10*time.Second, "the listeners", func() bool {
		ls := v.names(resourcev3.ListenerType)
		return slices.Contains(ls, "tcp-5433") && slices.Contains(ls, "http")
	})
	proxy := corev1.LoadBalancerIPModeProxy
	eventually(t, 10*time.Second, "the Service's and the Ingress's status", func() bool {
		st, ing := serviceStatus(t, cs, ns, "db"), ingressStatus(t, cs, ns, "shop")
		return len(st) == 1 && st[0].IP == "203.0.113.8" && *st[0].IPMode == proxy && len(ing) == 1 && ing[0].IP == "203.0.113.8"
	})
	eventually(t, 10*time.Second, "the PortConflict Event", func() bool {
		return slices.Contains(eventsFor(t, cs, ns, "Service", "db-copy"), "PortConflict")
	})
	if leaseHolder(t, cs, system) == "" || f.metric("fairway_leader") != 1 {
		t.Error("fairway did not hold its Lease")
	}
	if n := f.metric(`fairway_status_writes_total{kind="Service",result="failed"}`); n != 0 {
		t.Errorf("%v status writes failed", n)
	}
	if logs := f.logs.String(); strings.Contains(strings.ToLower(logs), "forbidden") {
		t.Errorf("a request was forbidden:\n%s", logs)
	}
	if strings.Contains(f.logs.String(), "Gateway API CRDs are not installed") {
		t.Error("fairway did not watch the Gateway API, though its CRDs are installed")
	}
}

package tests

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/fairwayhq/fairway/tests/kubeapi"
)

// controlPlane is the real kube-apiserver and etcd that TestMain starts
// when the binaries are there; nil otherwise.
var controlPlane *kubeapi.ControlPlane

// fleetAddress is the static fleet address most Kubernetes tests publish.
const fleetAddress = "192.0.2.10"

// Fast leader election, so that failover fits in a test.
var fastLease = []string{"--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=500ms"}

// kubeClient is an admin clientset, or a skip when there is no API server.
func kubeClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	if controlPlane == nil {
		t.Skip("kube-apiserver/etcd not built: run `make control-plane` and set FAIRWAY_CONTROL_PLANE_BINS (make test and .ci/run do both)")
	}
	cs, err := controlPlane.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// newNamespace creates a namespace of the test's own, with the default
// ServiceAccount that no controller-manager will create here.
func newNamespace(t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	name := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 50 {
		name = name[:50]
	}
	name += "-" + strconv.FormatInt(time.Now().UnixNano()%100000, 10)
	create(t, func(ctx context.Context) error {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		return err
	})
	create(t, func(ctx context.Context) error {
		_, err := cs.CoreV1().ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
		return err
	})
	t.Cleanup(func() { purgeNamespace(t, cs, name) })
	return name
}

// create runs one API call and fails the test on error.
func create(t *testing.T, call func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := call(ctx); err != nil {
		t.Fatal(err)
	}
}

func lbService(ns, name string, port int32, proto corev1.Protocol) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Name: "main", Port: port, Protocol: proto, TargetPort: intstr.FromInt32(port)}}},
	}
}

func clusterIPService(ns, name string, port, target int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Name: "http", Port: port, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(target)}}},
	}
}

// endpointSlice is the slice the EndpointSlice controller would write for
// a Service, with every address ready.
func endpointSlice(ns, svc, portName string, port int32, ips ...string) *discoveryv1.EndpointSlice {
	ready := true
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: svc + "-abc", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
	}
	for _, ip := range ips {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	return es
}

func ingressClass(name, controller string) *networkingv1.IngressClass {
	return &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
}

func ingress(ns, name, class, host, svc string, port int32) *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
			Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &prefix,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: port}}},
			}}}},
		}}},
	}
}

// createClusterScoped creates an IngressClass or Node for one test.
func createIngressClass(t *testing.T, cs kubernetes.Interface, ic *networkingv1.IngressClass) {
	t.Helper()
	create(t, func(ctx context.Context) error {
		_, err := cs.NetworkingV1().IngressClasses().Create(ctx, ic, metav1.CreateOptions{})
		return err
	})
	t.Cleanup(func() {
		_ = cs.NetworkingV1().IngressClasses().Delete(context.Background(), ic.Name, metav1.DeleteOptions{})
	})
}

// fleetMember makes a Node with an ExternalIP and a ready, host-network
// fleet pod on it, as the kubelet would report them.
func fleetMember(t *testing.T, cs kubernetes.Interface, ns, node, externalIP, label string) {
	t.Helper()
	create(t, func(ctx context.Context) error {
		n, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.1.0.1"}, {Type: corev1.NodeExternalIP, Address: externalIP}}
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	t.Cleanup(func() { _ = cs.CoreV1().Nodes().Delete(context.Background(), node, metav1.DeleteOptions{}) })
	k, v, _ := strings.Cut(label, "=")
	create(t, func(ctx context.Context) error {
		pod, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "envoy-" + node, Labels: map[string]string{k: v}},
			Spec: corev1.PodSpec{NodeName: node, HostNetwork: true, AutomountServiceAccountToken: new(bool),
				Containers: []corev1.Container{{Name: "envoy", Image: "envoy"}}},
		}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, HostIP: "10.1.0.1", PodIP: "10.1.0.1",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
		_, err = cs.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
}

// startKubeFairway runs serve against the control plane, watching ns, with
// its Lease in ns too. extra flags come last and so win.
func startKubeFairway(t *testing.T, kubeconfig, ns string, extra ...string) *fairway {
	t.Helper()
	args := append([]string{"--kubeconfig", kubeconfig, "--namespace", ns, "--fairway-namespace", ns,
		"--publish-address", "static=" + fleetAddress}, fastLease...)
	return startFairwayArgs(t, append(args, extra...)...)
}

// serviceStatus reads a Service's LB status from the API server.
func serviceStatus(t *testing.T, cs kubernetes.Interface, ns, name string) []corev1.LoadBalancerIngress {
	t.Helper()
	svc, err := cs.CoreV1().Services(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return svc.Status.LoadBalancer.Ingress
}

func ingressStatus(t *testing.T, cs kubernetes.Interface, ns, name string) []networkingv1.IngressLoadBalancerIngress {
	t.Helper()
	ing, err := cs.NetworkingV1().Ingresses(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ing.Status.LoadBalancer.Ingress
}

// eventsFor lists the reasons of the Events on one object.
func eventsFor(t *testing.T, cs kubernetes.Interface, ns, kind, name string) []string {
	t.Helper()
	list, err := cs.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{
		FieldSelector: fmt.Sprintf("involvedObject.kind=%s,involvedObject.name=%s", kind, name)})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		out = append(out, e.Reason)
	}
	return out
}

// metric reads one sample of fairway's /metrics, "name{labels}" as printed;
// 0 when absent.
func (f *fairway) metric(series string) float64 {
	f.t.Helper()
	resp, err := http.Get("http://" + f.admin + "/metrics")
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v
		}
	}
	return 0
}

// kubeconfigFor writes a kubeconfig for cfg with another host, for
// reaching the API server through a proxy.
func kubeconfigFor(t *testing.T, cfg *rest.Config, host string) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: host, CertificateAuthority: cfg.CAFile}
	kc.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["x"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	kc.CurrentContext = "x"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// startControlPlane is TestMain's: the API server for the Kubernetes tests,
// when its binaries are there. Its output goes to a file that a failing
// run can read.
func startControlPlane(dir string) (stop func(), err error) {
	bins := kubeapi.BinDir()
	if bins == "" {
		fmt.Fprintln(os.Stderr, "tests: kube-apiserver/etcd not built; the Kubernetes tests will skip (make control-plane)")
		return func() {}, nil
	}
	logf, err := os.Create(filepath.Join(dir, "control-plane.log"))
	if err != nil {
		return nil, err
	}
	cp, err := kubeapi.Start(bins, logf)
	if err != nil {
		logf.Close()
		return nil, err
	}
	controlPlane = cp
	return func() { _ = cp.Stop(); logf.Close() }, nil
}

// purgeNamespace deletes a namespace outright. No namespace controller runs
// beside this API server, so a plain delete leaves the namespace
// Terminating and its objects in etcd for ever; a test that reuses a fixed
// namespace (the manifests' fairway-system) deletes what it put there, then
// finalizes the namespace itself and waits until it is gone.
func purgeNamespace(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	all, now := metav1.ListOptions{}, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}
	for _, del := range []func() error{
		func() error { return cs.CoreV1().Pods(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.CoreV1().ServiceAccounts(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.CoreV1().Events(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.CoordinationV1().Leases(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.AppsV1().Deployments(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.AppsV1().DaemonSets(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.PolicyV1().PodDisruptionBudgets(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.CoreV1().ConfigMaps(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.CoreV1().Secrets(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.DiscoveryV1().EndpointSlices(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.NetworkingV1().Ingresses(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.RbacV1().Roles(name).DeleteCollection(ctx, now, all) },
		func() error { return cs.RbacV1().RoleBindings(name).DeleteCollection(ctx, now, all) },
	} {
		if err := del(); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("purging namespace %s: %v", name, err)
		}
	}
	svcs, err := cs.CoreV1().Services(name).List(ctx, all)
	if err == nil { // Services have no DeleteCollection
		for _, s := range svcs.Items {
			_ = cs.CoreV1().Services(name).Delete(ctx, s.Name, now)
		}
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("deleting namespace %s: %v", name, err)
		return
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		ns.Spec.Finalizers = nil
		if _, err := cs.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("finalizing namespace %s: %v", name, err)
		}
	}
	for ctx.Err() == nil {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("namespace %s is still there", name)
}

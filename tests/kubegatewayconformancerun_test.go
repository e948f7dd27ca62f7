package tests

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/fairwayhq/fairway/translator"
)

// TestKubeGatewayConformanceStatus: for every ported conformance case,
// its manifests (after the base manifests and the suite's TLS Secrets)
// go into the real API server, fairway serves them in kube mode as
// leader with an address pool, and the status the API server then holds
// is the translator's status of the objects read back from it. The
// cases run one after another: each case's objects are applied, checked
// and deleted before the next, the base objects stay. Some cases are
// also held to the spec's key conditions directly.
func TestKubeGatewayConformanceStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: it applies every conformance case to the API server")
	}
	r := startConformance(t, "--lb-address-pool", conformancePool)
	files := conformanceCaseFiles(t)
	for _, file := range files {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(file, "tests/"), ".yaml"), func(t *testing.T) {
			r.runCase(t, file, conformanceObjects(t, file))
		})
	}
	t.Run("listener-protocol-conflict", func(t *testing.T) {
		r.runCase(t, "", []*unstructured.Unstructured{unstructuredOf(t, conflictingGateway())})
	})
	t.Run("new-leader-writes-nothing", func(t *testing.T) { r.newLeaderWritesNothing(t) })
	t.Logf("checked against the API server: %s", profileCounts(files))
}

// sharedFleetCases are cases run again without an address pool, where
// every Gateway listens on the fleet's shared address: the base
// Gateways' port 80 listeners then conflict, and the writer fills in the
// fleet's address for the accepted Gateways.
var sharedFleetCases = []string{
	"tests/httproute-simple-same-namespace.yaml", "tests/gateway-with-attached-routes.yaml",
	"tests/httproute-https-listener.yaml", "tests/grpcroute-exact-method-matching.yaml",
	"tests/tlsroute-simple-same-namespace.yaml", "tests/tcproute-parentref-attach-all.yaml",
	"tests/udproute-simple.yaml", "tests/gateway-invalid-tls-configuration.yaml",
}

// TestKubeGatewayConformanceStatusSharedFleet: without an address pool,
// the status the API server holds is still the translator's, fleet
// addresses included, and of the base Gateways' port 80 listeners (no
// hostname, so they overlap) only the oldest's is not Conflicted.
func TestKubeGatewayConformanceStatusSharedFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: it applies conformance cases to the API server")
	}
	r := startConformance(t)
	in := r.settle(t, "the base manifests")
	checkSharedPort80(t, in)
	for _, file := range sharedFleetCases {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(file, "tests/"), ".yaml"), func(t *testing.T) {
			r.runCase(t, file, conformanceObjects(t, file))
		})
	}
	t.Run("addresses-without-a-pool", func(t *testing.T) { r.addressesOnTheFleet(t) })
}

// addressesOnTheFleet: without a pool a Gateway that names one of the
// fleet's addresses is programmed and lists it; one that names another
// address is not programmed (AddressNotUsable), as the status writer
// alone can tell, and lists the fleet's addresses, where it is served.
func (r *conformanceRun) addressesOnTheFleet(t *testing.T) {
	a := &applied{dyn: r.dyn}
	defer a.deleteAll(t)
	objs := []*unstructured.Unstructured{
		unstructuredOf(t, addressedGateway("on-the-fleet", fleetAddress, 8091)),
		unstructuredOf(t, addressedGateway("off-the-fleet", "198.51.100.9", 8092)),
	}
	if refused := a.apply(t, objs); len(refused) > 0 {
		t.Errorf("the API server refuses: %s", strings.Join(refused, "; "))
	}
	in := r.settle(t, "Gateways with spec.addresses on the shared fleet")
	expectGateway(t, in, "on-the-fleet", "Programmed", metav1.ConditionTrue, "Programmed")
	expectGateway(t, in, "off-the-fleet", "Accepted", metav1.ConditionTrue, "Accepted")
	expectGateway(t, in, "off-the-fleet", "Programmed", metav1.ConditionFalse, "AddressNotUsable")
	for _, name := range []string{"on-the-fleet", "off-the-fleet"} {
		if g := findInfraGateway(t, in, name); g != nil && (len(g.Status.Addresses) != 1 || g.Status.Addresses[0].Value != fleetAddress) {
			t.Errorf("Gateway %s: status.addresses %v, want the fleet's %s", name, g.Status.Addresses, fleetAddress)
		}
	}
}

// addressedGateway is a Gateway with one HTTP listener that asks for
// the address value in spec.addresses.
func addressedGateway(name, value string, port int32) *gatewayv1.Gateway {
	return &gatewayv1.Gateway{TypeMeta: metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{Namespace: conformanceInfra, Name: name},
		Spec: gatewayv1.GatewaySpec{GatewayClassName: conformanceClass,
			Addresses: []gatewayv1.GatewaySpecAddress{{Type: ptrTo(gatewayv1.IPAddressType), Value: value}},
			Listeners: []gatewayv1.Listener{{Name: "http", Port: port, Protocol: gatewayv1.HTTPProtocolType}}}}
}

// checkSharedPort80: the three base Gateways' port 80 listeners, oldest
// (creation time, then namespace/name) first; the first holds the port,
// the others are Conflicted (HostnameConflict) and not programmed.
func checkSharedPort80(t *testing.T, in translator.Input) {
	t.Helper()
	var base []*gatewayv1.Gateway
	for _, g := range in.Gateways {
		for _, l := range g.Spec.Listeners {
			if g.Namespace == conformanceInfra && l.Name == "http" && l.Port == 80 {
				base = append(base, g)
			}
		}
	}
	if len(base) != 3 {
		t.Fatalf("%d base Gateways with an http listener on port 80 in the API server, want 3", len(base))
	}
	sort.Slice(base, func(i, j int) bool {
		a, b := base[i].CreationTimestamp, base[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return base[i].Name < base[j].Name
	})
	for i, g := range base {
		if i == 0 {
			expectListener(t, in, g.Name, "http", "Conflicted", metav1.ConditionFalse, "NoConflicts")
			expectListener(t, in, g.Name, "http", "Programmed", metav1.ConditionTrue, "Programmed")
			continue
		}
		expectListener(t, in, g.Name, "http", "Conflicted", metav1.ConditionTrue, "HostnameConflict")
		expectListener(t, in, g.Name, "http", "Programmed", metav1.ConditionFalse, "")
	}
}

// conformanceRun is fairway serving the conformance manifests from the
// API server.
type conformanceRun struct {
	cs   kubernetes.Interface
	gw   gatewayclient.Interface
	dyn  dynamic.Interface
	opts translator.Options
	// fleet is the status address of an accepted Gateway that the
	// translation gives none (no pool): the writer's, from
	// --publish-address.
	fleet []string
	// spec: the cases are held to the suite's conditions too, which
	// assume a Gateway of its own for each address (the pool).
	spec bool
	// fairway and the flags it was started with.
	fairway *fairway
	args    []string
}

// startConformance applies the base manifests, the suite's GatewayClass
// and Secrets, and starts fairway on all namespaces as leader with the
// flags given (an address pool, or none); it waits for the base status.
func startConformance(t *testing.T, flags ...string) *conformanceRun {
	t.Helper()
	r := &conformanceRun{gw: gatewayClient(t), cs: kubeClient(t), opts: translator.Options{}.WithDefaults(), fleet: []string{fleetAddress}}
	if len(flags) == 2 && flags[0] == "--lb-address-pool" {
		r.opts.LBAddressPools, r.spec = []string{flags[1]}, true
	}
	var err error
	if r.dyn, err = dynamic.NewForConfig(controlPlane.Config()); err != nil {
		t.Fatal(err)
	}
	lease := newNamespace(t, r.cs)
	for _, ns := range conformanceNamespaces {
		t.Cleanup(func() { purgeNamespace(t, r.cs, ns) })
		deleteGatewayObjects(t, r.gw, ns, conformanceClass)
	}
	base := &applied{dyn: r.dyn}
	class := &gatewayv1.GatewayClass{TypeMeta: metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "GatewayClass"},
		ObjectMeta: metav1.ObjectMeta{Name: conformanceClass}, Spec: gatewayv1.GatewayClassSpec{ControllerName: translator.DefaultGatewayController}}
	objs := append(conformanceObjects(t, "manifests.yaml"), unstructuredOf(t, class))
	if refused := base.apply(t, append(objs, conformanceSecretObjects(t)...)); len(refused) > 0 {
		t.Fatalf("the API server refuses base objects: %s", strings.Join(refused, "; "))
	}
	r.args = append(append([]string{"--kubeconfig", controlPlane.Kubeconfig(), "--fairway-namespace", lease,
		"--publish-address", "static=" + fleetAddress}, fastLease...), flags...)
	r.fairway = startFairwayArgs(t, r.args...)
	r.settle(t, "the base manifests")
	return r
}

// runCase applies one case's objects, waits until the status settles on
// the translator's, checks the spec's key conditions where the case has
// them, makes its steps, and deletes the objects again.
func (r *conformanceRun) runCase(t *testing.T, file string, objs []*unstructured.Unstructured) {
	a := &applied{dyn: r.dyn}
	defer a.deleteAll(t)
	if refused := a.apply(t, objs); len(refused) > 0 {
		t.Errorf("the API server refuses: %s", strings.Join(refused, "; "))
	}
	in := r.settle(t, file)
	if !r.spec {
		return
	}
	if check := specChecks[file]; check != nil {
		check(t, in)
	}
	for i, step := range statusSteps[file] {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := step.change(t, ctx, r.gw)
		cancel()
		if err != nil {
			t.Fatalf("the case's step %d: %v", i+1, err)
		}
		step.check(t, r.settle(t, fmt.Sprintf("%s, after its step %d", file, i+1)))
	}
	if file == "" {
		checkConflicted(t, in)
	}
}

// settle waits until the status in the API server is the translator's
// status of what the API server holds, and returns that state; it fails
// the test with the last differences when that does not happen in time.
func (r *conformanceRun) settle(t *testing.T, what string) translator.Input {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var last []string
	for {
		in, err := readBack(ctx, r.cs, r.gw)
		if err == nil {
			last = statusDiffs(in, translator.Translate(in, r.opts).Gateway, r.fleet)
			if len(last) == 0 {
				return in
			}
		} else {
			last = []string{err.Error()}
		}
		select {
		case <-ctx.Done():
			t.Errorf("%s: the API server's status is not the translator's within 20s:\n%s", what, strings.Join(last, "\n"))
			return in
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func unstructuredOf(t *testing.T, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// conflictingGateway has an HTTP and a TCP listener on one port: the CRD
// allows it (the protocols differ), the spec calls it a conflict.
func conflictingGateway() *gatewayv1.Gateway {
	return &gatewayv1.Gateway{TypeMeta: metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{Namespace: conformanceInfra, Name: "protocol-conflict"},
		Spec: gatewayv1.GatewaySpec{GatewayClassName: conformanceClass, Listeners: []gatewayv1.Listener{
			{Name: "http", Port: 8090, Protocol: gatewayv1.HTTPProtocolType},
			{Name: "tcp", Port: 8090, Protocol: gatewayv1.TCPProtocolType},
		}}}
}

// checkConflicted: both listeners of the conflicting Gateway are
// Conflicted=True (ProtocolConflict) and not programmed, in the API
// server.
func checkConflicted(t *testing.T, in translator.Input) {
	t.Helper()
	for _, l := range []string{"http", "tcp"} {
		expectListener(t, in, "protocol-conflict", l, "Conflicted", metav1.ConditionTrue, "ProtocolConflict")
		expectListener(t, in, "protocol-conflict", l, "Programmed", metav1.ConditionFalse, "")
	}
}

// specChecks hold some cases to the conditions the suite asserts, read
// from the API server.
var specChecks = map[string]func(*testing.T, translator.Input){
	"tests/httproute-invalid-cross-namespace-backend-ref.yaml": func(t *testing.T, in translator.Input) {
		expectRouteParent(t, in, "HTTPRoute", "invalid-cross-namespace-backend-ref", "same-namespace", "ResolvedRefs", metav1.ConditionFalse, "RefNotPermitted")
		expectRouteParent(t, in, "HTTPRoute", "invalid-cross-namespace-backend-ref", "same-namespace", "Accepted", metav1.ConditionTrue, "Accepted")
	},
	"tests/gateway-invalid-route-kind.yaml": func(t *testing.T, in translator.Input) {
		expectListener(t, in, "gateway-only-invalid-route-kind", "http", "ResolvedRefs", metav1.ConditionFalse, "InvalidRouteKinds")
		expectListener(t, in, "gateway-supported-and-invalid-route-kind", "http", "ResolvedRefs", metav1.ConditionFalse, "InvalidRouteKinds")
	},
	"tests/gateway-invalid-tls-configuration.yaml": func(t *testing.T, in translator.Input) {
		for _, g := range []string{"gateway-certificate-nonexistent-secret", "gateway-certificate-unsupported-group",
			"gateway-certificate-unsupported-kind", "gateway-certificate-malformed-secret"} {
			expectListener(t, in, g, "https", "ResolvedRefs", metav1.ConditionFalse, "InvalidCertificateRef")
		}
	},
	"tests/httproute-simple-same-namespace.yaml": func(t *testing.T, in translator.Input) {
		expectRouteParent(t, in, "HTTPRoute", "gateway-conformance-infra-test", "same-namespace", "Accepted", metav1.ConditionTrue, "Accepted")
		expectRouteParent(t, in, "HTTPRoute", "gateway-conformance-infra-test", "same-namespace", "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
		expectGateway(t, in, "same-namespace", "Programmed", metav1.ConditionTrue, "Programmed")
	},
	"tests/gateway-static-addresses.yaml": func(t *testing.T, in translator.Input) {
		expectGateway(t, in, "gateway-static-addresses", "Accepted", metav1.ConditionFalse, "UnsupportedAddress")
	},
	"tests/gateway-secret-missing-reference-grant.yaml": func(t *testing.T, in translator.Input) {
		expectListener(t, in, "gateway-secret-missing-reference-grant", "https", "ResolvedRefs", metav1.ConditionFalse, "RefNotPermitted")
	},
}

// expectGateway checks one condition of a Gateway in the infra namespace.
func expectGateway(t *testing.T, in translator.Input, name, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	g := findInfraGateway(t, in, name)
	if g == nil {
		return
	}
	expectCondition(t, "Gateway "+name, g.Status.Conditions, typ, status, reason, g.Generation)
}

// expectListener checks one condition of a Gateway's listener.
func expectListener(t *testing.T, in translator.Input, gateway, listener, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	g := findInfraGateway(t, in, gateway)
	if g == nil {
		return
	}
	for _, l := range g.Status.Listeners {
		if string(l.Name) == listener {
			expectCondition(t, fmt.Sprintf("Gateway %s listener %s", gateway, listener), l.Conditions, typ, status, reason, g.Generation)
			return
		}
	}
	t.Errorf("Gateway %s: no status for listener %s in the API server", gateway, listener)
}

// expectRouteParent checks one condition of a route's entry of
// fairway's for a Gateway, both in the infra namespace.
func expectRouteParent(t *testing.T, in translator.Input, kind, route, gateway, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	for _, r := range inputRoutes(in) {
		if r.kind != kind || r.meta.Namespace != conformanceInfra || r.meta.Name != route {
			continue
		}
		for _, p := range r.parents {
			if p.ControllerName == translator.DefaultGatewayController && string(p.ParentRef.Name) == gateway {
				expectCondition(t, fmt.Sprintf("%s %s parent %s", kind, route, gateway), p.Conditions, typ, status, reason, r.meta.Generation)
				return
			}
		}
		t.Errorf("%s %s: no parent entry of fairway's for %s in the API server: %+v", kind, route, gateway, r.parents)
		return
	}
	t.Errorf("no %s %s in the API server", kind, route)
}

func findInfraGateway(t *testing.T, in translator.Input, name string) *gatewayv1.Gateway {
	t.Helper()
	for _, g := range in.Gateways {
		if g.Namespace == conformanceInfra && g.Name == name {
			return g
		}
	}
	t.Errorf("no Gateway %s in the API server", name)
	return nil
}

// expectCondition: the condition is there with the status, the reason
// (any, when reason is ""), the object's generation and a time.
func expectCondition(t *testing.T, what string, conds []metav1.Condition, typ string, status metav1.ConditionStatus, reason string, generation int64) {
	t.Helper()
	c := meta.FindStatusCondition(conds, typ)
	switch {
	case c == nil:
		t.Errorf("%s: no %s condition in the API server", what, typ)
	case c.Status != status || (reason != "" && c.Reason != reason) || c.ObservedGeneration != generation || c.LastTransitionTime.IsZero():
		t.Errorf("%s: %s=%s (%s), observedGeneration %d, lastTransitionTime %v; want %s (%s) at generation %d, with a time",
			what, typ, c.Status, c.Reason, c.ObservedGeneration, c.LastTransitionTime, status, reason, generation)
	}
}

// profileCounts counts the manifest sets checked per profile, by the
// route kind of their file (the Gateway's own tests count in every
// profile, as in the suite's report).
func profileCounts(files []string) string {
	counts := map[string]int{}
	for _, f := range files {
		name := strings.TrimPrefix(f, "tests/")
		switch {
		case strings.HasPrefix(name, "httproute-"):
			counts["GATEWAY-HTTP"]++
		case strings.HasPrefix(name, "grpcroute-"):
			counts["GATEWAY-GRPC"]++
		case strings.HasPrefix(name, "tlsroute-"):
			counts["GATEWAY-TLS"]++
		case strings.HasPrefix(name, "tcproute-"):
			counts["GATEWAY-TCP"]++
		case strings.HasPrefix(name, "udproute-"):
			counts["GATEWAY-UDP"]++
		default:
			counts["Gateway (every profile)"]++
		}
	}
	var out []string
	for p, n := range counts {
		out = append(out, fmt.Sprintf("%s %d", p, n))
	}
	sort.Strings(out)
	return fmt.Sprintf("%d manifest sets: %s", len(files), strings.Join(out, ", "))
}

package helmchart

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// describePeer names a NetworkPolicy peer for comparison: the fleet's pods,
// a CIDR, or namespaces by label ("namespaces <all>" for every one).
func describePeer(t *testing.T, peer networkingv1.NetworkPolicyPeer, fleetPods labels.Set) string {
	t.Helper()
	switch {
	case peer.PodSelector != nil && peer.NamespaceSelector == nil:
		if labels.SelectorFromSet(peer.PodSelector.MatchLabels).Matches(fleetPods) {
			return "fleet pods"
		}
		return "pods " + labels.Set(peer.PodSelector.MatchLabels).String()
	case peer.IPBlock != nil:
		return "cidr " + peer.IPBlock.CIDR
	case peer.NamespaceSelector != nil && peer.PodSelector == nil:
		if len(peer.NamespaceSelector.MatchLabels)+len(peer.NamespaceSelector.MatchExpressions) == 0 {
			return "namespaces <all>"
		}
		return "namespaces " + labels.Set(peer.NamespaceSelector.MatchLabels).String()
	}
	t.Errorf("unexpected peer %+v", peer)
	return ""
}

// TestNetworkPolicy: the policies select fairway's pods, and together let
// in, on xDS, the fleet's pods, the nodes' CIDRs, each proxyless namespace
// and the namespaces of the label given; on the health port, every
// namespace (probes, Prometheus) and the nodes; on no other port (the admin
// is on loopback).
func TestNetworkPolicy(t *testing.T) {
	objs := render(t, map[string]any{
		"networkPolicy": map[string]any{"enabled": true, "nodeCIDRs": []any{"10.0.0.0/24"}},
		"proxyless":     map[string]any{"namespaces": []any{"payments", "shop"}},
	})
	d := find[appsv1.Deployment](t, objs, "Deployment", namespace, "fairway")
	fw := containerOf(t, d.Spec.Template.Spec, "fairway")
	fleet := labels.Set(find[appsv1.DaemonSet](t, objs, "DaemonSet", namespace, "fairway-envoy").Spec.Template.Labels)
	got := map[int32][]string{}
	for _, name := range []string{"fairway", "fairway-from-nodes"} {
		np := find[networkingv1.NetworkPolicy](t, objs, "NetworkPolicy", namespace, name)
		if !labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Fatalf("%s selects %v, not fairway's pods %v", name, np.Spec.PodSelector, d.Spec.Template.Labels)
		}
		if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
			t.Errorf("%s: policyTypes %v, want Ingress", name, np.Spec.PolicyTypes)
		}
		for _, r := range np.Spec.Ingress {
			for _, p := range r.Ports {
				if p.Port == nil || p.Port.IntValue() == 0 || len(r.From) == 0 {
					t.Fatalf("%s: a rule open to all or without a numbered port: %+v", name, r)
				}
				for _, peer := range r.From {
					got[int32(p.Port.IntValue())] = append(got[int32(p.Port.IntValue())], describePeer(t, peer, fleet))
				}
			}
		}
	}
	xds, health := port(t, fw, "xds"), port(t, fw, "health")
	want := map[int32][]string{
		xds: {"cidr 10.0.0.0/24", "fleet pods", "namespaces fairway.dev/proxyless=true",
			"namespaces kubernetes.io/metadata.name=payments", "namespaces kubernetes.io/metadata.name=shop"},
		health: {"cidr 10.0.0.0/24", "namespaces <all>"},
	}
	for p := range got {
		slices.Sort(got[p])
	}
	if len(got) != len(want) || !slices.Equal(got[xds], want[xds]) || !slices.Equal(got[health], want[health]) {
		t.Errorf("open to %v, want %v", got, want)
	}
	if admin, _ := arg(fw.Args, "--admin-address"); !strings.HasPrefix(admin, "127.0.0.1:") {
		t.Errorf("fairway's admin on %q: the policies leave it out because it is on loopback", admin)
	}
	if got := names(render(t, map[string]any{"networkPolicy": map[string]any{"enabled": false}}), "NetworkPolicy"); got != nil {
		t.Errorf("networkPolicy.enabled false still renders NetworkPolicies %v", got)
	}
	noNodes := render(t, map[string]any{"networkPolicy": map[string]any{"enabled": true, "nodeCIDRs": []any{}}})
	if got := names(noNodes, "NetworkPolicy"); !slices.Equal(got, []string{"fairway"}) {
		t.Errorf("no node CIDRs: NetworkPolicies %v, want only fairway", got)
	}
}

// TestIngressClass: the class's name, default flag and controller, and
// serve told of a controller name of its own.
func TestIngressClass(t *testing.T) {
	objs := render(t, map[string]any{"ingressClass": map[string]any{"name": "edge", "default": true, "controller": "example.com/edge"}})
	ic := find[networkingv1.IngressClass](t, objs, "IngressClass", "", "edge")
	if ic.Annotations["ingressclass.kubernetes.io/is-default-class"] != "true" || ic.Spec.Controller != "example.com/edge" {
		t.Errorf("IngressClass edge: annotations %v, controller %s", ic.Annotations, ic.Spec.Controller)
	}
	if v, _ := arg(serveArgs(t, objs), "--ingress-controller"); v != "example.com/edge" {
		t.Errorf("serve --ingress-controller=%q, want the class's controller", v)
	}
}

// TestImagesAndResources: image, pull policy and resources reach their
// containers (certgen's too).
func TestImagesAndResources(t *testing.T) {
	objs := render(t, map[string]any{
		"images": map[string]any{
			"fairway": map[string]any{"repository": "registry.example/fairway", "tag": "v1.2.3", "pullPolicy": "IfNotPresent"},
			"envoy":   map[string]any{"repository": "registry.example/envoy", "tag": "v1.39.1"},
		},
		"fairway":      map[string]any{"resources": map[string]any{"requests": map[string]any{"cpu": "1", "memory": "2Gi"}}},
		"fleet":        map[string]any{"resources": map[string]any{"limits": map[string]any{"memory": "4Gi"}}},
		"certificates": map[string]any{"source": "certgen"},
	})
	d := find[appsv1.Deployment](t, objs, "Deployment", namespace, "fairway")
	ds := find[appsv1.DaemonSet](t, objs, "DaemonSet", namespace, "fairway-envoy")
	job := find[struct {
		Spec struct{ Template corev1.PodTemplateSpec }
	}](t, objs, "Job", namespace, "fairway-certgen")
	for _, c := range []struct {
		c      corev1.Container
		image  string
		policy corev1.PullPolicy
	}{
		{containerOf(t, d.Spec.Template.Spec, "fairway"), "registry.example/fairway:v1.2.3", corev1.PullIfNotPresent},
		{containerOf(t, ds.Spec.Template.Spec, "bootstrap"), "registry.example/fairway:v1.2.3", corev1.PullIfNotPresent},
		{containerOf(t, job.Spec.Template.Spec, "certgen"), "registry.example/fairway:v1.2.3", corev1.PullIfNotPresent},
		{containerOf(t, ds.Spec.Template.Spec, "envoy"), "registry.example/envoy:v1.39.1", ""},
	} {
		if c.c.Image != c.image || c.c.ImagePullPolicy != c.policy {
			t.Errorf("%s: image %s (%q), want %s (%q)", c.c.Name, c.c.Image, c.c.ImagePullPolicy, c.image, c.policy)
		}
	}
	if r := containerOf(t, d.Spec.Template.Spec, "fairway").Resources; r.Requests.Memory().String() != "2Gi" {
		t.Errorf("fairway resources %+v", r)
	}
	if r := containerOf(t, ds.Spec.Template.Spec, "envoy").Resources; r.Limits.Memory().String() != "4Gi" {
		t.Errorf("envoy resources %+v", r)
	}
}

// TestBadValues: values the chart cannot honour fail the render with a
// message naming the value, rather than installing something else.
func TestBadValues(t *testing.T) {
	group := func(name string) map[string]any { return map[string]any{"name": name} }
	for _, c := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"unknown certificate source", map[string]any{"certificates": map[string]any{"source": "vault"}}, `certificates.source "vault"`},
		{"a node group twice", map[string]any{"fleet": map[string]any{"nodeGroups": []any{group("a"), group("a")}}}, `name "a" appears twice`},
		{"a node group that is no DNS label", map[string]any{"fleet": map[string]any{"nodeGroups": []any{group("Edge_1")}}}, `name "Edge_1" must be a DNS label`},
		{"a node group name too long for its DaemonSet's", map[string]any{"fleet": map[string]any{"nodeGroups": []any{group(strings.Repeat("a", 50))}}}, "must be a DNS label"},
		{"a misspelt value", map[string]any{"fleet": map[string]any{"nodeSelecter": map[string]any{"a": "b"}}}, "nodeSelecter"},
		{"a port that is no port", map[string]any{"fleet": map[string]any{"ports": map[string]any{"http": 70000}}}, "/fleet/ports/http"},
		{"proxyless namespace twice", map[string]any{"proxyless": map[string]any{"namespaces": []any{"shop", "shop"}}}, "/proxyless/namespaces"},
		{"proxyless certificates from the chart's own CA", map[string]any{
			"certificates": map[string]any{"source": "cert-manager"},
			"proxyless":    map[string]any{"namespaces": []any{"shop"}}}, "set certificates.certManager.issuerRef"},
	} {
		_, err := Render(chartDir, releaseNamespace, c.values)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: render error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// TestGatewayClass: by default the chart makes no GatewayClass (the
// Gateway API's CRDs may not be installed), as the kustomize install;
// asked to, it makes one with the controller name, and serve is told of
// a controller name of its own.
func TestGatewayClass(t *testing.T) {
	for _, o := range render(t, nil) {
		if o.Kind() == "GatewayClass" {
			t.Errorf("a GatewayClass by default: %v", o.Key())
		}
	}
	if _, ok := arg(serveArgs(t, render(t, nil)), "--gateway-controller"); ok {
		t.Error("serve is given --gateway-controller for the default controller name")
	}
	objs := render(t, map[string]any{"gatewayClass": map[string]any{"create": true, "name": "edge", "controllerName": "example.com/gateways"}})
	var class Object
	for _, o := range objs {
		if meta, _ := o["metadata"].(map[string]any); o.Kind() == "GatewayClass" && meta["name"] == "edge" {
			class = o
		}
	}
	spec, _ := class["spec"].(map[string]any)
	if class["apiVersion"] != "gateway.networking.k8s.io/v1" || spec["controllerName"] != "example.com/gateways" {
		t.Errorf("GatewayClass edge = %v", class)
	}
	if v, _ := arg(serveArgs(t, objs), "--gateway-controller"); v != "example.com/gateways" {
		t.Errorf("serve --gateway-controller=%q, want the class's controller name", v)
	}
}

package helmchart

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// find is the one object of kind and name, decoded into a typed value.
func find[T any](t *testing.T, objs []Object, kind, ns, name string) *T {
	t.Helper()
	for _, o := range objs {
		meta, _ := o["metadata"].(map[string]any)
		if o.Kind() == kind && meta["name"] == name && (ns == "" || meta["namespace"] == ns) {
			data, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			v := new(T)
			if err := json.Unmarshal(data, v); err != nil {
				t.Fatalf("%s %s: %v", kind, name, err)
			}
			return v
		}
	}
	t.Fatalf("no %s %s/%s rendered", kind, ns, name)
	return nil
}

func names(objs []Object, kind string) []string {
	var out []string
	for _, o := range objs {
		if o.Kind() == kind {
			meta, _ := o["metadata"].(map[string]any)
			out = append(out, meta["name"].(string))
		}
	}
	return out
}

func containerOf(t *testing.T, spec corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return corev1.Container{}
}

// arg is the value of --name=value in args, and whether it is there.
func arg(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func port(t *testing.T, c corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s declares no port %s", c.Name, name)
	return 0
}

func serveArgs(t *testing.T, objs []Object) []string {
	t.Helper()
	d := find[appsv1.Deployment](t, objs, "Deployment", namespace, "fairway")
	return containerOf(t, d.Spec.Template.Spec, "fairway").Args
}

// TestNodeGroups: each node group is a fleet of its own, a DaemonSet on
// its nodes whose Envoys name the group as their node cluster; with two
// groups serve keys its snapshots by that cluster; the fleets' selectors
// do not overlap, and fairway publishes the addresses of every fleet. The
// Ingress ports given reach both serve's flags and the Envoys' ports.
func TestNodeGroups(t *testing.T) {
	objs := render(t, map[string]any{"fleet": map[string]any{
		"ports": map[string]any{"http": 8080, "https": 8443},
		"nodeGroups": []any{
			map[string]any{"name": "public", "nodeSelector": map[string]any{"fairway.dev/edge": "public"}},
			map[string]any{"name": "internal", "nodeSelector": map[string]any{"fairway.dev/edge": "internal"}},
		},
	}})
	if got := names(objs, "DaemonSet"); !slices.Equal(got, []string{"fairway-envoy-internal", "fairway-envoy-public"}) {
		t.Fatalf("DaemonSets %v, want one per node group", got)
	}
	serve := serveArgs(t, objs)
	if v, _ := arg(serve, "--node-group-by"); v != "cluster" {
		t.Errorf("serve --node-group-by=%q with two node groups, want cluster", v)
	}
	if v, _ := arg(serve, "--http-port"); v != "8080" {
		t.Errorf("serve --http-port=%q, want 8080", v)
	}
	if v, _ := arg(serve, "--https-port"); v != "8443" {
		t.Errorf("serve --https-port=%q, want 8443", v)
	}
	publish, _ := arg(serve, "--publish-address")
	sel, err := labels.Parse(strings.TrimPrefix(publish, "fleet-pods="))
	if err != nil {
		t.Fatalf("--publish-address %q: %v", publish, err)
	}
	var pods []labels.Set
	for _, group := range []string{"internal", "public"} {
		ds := find[appsv1.DaemonSet](t, objs, "DaemonSet", namespace, "fairway-envoy-"+group)
		spec := ds.Spec.Template.Spec
		if v, _ := arg(containerOf(t, spec, "bootstrap").Args, "--node-cluster"); v != group {
			t.Errorf("%s: --node-cluster=%q, want %q", ds.Name, v, group)
		}
		if spec.NodeSelector["fairway.dev/edge"] != group {
			t.Errorf("%s: nodeSelector %v", ds.Name, spec.NodeSelector)
		}
		envoyC := containerOf(t, spec, "envoy")
		if port(t, envoyC, "http") != 8080 || port(t, envoyC, "https") != 8443 {
			t.Errorf("%s: envoy ports %v, want http 8080 and https 8443", ds.Name, envoyC.Ports)
		}
		podLabels := labels.Set(ds.Spec.Template.Labels)
		if !labels.SelectorFromSet(ds.Spec.Selector.MatchLabels).Matches(podLabels) {
			t.Errorf("%s: selector %v does not match its pods %v", ds.Name, ds.Spec.Selector, podLabels)
		}
		if !sel.Matches(podLabels) {
			t.Errorf("%s: fairway's --publish-address %q leaves out its pods %v", ds.Name, publish, podLabels)
		}
		pods = append(pods, podLabels)
	}
	for i, ds := range []string{"internal", "public"} {
		d := find[appsv1.DaemonSet](t, objs, "DaemonSet", namespace, "fairway-envoy-"+ds)
		if labels.SelectorFromSet(d.Spec.Selector.MatchLabels).Matches(pods[1-i]) {
			t.Errorf("fairway-envoy-%s's selector also matches the other fleet's pods", ds)
		}
	}
}

// TestOneNodeGroup: a single node group is one fleet, which needs no
// snapshot per node cluster, and takes fleet.nodeSelector when it names
// none of its own.
func TestOneNodeGroup(t *testing.T) {
	one := render(t, map[string]any{"fleet": map[string]any{"nodeGroups": []any{map[string]any{"name": "solo"}}}})
	if _, ok := arg(serveArgs(t, one), "--node-group-by"); ok {
		t.Error("one node group: serve keys snapshots by node cluster, but one fleet needs none")
	}
	solo := find[appsv1.DaemonSet](t, one, "DaemonSet", namespace, "fairway-envoy-solo")
	if solo.Spec.Template.Spec.NodeSelector["fairway.dev/edge"] != "true" {
		t.Errorf("a node group with no nodeSelector: %v, want fleet.nodeSelector", solo.Spec.Template.Spec.NodeSelector)
	}
}

// TestMaxStreams: fairway.maxStreams passes serve's --max-streams, 0 (no
// cap) included; the default leaves serve's own default (the kustomize
// install's args), and a negative value fails the render.
func TestMaxStreams(t *testing.T) {
	if v, ok := arg(serveArgs(t, render(t, nil)), "--max-streams"); ok {
		t.Errorf("default values pass --max-streams=%s, want serve's default", v)
	}
	for _, n := range []int{0, 500} {
		args := serveArgs(t, render(t, map[string]any{"fairway": map[string]any{"maxStreams": n}}))
		if v, _ := arg(args, "--max-streams"); v != strconv.Itoa(n) {
			t.Errorf("maxStreams %d: serve's args %v, want --max-streams=%d", n, args, n)
		}
	}
	if _, err := Render(chartDir, releaseNamespace, map[string]any{"fairway": map[string]any{"maxStreams": -1}}); err == nil || !strings.Contains(err.Error(), "maxStreams") {
		t.Errorf("maxStreams -1: render error %v, want one naming maxStreams", err)
	}
}

// TestSSLRedirect: sslRedirect passes serve's --ssl-redirect, and the
// default leaves it out (the kustomize install's args).
func TestSSLRedirect(t *testing.T) {
	if args := serveArgs(t, render(t, nil)); slices.Contains(args, "--ssl-redirect") {
		t.Errorf("default values pass --ssl-redirect: %v", args)
	}
	if args := serveArgs(t, render(t, map[string]any{"sslRedirect": true})); !slices.Contains(args, "--ssl-redirect") {
		t.Errorf("sslRedirect true does not pass --ssl-redirect: %v", args)
	}
}

// TestLBAddressPools: each lbAddressPools entry passes one of serve's
// --lb-address-pool, in order; the default passes none (every Service on
// the fleet's addresses, as the kustomize install).
func TestLBAddressPools(t *testing.T) {
	if args := serveArgs(t, render(t, nil)); slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--lb-address-pool") }) {
		t.Errorf("default values pass --lb-address-pool: %v", args)
	}
	args := serveArgs(t, render(t, map[string]any{"lbAddressPools": []any{"192.0.2.0/28", "2001:db8::10-2001:db8::1f"}}))
	var pools []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--lb-address-pool="); ok {
			pools = append(pools, v)
		}
	}
	if want := []string{"192.0.2.0/28", "2001:db8::10-2001:db8::1f"}; !slices.Equal(pools, want) {
		t.Errorf("lbAddressPools: serve's pools %v, want %v", pools, want)
	}
	if _, err := Render(chartDir, releaseNamespace, map[string]any{"lbAddressPools": "192.0.2.0/28"}); err == nil {
		t.Error("lbAddressPools as a string: rendered, want a schema error")
	}
}

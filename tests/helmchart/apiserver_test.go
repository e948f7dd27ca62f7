package helmchart

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/tests/kubeapi"
)

// controlPlane starts a real etcd and kube-apiserver for one test, or
// skips (naming the fix) when their binaries were not built.
func controlPlane(t *testing.T) *kubeapi.ControlPlane {
	t.Helper()
	dir := kubeapi.BinDir()
	if dir == "" {
		t.Skip("kube-apiserver/etcd not built: run hack/control-plane-bins.sh and set " + kubeapi.EnvBins)
	}
	var logw io.Writer
	if testing.Verbose() {
		logw = os.Stderr
	}
	cp, err := kubeapi.Start(dir, logw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Error(err)
		}
	})
	return cp
}

// kubectl runs the kubectl built beside the API server.
func kubectl(t *testing.T, cp *kubeapi.ControlPlane, args ...string) string {
	t.Helper()
	bin := filepath.Join(kubeapi.BinDir(), "kubectl")
	out, err := exec.Command(bin, append([]string{"--kubeconfig", cp.Kubeconfig()}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeObjects(t *testing.T, objs []Object) string {
	t.Helper()
	var buf bytes.Buffer
	for _, o := range objs {
		js, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		y, err := yaml.JSONToYAML(js)
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(y)
	}
	path := filepath.Join(t.TempDir(), "objects.yaml")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAPIServerAcceptsTheInstalls: the real API server takes every object
// of the kustomize install and of the chart, with the default values and
// with certgen, cert-manager, node groups and the NetworkPolicy: a
// server-side apply, dry run, with strict field validation (an unknown or
// misspelt field is an error) and admission. cert-manager's kinds are
// checked against the subset of its CRDs in testdata.
func TestAPIServerAcceptsTheInstalls(t *testing.T) {
	cp := controlPlane(t)
	kust, err := KustomizeBuild(installDir)
	if err != nil {
		t.Fatal(err)
	}
	groups := []any{map[string]any{"name": "public"}, map[string]any{"name": "internal"}}
	proxyless := map[string]any{"namespaces": []any{"payments", "shop"}}
	renders := []struct {
		name string
		objs []Object
	}{
		{"kustomize build manifests/kubernetes", kust},
		{"the chart's defaults", render(t, nil)},
		{"certgen, node groups, NetworkPolicy", render(t, map[string]any{
			"certificates": map[string]any{"source": "certgen"}, "proxyless": proxyless,
			"fleet":         map[string]any{"nodeGroups": groups, "ports": map[string]any{"http": 8080, "https": 8443}},
			"networkPolicy": map[string]any{"enabled": true, "nodeCIDRs": []any{"10.0.0.0/24"}},
			"ingressClass":  map[string]any{"name": "edge", "default": true},
		})},
		{"cert-manager, its own CA", render(t, map[string]any{"certificates": map[string]any{"source": "cert-manager"}})},
		{"cert-manager, a ClusterIssuer, proxyless", render(t, map[string]any{
			"certificates": map[string]any{"source": "cert-manager", "certManager": map[string]any{
				"issuerRef": map[string]any{"kind": "ClusterIssuer", "name": "corp-ca"}}},
			"proxyless": proxyless,
		})},
	}
	// Namespaced objects need their namespace to exist, even in a dry run.
	for _, ns := range []string{namespace, "payments", "shop"} {
		kubectl(t, cp, "create", "namespace", ns)
	}
	kubectl(t, cp, "apply", "--server-side", "-f", "testdata/cert-manager-crds.yaml")
	kubectl(t, cp, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/certificates.cert-manager.io", "crd/issuers.cert-manager.io")
	for _, r := range renders {
		out := kubectl(t, cp, "apply", "--server-side", "--dry-run=server", "--validate=strict",
			"--field-manager=fairway-helmchart-test", "-o", "name", "-f", writeObjects(t, r.objs))
		if n := len(strings.Fields(out)); n != len(r.objs) {
			t.Errorf("%s: the API server took %d of %d objects:\n%s", r.name, n, len(r.objs), out)
		}
		t.Logf("%s: %d objects accepted", r.name, len(r.objs))
	}
}

// helmInstall is `helm install fairway CHART --namespace ns` with the SDK,
// against the control plane, for real.
func helmInstall(t *testing.T, cp *kubeapi.ControlPlane, ns string, values map[string]any) *release.Release {
	t.Helper()
	kubeconfig := cp.Kubeconfig()
	getter := genericclioptions.NewConfigFlags(false)
	getter.KubeConfig, getter.Namespace = &kubeconfig, &ns
	cfg := new(action.Configuration)
	if err := cfg.Init(getter, ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	chart, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(cfg)
	install.ReleaseName, install.Namespace = "fairway", ns
	rel, err := install.Run(chart, values)
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	return rel
}

// TestHelmInstall: a real `helm install` (the SDK's, no dry run), with the
// release kept in one namespace, succeeds when the install's namespace does
// not exist yet: the chart makes it first and every object after it, and
// the API server then holds each object the chart rendered.
func TestHelmInstall(t *testing.T) {
	cp := controlPlane(t)
	const releases = "fairway-releases"
	for _, ns := range []string{releases, "payments", "shop"} {
		kubectl(t, cp, "create", "namespace", ns)
	}
	values := map[string]any{
		"namespace":     map[string]any{"name": "fairway-helm"},
		"certificates":  map[string]any{"source": "certgen"},
		"proxyless":     map[string]any{"namespaces": []any{"payments", "shop"}},
		"fleet":         map[string]any{"nodeGroups": []any{map[string]any{"name": "public"}, map[string]any{"name": "internal"}}},
		"networkPolicy": map[string]any{"enabled": true},
	}
	rel := helmInstall(t, cp, releases, values)
	if rel.Info.Status != release.StatusDeployed {
		t.Fatalf("release %s: %s", rel.Name, rel.Info.Status)
	}
	objs, err := Decode([]byte(rel.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) < 20 {
		t.Fatalf("the release has %d objects: this checks little", len(objs))
	}
	for _, o := range objs {
		meta := o["metadata"].(map[string]any)
		args := []string{"get", strings.ToLower(o.Kind()) + "." + strings.Split(o["apiVersion"].(string)+"/", "/")[0], meta["name"].(string), "-o", "name"}
		if o["apiVersion"] == "v1" {
			args[1] = strings.ToLower(o.Kind())
		}
		if objNS, ok := meta["namespace"].(string); ok {
			args = append(args, "--namespace", objNS)
		}
		kubectl(t, cp, args...)
	}
	label := kubectl(t, cp, "get", "namespace", "fairway-helm", "-o", `jsonpath={.metadata.labels.pod-security\.kubernetes\.io/enforce}`)
	if label != "privileged" {
		t.Errorf("the chart's namespace has Pod Security %q, want privileged (the fleet is on the host network)", label)
	}
	t.Logf("helm install: %d objects in the API server", len(objs))
}

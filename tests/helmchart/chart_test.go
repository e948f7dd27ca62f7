package helmchart

import (
	"strings"
	"testing"
)

const (
	chartDir   = "../../manifests/helm/fairway"
	installDir = "../../manifests/kubernetes"
	// namespace is where the install's objects go (namespace.name);
	// releaseNamespace, where Helm keeps its release record, is another,
	// as the README's `helm install` has it.
	namespace        = "fairway-system"
	releaseNamespace = "default"
)

func render(t *testing.T, values map[string]any) []Object {
	t.Helper()
	objs, err := Render(chartDir, releaseNamespace, values)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	if err := Duplicates(objs); err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestDefaultValuesRenderTheKustomizeInstall: with its default values the
// chart installs exactly what `kubectl apply -k manifests/kubernetes`
// does: the same objects, named and namespaced alike, with the same
// labels and specs. Each difference is reported by object with a diff.
func TestDefaultValuesRenderTheKustomizeInstall(t *testing.T) {
	want, err := KustomizeBuild(installDir)
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	got := render(t, nil)
	if len(want) < 5 {
		t.Fatalf("kustomize built %d objects: this compares nothing", len(want))
	}
	if diffs := Differences(want, got); len(diffs) > 0 {
		t.Errorf("the chart's defaults differ from manifests/kubernetes in %d objects:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
}

// TestDifferencesNameEachObject: the comparison above can fail, and says
// where: a changed field, a missing object and an extra one each give one
// entry naming the object, the change with a diff.
func TestDifferencesNameEachObject(t *testing.T) {
	want, err := KustomizeBuild(installDir)
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, map[string]any{"fairway": map[string]any{"replicas": 3}, "ingressClass": map[string]any{"name": "edge"}})
	diffs := Differences(want, got)
	if len(diffs) != 3 {
		t.Fatalf("%d differences, want 3:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
	for i, prefix := range []string{
		"Deployment.apps fairway-system/fairway:\n  spec.replicas: kustomize 2, chart 3",
		"IngressClass.networking.k8s.io edge: only in the chart",
		"IngressClass.networking.k8s.io fairway: missing from the chart",
	} {
		if !strings.HasPrefix(diffs[i], prefix) {
			t.Errorf("difference %d is %q, want it to start %q", i, diffs[i], prefix)
		}
	}
	if strings.Count(diffs[0], "\n") != 1 {
		t.Errorf("the Deployment differs in one field, but:\n%s", diffs[0])
	}
}

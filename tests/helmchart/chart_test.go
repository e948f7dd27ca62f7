package helmchart

import (
	"strings"
	"testing"
)

const (
	chartDir   = "../../manifests/helm/fairway"
	installDir = "../../manifests/kubernetes"
	namespace  = "fairway-system"
)

func render(t *testing.T, values map[string]any) []Object {
	t.Helper()
	objs, err := Render(chartDir, namespace, values)
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

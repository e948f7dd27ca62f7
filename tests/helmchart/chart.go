// Package helmchart holds manifests/helm/fairway to the kustomize install:
// it renders the chart with the Helm SDK and builds manifests/kubernetes with
// kustomize's own library, and compares the two object by object.
//
// It is a Go module of its own so that Helm's and kustomize's many
// dependencies stay out of fairway's go.mod.
package helmchart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Object is one rendered Kubernetes object, decoded to plain maps so that
// two renderings compare by meaning, not by layout, comments or key order.
type Object map[string]any

// Key names an object as the API server does: group/kind, namespace and
// name. Two renderings of the same install have the same keys.
func (o Object) Key() string {
	api, _ := o["apiVersion"].(string)
	group := ""
	if i := strings.LastIndex(api, "/"); i >= 0 {
		group = api[:i]
	}
	kind, _ := o["kind"].(string)
	meta, _ := o["metadata"].(map[string]any)
	ns, _ := meta["namespace"].(string)
	name, _ := meta["name"].(string)
	if group != "" {
		kind += "." + group
	}
	if ns != "" {
		return kind + " " + ns + "/" + name
	}
	return kind + " " + name
}

// Kind is the object's kind, e.g. "DaemonSet".
func (o Object) Kind() string { k, _ := o["kind"].(string); return k }

// Render renders the chart in chartDir as `helm template` does, as release
// "fairway" in namespace, with values over the chart's defaults.
func Render(chartDir, namespace string, values map[string]any) ([]Object, error) {
	chart, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	cfg := &action.Configuration{
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Releases:     storage.Init(driver.NewMemory()),
		Capabilities: chartutil.DefaultCapabilities,
	}
	install := action.NewInstall(cfg)
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = "fairway"
	install.Namespace = namespace
	rel, err := install.Run(chart, values)
	if err != nil {
		return nil, err
	}
	if len(rel.Hooks) > 0 {
		return nil, fmt.Errorf("the chart has %d hooks: kustomize has no such thing, so the install would differ", len(rel.Hooks))
	}
	return Decode([]byte(rel.Manifest))
}

// KustomizeBuild is `kustomize build dir`, with kustomize's library.
func KustomizeBuild(dir string) ([]Object, error) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	data, err := resources.AsYaml()
	if err != nil {
		return nil, err
	}
	return Decode(data)
}

// Decode splits a multi-document YAML stream into objects, skipping empty
// documents, and refuses a document that is not a Kubernetes object.
func Decode(stream []byte) ([]Object, error) {
	var out []Object
	for i, doc := range splitDocuments(stream) {
		var o Object
		if err := yaml.Unmarshal(doc, &o); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if o == nil {
			continue
		}
		if o.Kind() == "" || o["apiVersion"] == nil {
			return nil, fmt.Errorf("document %d has no kind or apiVersion:\n%s", i, doc)
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.Key(), b.Key()) })
	return out, nil
}

func splitDocuments(stream []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for line := range bytes.Lines(stream) {
		if bytes.Equal(bytes.TrimRight(line, " \r\n"), []byte("---")) {
			docs = append(docs, bytes.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.Write(line)
	}
	return append(docs, cur.Bytes())
}

// Differences lists, one entry per object, how got differs from want: an
// object missing from got, one got has extra, or a diff (-want +got) of an
// object both have. Empty means the same objects with the same content.
func Differences(want, got []Object) []string {
	byKey := func(objs []Object) map[string]Object {
		m := map[string]Object{}
		for _, o := range objs {
			m[o.Key()] = o
		}
		return m
	}
	w, g := byKey(want), byKey(got)
	var keys []string
	for k := range w {
		keys = append(keys, k)
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var diffs []string
	for _, k := range keys {
		wo, inWant := w[k]
		gotObj, inGot := g[k]
		switch {
		case !inGot:
			diffs = append(diffs, k+": missing from the chart")
		case !inWant:
			diffs = append(diffs, k+": only in the chart")
		default:
			if d := cmp.Diff(map[string]any(wo), map[string]any(gotObj)); d != "" {
				diffs = append(diffs, k+" (-kustomize +chart):\n"+d)
			}
		}
	}
	return diffs
}

// Duplicates names every key that occurs more than once: the API server
// would keep only the last of them.
func Duplicates(objs []Object) error {
	var errs []error
	for i := 1; i < len(objs); i++ {
		if objs[i].Key() == objs[i-1].Key() {
			errs = append(errs, fmt.Errorf("%s is rendered twice", objs[i].Key()))
		}
	}
	return errors.Join(errs...)
}

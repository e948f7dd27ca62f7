// Package helmchart holds manifests/helm/fairway to the kustomize install:
// it renders the chart with the Helm SDK and builds manifests/kubernetes with
// kustomize's own library, and compares the two object by object.
//
// It is a Go module of its own so that Helm's and kustomize's many
// dependencies stay out of fairway's go.mod.
package helmchart

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

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
// "fairway" kept in releaseNamespace, with values over the chart's defaults.
func Render(chartDir, releaseNamespace string, values map[string]any) ([]Object, error) {
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
	install.Namespace = releaseNamespace
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

// Differences lists, one entry per object, how got (the chart) differs
// from want (kustomize): an object missing from got, one got has extra, or
// for an object both have, each field that differs, by its path, with both
// values. Empty means the same objects with the same content.
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
			var fields []string
			diffValues("", map[string]any(wo), map[string]any(gotObj), &fields)
			if len(fields) > 0 {
				diffs = append(diffs, k+":\n  "+strings.Join(fields, "\n  "))
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

// diffValues appends "path: kustomize X, chart Y" for each field where a
// and b differ. Lists of named things (containers, volumes, ports, env)
// are matched by name, so one added entry is one line, not a shifted list;
// lists of scalars are shown whole.
func diffValues(path string, a, b any, out *[]string) {
	am, aMap := a.(map[string]any)
	bm, bMap := b.(map[string]any)
	if aMap && bMap {
		keys := make([]string, 0, len(am)+len(bm))
		for k := range am {
			keys = append(keys, k)
		}
		for k := range bm {
			if _, ok := am[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			sub := path + "." + k
			if strings.HasPrefix(k, "[") || path == "" {
				sub = path + k
			}
			diffValues(sub, am[k], bm[k], out)
		}
		return
	}
	as, aList := a.([]any)
	bs, bList := b.([]any)
	if aList && bList {
		if an, bn := byName(as), byName(bs); an != nil && bn != nil {
			diffValues(path, an, bn, out)
			return
		}
		if onlyA, onlyB := listMinus(as, bs), listMinus(bs, as); (len(onlyA) > 0 || len(onlyB) > 0) && len(as) > 1 {
			*out = append(*out, fmt.Sprintf("%s: only in kustomize %s, only in the chart %s", path, show(onlyA), show(onlyB)))
			return
		}
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, fmt.Sprintf("%s: kustomize %s, chart %s", path, show(a), show(b)))
	}
}

// byName keys a list whose every element is a map with a name, as
// "[name=x]", or is nil for any other list.
func byName(list []any) map[string]any {
	if len(list) == 0 {
		return nil
	}
	m := map[string]any{}
	for _, e := range list {
		em, ok := e.(map[string]any)
		name, named := em["name"].(string)
		if !ok || !named {
			return nil
		}
		m["[name="+name+"]"] = e
	}
	return m
}

func show(v any) string {
	if v == nil {
		return "<absent>"
	}
	js, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(js)
}

// listMinus is the elements of a that b lacks, in a's order.
func listMinus(a, b []any) []any {
	out := []any{}
	for _, e := range a {
		if !slices.ContainsFunc(b, func(f any) bool { return reflect.DeepEqual(e, f) }) {
			out = append(out, e)
		}
	}
	return out
}

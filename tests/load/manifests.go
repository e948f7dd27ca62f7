package load

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/translator"
)

// chunk is how many objects go in one manifest file: few files for the
// source to stat, none so big that a write is slow.
const chunk = 2000

// writeManifests writes the workload as kind List files in dir. The objects
// that the load test changes go in files of their own, so that a change
// rereads one small file.
func writeManifests(dir string, in translator.Input, changing []any) error {
	skip := map[any]bool{}
	for _, o := range changing {
		skip[o] = true
	}
	var items []any
	add := func(apiVersion, kind string, obj any) {
		if !skip[obj] {
			items = append(items, typed{apiVersion, kind, obj})
		}
	}
	for _, o := range in.IngressClasses {
		add("networking.k8s.io/v1", "IngressClass", o)
	}
	for _, o := range in.Services {
		add("v1", "Service", o)
	}
	for _, o := range in.EndpointSlices {
		add("discovery.k8s.io/v1", "EndpointSlice", o)
	}
	for _, o := range in.Secrets {
		add("v1", "Secret", o)
	}
	for _, o := range in.Ingresses {
		add("networking.k8s.io/v1", "Ingress", o)
	}
	for i := 0; i < len(items); i += chunk {
		if err := writeList(filepath.Join(dir, fmt.Sprintf("workload-%03d.json", i/chunk)), items[i:min(i+chunk, len(items))]); err != nil {
			return err
		}
	}
	for i, o := range changing {
		if err := writeObject(filepath.Join(dir, fmt.Sprintf("change-%d.json", i)), o); err != nil {
			return err
		}
	}
	return nil
}

// typed marshals an object with its apiVersion and kind.
type typed struct {
	apiVersion, kind string
	obj              any
}

func (t typed) MarshalJSON() ([]byte, error) {
	body, err := json.Marshal(t.obj)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf(`{"apiVersion":%q,"kind":%q,`, t.apiVersion, t.kind)
	return append([]byte(head), body[1:]...), nil
}

func writeList(path string, items []any) error {
	return writeJSON(path, map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
}

// writeObject writes one changing object, replacing the file the way an
// editor does (write aside, rename), so the watcher never reads half.
func writeObject(path string, obj any) error {
	var t typed
	switch o := obj.(type) {
	case *networkingv1.Ingress:
		t = typed{"networking.k8s.io/v1", "Ingress", o}
	case *discoveryv1.EndpointSlice:
		t = typed{"discovery.k8s.io/v1", "EndpointSlice", o}
	case *corev1.Service:
		t = typed{"v1", "Service", o}
	default:
		return fmt.Errorf("cannot write %T", obj)
	}
	return writeJSON(path, t)
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

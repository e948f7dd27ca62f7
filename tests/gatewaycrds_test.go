package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// The Gateway API's standard-channel CRDs are installed into the shared
// control plane once, by the first test that needs them, and stay: the
// tests that run after it see a cluster with the Gateway API, as most
// clusters now are. A test that needs a cluster without it runs its own
// control plane (TestKubeGatewayAPINotInstalled).
var (
	gatewayCRDsOnce sync.Once
	gatewayCRDsErr  error
)

// installGatewayCRDs installs the CRDs of sigs.k8s.io/gateway-api's
// config/crd/standard (the module's own, the version in go.mod) into the
// shared control plane, or skips without one.
func installGatewayCRDs(t *testing.T) {
	t.Helper()
	kubeClient(t)
	gatewayCRDsOnce.Do(func() { gatewayCRDsErr = applyGatewayCRDs(controlPlane.Config()) })
	if gatewayCRDsErr != nil {
		t.Fatalf("installing the Gateway API CRDs: %v", gatewayCRDsErr)
	}
}

// gatewayCRDFiles are the standard channel's manifests in the module
// cache: the CRDs and the ValidatingAdmissionPolicy that guards their
// upgrades (admissionregistration.k8s.io/v1, which this API server
// serves, so it is applied too).
func gatewayCRDFiles() ([]string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m sigs.k8s.io/gateway-api: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard", "*.yaml"))
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no CRDs in the module's config/crd/standard")
	}
	return files, err
}

// manifestResources maps the kinds of those manifests to their resources.
var manifestResources = map[string]schema.GroupVersionResource{
	"CustomResourceDefinition":         {Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
	"ValidatingAdmissionPolicy":        {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"},
	"ValidatingAdmissionPolicyBinding": {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicybindings"},
}

// applyGatewayCRDs creates every object of the files (all cluster-scoped)
// and waits until the API server serves the Gateway API's kinds. The
// dynamic client does it with client-go alone: the apiextensions
// clientset would add the apiextensions-apiserver module and its
// dependencies to go.mod for this one use.
func applyGatewayCRDs(cfg *rest.Config) error {
	files, err := gatewayCRDFiles()
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var crds []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for _, doc := range bytes.Split(data, []byte("\n---")) {
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if len(obj.Object) == 0 {
				continue
			}
			gvr, ok := manifestResources[obj.GetKind()]
			if !ok {
				return fmt.Errorf("%s: unexpected kind %s", f, obj.GetKind())
			}
			if _, err := dyn.Resource(gvr).Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("%s: creating %s %s: %w", f, obj.GetKind(), obj.GetName(), err)
			}
			if obj.GetKind() == "CustomResourceDefinition" {
				crds = append(crds, obj.GetName())
			}
		}
	}
	return waitGatewayServed(ctx, cfg, dyn, crds)
}

// waitGatewayServed waits until each CRD is Established and discovery
// lists the Gateway API's v1 resources, which is what fairway asks.
func waitGatewayServed(ctx context.Context, cfg *rest.Config, dyn dynamic.Interface, crds []string) error {
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	for {
		pending := ""
		for _, name := range crds {
			crd, err := dyn.Resource(manifestResources["CustomResourceDefinition"]).Get(ctx, name, metav1.GetOptions{})
			if err != nil || !established(crd) {
				pending = name
				break
			}
		}
		if pending == "" {
			list, err := disc.ServerResourcesForGroupVersion("gateway.networking.k8s.io/v1")
			if err == nil && len(list.APIResources) >= 8 {
				return nil
			}
			pending = "discovery of gateway.networking.k8s.io/v1"
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", pending, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

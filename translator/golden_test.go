package translator

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

var update = flag.Bool("update", false, "rewrite testdata/*/output.yaml from the translator, and delete stale goldens")

// goldenInput is a case's input.yaml: the translator's Options next to the
// Input objects.
type goldenInput struct {
	Options Options `json:"options,omitempty"`
	// Demand are the names proxyless clients asked for, with
	// options.proxylessOnDemand (Engine.Demand).
	Demand []string `json:"demand,omitempty"`
	Input  `json:",inline"`
}

// translate is Translate after the case's demands.
func (g goldenInput) translate(in Input) Result {
	e := NewEngine(g.Options)
	e.Demand(g.Demand)
	e.Sync(in)
	return e.Output().Result()
}

// goldenOutput is a case's output.yaml: the resources as `fairway
// translate` prints them, the Problems and the admitted objects.
type goldenOutput struct {
	*Resources `json:",inline"`
	Proxyless  *Resources `json:"proxyless,omitempty"`
	Problems   []Problem  `json:"problems,omitempty"`
	Admitted   Admitted   `json:"admitted"`
	// Gateway is the Gateway API status, when there is any.
	Gateway *gatewayapi.Status `json:"gateway,omitempty"`
}

func readGoldenInput(t testing.TB, path string) goldenInput {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in goldenInput
	if err := yaml.UnmarshalStrict(data, &in); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return in
}

func encodeGolden(t testing.TB, res Result) []byte {
	t.Helper()
	resources, err := res.Resources(false)
	if err != nil {
		t.Fatal(err)
	}
	out := goldenOutput{Resources: resources, Problems: res.Problems, Admitted: res.Admitted}
	if g := res.Gateway; len(g.GatewayClasses)+len(g.Gateways)+len(g.Routes) > 0 {
		out.Gateway = &g
	}
	if len(res.Proxyless.Listeners) > 0 {
		p := Result{Listeners: res.Proxyless.Listeners, Clusters: res.Proxyless.Clusters, Endpoints: res.Proxyless.Endpoints}
		if out.Proxyless, err = p.Resources(false); err != nil {
			t.Fatal(err)
		}
	}
	j, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// TestGolden translates every testdata/<case>/input.yaml and compares the
// result with output.yaml. Error cases live in the same loop: their Problems
// are part of the output. Each case also checks that the output is valid and
// does not depend on the order of the input objects.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*/input.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for _, inPath := range inputs {
		dir := filepath.Dir(inPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in := readGoldenInput(t, inPath)
			res := in.translate(in.Input)
			if err := res.Validate(); err != nil {
				t.Fatalf("output does not validate:\n%v", err)
			}
			got := encodeGolden(t, res)
			assertOrderIndependent(t, in, got)
			outPath := filepath.Join(dir, "output.yaml")
			if *update {
				if err := os.WriteFile(outPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatalf("%v (run go test ./translator -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs (-want +got):\n%s", outPath, cmp.Diff(string(want), string(got)))
			}
		})
	}
	if *update {
		deleteStaleGoldens(t)
	}
}

// assertOrderIndependent translates shuffled copies of the input: informers
// list in map order, so the output must not depend on it.
func assertOrderIndependent(t *testing.T, in goldenInput, want []byte) {
	t.Helper()
	for seed := uint64(1); seed <= 3; seed++ {
		r := rand.New(rand.NewPCG(seed, seed))
		shuffled := in.Input
		shuffled.Services = shuffle(r, in.Services)
		shuffled.EndpointSlices = shuffle(r, in.EndpointSlices)
		shuffled.Ingresses = shuffle(r, in.Ingresses)
		shuffled.IngressClasses = shuffle(r, in.IngressClasses)
		shuffled.Secrets = shuffle(r, in.Secrets)
		shuffled.Nodes = shuffle(r, in.Nodes)
		shuffled.GatewayClasses = shuffle(r, in.GatewayClasses)
		shuffled.Gateways = shuffle(r, in.Gateways)
		shuffled.HTTPRoutes = shuffle(r, in.HTTPRoutes)
		shuffled.GRPCRoutes = shuffle(r, in.GRPCRoutes)
		shuffled.TLSRoutes = shuffle(r, in.TLSRoutes)
		shuffled.TCPRoutes = shuffle(r, in.TCPRoutes)
		shuffled.UDPRoutes = shuffle(r, in.UDPRoutes)
		shuffled.ReferenceGrants = shuffle(r, in.ReferenceGrants)
		shuffled.Namespaces = shuffle(r, in.Namespaces)
		if got := encodeGolden(t, in.translate(shuffled)); !bytes.Equal(got, want) {
			t.Fatalf("output depends on input order (seed %d):\n%s", seed, cmp.Diff(string(want), string(got)))
		}
	}
}

func shuffle[T any](r *rand.Rand, s []T) []T {
	out := slices.Clone(s)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// deleteStaleGoldens removes case directories that no longer have an
// input: an output.yaml left alone. Other fixtures under testdata (the
// conformance suite's manifests) have neither, and stay.
func deleteStaleGoldens(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*")
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "output.yaml")); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "input.yaml")); os.IsNotExist(err) {
			t.Logf("deleting stale golden %s", dir)
			if err := os.RemoveAll(dir); err != nil {
				t.Error(err)
			}
		}
	}
}

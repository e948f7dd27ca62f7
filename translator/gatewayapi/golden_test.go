package gatewayapi

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/*/output.yaml from Resolve, and delete stale goldens")

// controller is the controllerName the goldens' GatewayClasses name.
const controller = "fairway.dev/gateway-controller"

// goldenInput is a case's input.yaml: Options next to the Input objects.
type goldenInput struct {
	Options Options `json:"options,omitempty"`
	Input   `json:",inline"`
}

func readGolden(t *testing.T, path string) goldenInput {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in goldenInput
	if err := yaml.UnmarshalStrict(data, &in); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if in.Options.ControllerName == "" {
		in.Options.ControllerName = controller
	}
	return in
}

func encodeModel(t *testing.T, m *Model) []byte {
	t.Helper()
	y, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// TestGolden resolves every testdata/<case>/input.yaml and compares the
// Model with output.yaml; each case also checks that the Model does not
// depend on the order of the input's objects.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*/input.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for _, inPath := range inputs {
		dir := filepath.Dir(inPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in := readGolden(t, inPath)
			got := encodeModel(t, Resolve(in.Input, in.Options))
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
				t.Fatalf("%v (run go test ./translator/gatewayapi -run TestGolden -update)", err)
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

// assertOrderIndependent resolves shuffled copies of the input: informers
// list in map order, so the Model must not depend on it.
func assertOrderIndependent(t *testing.T, in goldenInput, want []byte) {
	t.Helper()
	for seed := uint64(1); seed <= 3; seed++ {
		r := rand.New(rand.NewPCG(seed, seed))
		s := in.Input
		s.GatewayClasses = shuffle(r, s.GatewayClasses)
		s.Gateways = shuffle(r, s.Gateways)
		s.HTTPRoutes = shuffle(r, s.HTTPRoutes)
		s.GRPCRoutes = shuffle(r, s.GRPCRoutes)
		s.TLSRoutes = shuffle(r, s.TLSRoutes)
		s.TCPRoutes = shuffle(r, s.TCPRoutes)
		s.UDPRoutes = shuffle(r, s.UDPRoutes)
		s.ReferenceGrants = shuffle(r, s.ReferenceGrants)
		s.Namespaces = shuffle(r, s.Namespaces)
		s.Services = shuffle(r, s.Services)
		s.Secrets = shuffle(r, s.Secrets)
		if got := encodeModel(t, Resolve(s, in.Options)); !bytes.Equal(got, want) {
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
// input (testdata/fuzz is the fuzzer's corpus, not a case).
func deleteStaleGoldens(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*")
	for _, dir := range dirs {
		if filepath.Base(dir) == "fuzz" {
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

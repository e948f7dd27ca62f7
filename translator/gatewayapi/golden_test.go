package gatewayapi

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/translator/goldentest"
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
	goldentest.Run(t, *update, "go test ./translator/gatewayapi -run TestGolden -update", func(t *testing.T, inPath string) []byte {
		in := readGolden(t, inPath)
		got := encodeModel(t, Resolve(in.Input, in.Options))
		assertOrderIndependent(t, in, got)
		return got
	})
}

// assertOrderIndependent resolves shuffled copies of the input: informers
// list in map order, so the Model must not depend on it.
func assertOrderIndependent(t *testing.T, in goldenInput, want []byte) {
	t.Helper()
	for seed := uint64(1); seed <= 3; seed++ {
		r := rand.New(rand.NewPCG(seed, seed))
		s := in.Input
		s.GatewayClasses = goldentest.Shuffle(r, s.GatewayClasses)
		s.Gateways = goldentest.Shuffle(r, s.Gateways)
		s.HTTPRoutes = goldentest.Shuffle(r, s.HTTPRoutes)
		s.GRPCRoutes = goldentest.Shuffle(r, s.GRPCRoutes)
		s.TLSRoutes = goldentest.Shuffle(r, s.TLSRoutes)
		s.TCPRoutes = goldentest.Shuffle(r, s.TCPRoutes)
		s.UDPRoutes = goldentest.Shuffle(r, s.UDPRoutes)
		s.ReferenceGrants = goldentest.Shuffle(r, s.ReferenceGrants)
		s.Namespaces = goldentest.Shuffle(r, s.Namespaces)
		s.Services = goldentest.Shuffle(r, s.Services)
		s.Secrets = goldentest.Shuffle(r, s.Secrets)
		if got := encodeModel(t, Resolve(s, in.Options)); !bytes.Equal(got, want) {
			t.Fatalf("output depends on input order (seed %d):\n%s", seed, cmp.Diff(string(want), string(got)))
		}
	}
}

package translator

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
	"github.com/fairwayhq/fairway/translator/goldentest"
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
	goldentest.Run(t, *update, "go test ./translator -update", func(t *testing.T, inPath string) []byte {
		in := readGoldenInput(t, inPath)
		res := in.translate(in.Input)
		if err := res.Validate(); err != nil {
			t.Fatalf("output does not validate:\n%v", err)
		}
		got := encodeGolden(t, res)
		assertOrderIndependent(t, in, got)
		return got
	})
}

// assertOrderIndependent translates shuffled copies of the input: informers
// list in map order, so the output must not depend on it.
func assertOrderIndependent(t *testing.T, in goldenInput, want []byte) {
	t.Helper()
	for seed := uint64(1); seed <= 3; seed++ {
		r := rand.New(rand.NewPCG(seed, seed))
		shuffled := in.Input
		shuffled.Services = goldentest.Shuffle(r, in.Services)
		shuffled.EndpointSlices = goldentest.Shuffle(r, in.EndpointSlices)
		shuffled.Ingresses = goldentest.Shuffle(r, in.Ingresses)
		shuffled.IngressClasses = goldentest.Shuffle(r, in.IngressClasses)
		shuffled.Secrets = goldentest.Shuffle(r, in.Secrets)
		shuffled.Nodes = goldentest.Shuffle(r, in.Nodes)
		shuffled.GatewayClasses = goldentest.Shuffle(r, in.GatewayClasses)
		shuffled.Gateways = goldentest.Shuffle(r, in.Gateways)
		shuffled.HTTPRoutes = goldentest.Shuffle(r, in.HTTPRoutes)
		shuffled.GRPCRoutes = goldentest.Shuffle(r, in.GRPCRoutes)
		shuffled.TLSRoutes = goldentest.Shuffle(r, in.TLSRoutes)
		shuffled.TCPRoutes = goldentest.Shuffle(r, in.TCPRoutes)
		shuffled.UDPRoutes = goldentest.Shuffle(r, in.UDPRoutes)
		shuffled.ReferenceGrants = goldentest.Shuffle(r, in.ReferenceGrants)
		shuffled.Namespaces = goldentest.Shuffle(r, in.Namespaces)
		if got := encodeGolden(t, in.translate(shuffled)); !bytes.Equal(got, want) {
			t.Fatalf("output depends on input order (seed %d):\n%s", seed, cmp.Diff(string(want), string(got)))
		}
	}
}

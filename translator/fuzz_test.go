package translator

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// FuzzTranslate feeds mutated golden inputs to Translate and checks what
// must hold for any input: no panic, every resource validates (with every
// reference resolved), and the output is deterministic, also when the
// objects come in another order.
func FuzzTranslate(f *testing.F) {
	inputs, err := filepath.Glob("testdata/*/input.yaml")
	if err != nil || len(inputs) == 0 {
		f.Fatalf("no golden inputs to seed from: %v", err)
	}
	for _, p := range inputs {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in goldenInput
		if err := yaml.Unmarshal(data, &in); err != nil {
			return
		}
		if in.Options.Validate() != nil {
			in.Options = Options{}
		}
		checkPublishable(t, in.Input, in.Options)
		res := Translate(in.Input, in.Options)
		first := encodeGolden(t, res)
		if again := encodeGolden(t, Translate(in.Input, in.Options)); !bytes.Equal(first, again) {
			t.Fatalf("same input, different output:\n%s", cmp.Diff(string(first), string(again)))
		}
		if !uniqueNames(in.Input) {
			return // the order of two same-named objects is the caller's to fix
		}
		rev := in.Input
		rev.Services = reversed(in.Services)
		rev.EndpointSlices = reversed(in.EndpointSlices)
		rev.Ingresses = reversed(in.Ingresses)
		rev.IngressClasses = reversed(in.IngressClasses)
		rev.Secrets = reversed(in.Secrets)
		rev.Nodes = reversed(in.Nodes)
		rev.GatewayClasses, rev.Gateways = reversed(in.GatewayClasses), reversed(in.Gateways)
		rev.HTTPRoutes, rev.GRPCRoutes = reversed(in.HTTPRoutes), reversed(in.GRPCRoutes)
		rev.TLSRoutes, rev.TCPRoutes, rev.UDPRoutes = reversed(in.TLSRoutes), reversed(in.TCPRoutes), reversed(in.UDPRoutes)
		rev.ReferenceGrants, rev.Namespaces = reversed(in.ReferenceGrants), reversed(in.Namespaces)
		if got := encodeGolden(t, Translate(rev, in.Options)); !bytes.Equal(first, got) {
			t.Fatalf("output depends on input order:\n%s", cmp.Diff(string(first), string(got)))
		}
	})
}

// checkPublishable fails t unless the translation of in passes every check
// that stands between the translator and the fleet: the Result's full
// validation and the publisher's reference check of both resource sets.
// One bad object must cost only its own part, never the whole publication.
func checkPublishable(t testing.TB, in Input, opts Options) {
	t.Helper()
	e := NewEngine(opts)
	e.Sync(in)
	out := e.Output()
	if out.Err != nil {
		t.Fatalf("a built resource failed validation: %v", out.Err)
	}
	if err := out.Envoy.Check(); err != nil {
		t.Fatalf("the publish check fails on the fleet's resources: %v", err)
	}
	if err := out.Proxyless.Check(); err != nil {
		t.Fatalf("the publish check fails on the proxyless resources: %v", err)
	}
	res := out.Result()
	if err := res.Validate(); err != nil {
		t.Fatalf("output does not validate:\n%v", err)
	}
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// uniqueNames reports whether each kind holds every namespace/name once, as
// a cluster (and each source) does.
func uniqueNames(in Input) bool {
	return unique(in.Services, metaOf) &&
		unique(in.EndpointSlices, metaOf) && unique(in.Ingresses, metaOf) &&
		unique(in.IngressClasses, metaOf) && unique(in.Secrets, metaOf) && unique(in.Nodes, metaOf) &&
		unique(in.GatewayClasses, metaOf) && unique(in.Gateways, metaOf) && unique(in.HTTPRoutes, metaOf) &&
		unique(in.GRPCRoutes, metaOf) && unique(in.TLSRoutes, metaOf) && unique(in.TCPRoutes, metaOf) &&
		unique(in.UDPRoutes, metaOf) && unique(in.ReferenceGrants, metaOf) && unique(in.Namespaces, metaOf)
}

func metaOf(o any) *metav1.ObjectMeta {
	if m, ok := o.(metav1.ObjectMetaAccessor); ok {
		if om, ok := m.GetObjectMeta().(*metav1.ObjectMeta); ok {
			return om
		}
	}
	return &metav1.ObjectMeta{}
}

func unique[T any](objs []*T, meta func(any) *metav1.ObjectMeta) bool {
	seen := map[[2]string]bool{}
	for _, o := range objs {
		if o == nil {
			continue
		}
		m := meta(o)
		k := [2]string{m.Namespace, m.Name}
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

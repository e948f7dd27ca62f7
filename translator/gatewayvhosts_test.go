package translator

import (
	"bytes"
	"maps"
	"testing"

	"github.com/google/go-cmp/cmp"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestGatewayVirtualHostsKept changes one HTTPRoute of a Gateway with an
// address of its own: the virtual hosts of the other Gateway, whose
// routes did not change, must be the ones the last build made (kept, not
// built again), the changed route's must be new, and the result must
// equal a translation from scratch.
func TestGatewayVirtualHostsKept(t *testing.T) {
	in := readGoldenInput(t, "testdata/gateway-dedicated/input.yaml")
	e := NewEngine(in.Options)
	e.Sync(in.Input)
	e.Output()
	before := maps.Clone(e.gw.vhosts)
	if len(before) < 3 {
		t.Fatalf("%d virtual hosts built, want the three of the golden's two Gateways", len(before))
	}

	var changed *gatewayv1.HTTPRoute
	for i, r := range in.HTTPRoutes {
		if r.Name == "same-web" {
			changed = r.DeepCopy()
			v := "/v2"
			changed.Spec.Rules = append(changed.Spec.Rules, gatewayv1.HTTPRouteRule{
				Matches:     []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Value: &v}}},
				BackendRefs: changed.Spec.Rules[0].BackendRefs,
			})
			in.HTTPRoutes[i] = changed
		}
	}
	if changed == nil {
		t.Fatal("the golden has no HTTPRoute same-web")
	}
	if err := e.Upsert(changed); err != nil {
		t.Fatal(err)
	}
	e.Output()
	for k, v := range before {
		kept := e.gw.vhosts[k] == v
		if k.namespace == "infra" && k.gateway == "all" && !kept {
			t.Errorf("%+v: the unchanged routes' virtual host was built again", k)
		}
		if k.namespace == "infra" && k.gateway == "same" && kept {
			t.Errorf("%+v: the changed route's virtual host was kept", k)
		}
	}
	want := encodeGolden(t, in.translate(in.Input))
	if got := encodeGolden(t, e.Output().Result()); !bytes.Equal(got, want) {
		t.Fatalf("differs from a translation from scratch (-scratch +incremental):\n%s", cmp.Diff(string(want), string(got)))
	}
}

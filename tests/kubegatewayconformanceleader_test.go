package tests

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fairwayhq/fairway/translator"
)

// leaderCases are applied together for the new leader's check: routes of
// every kind, with their Gateways, and listeners whose references do not
// resolve (no two of these files share an object).
var leaderCases = []string{
	"tests/gateway-with-attached-routes.yaml", "tests/tlsroute-simple-same-namespace.yaml", "tests/udproute-simple.yaml",
	"tests/tcproute-parentref-attach-all.yaml", "tests/grpcroute-exact-method-matching.yaml",
	"tests/httproute-reference-grant.yaml", "tests/gateway-invalid-tls-configuration.yaml",
}

// newLeaderWritesNothing: with the status settled, fairway is stopped
// and started again; the new leader's first pass finds every status
// already what it would write (the CRDs' defaults and the times
// included), so it writes nothing and no object's resourceVersion moves.
func (r *conformanceRun) newLeaderWritesNothing(t *testing.T) {
	a := &applied{dyn: r.dyn}
	defer a.deleteAll(t)
	var objs []*unstructured.Unstructured
	for _, f := range leaderCases {
		objs = append(objs, conformanceObjects(t, f)...)
	}
	if refused := a.apply(t, objs); len(refused) > 0 {
		t.Fatalf("the API server refuses: %s", strings.Join(refused, "; "))
	}
	before := statusVersions(r.settle(t, "the leader cases' objects"))
	r.fairway.stop()
	r.fairway = startFairwayArgs(t, r.args...)
	eventually(t, 15*time.Second, "the new fairway leading", func() bool { return r.fairway.metric("fairway_leader") == 1 })
	// The writer's first pass follows the first round it is handed.
	time.Sleep(2 * time.Second)
	after := statusVersions(r.settle(t, "after the restart"))
	for k, rv := range before {
		if after[k] != rv {
			t.Errorf("%s: resourceVersion %s → %s: the new leader wrote a status that was already right", k, rv, after[k])
		}
	}
	if n := statusWrites(t, r.fairway); n != 0 {
		t.Errorf("the new leader made %v status writes over a settled cluster", n)
	}
}

// statusVersions are the resourceVersions of the Gateway API objects with a status, by kind
// and name.
func statusVersions(in translator.Input) map[string]string {
	out := map[string]string{}
	for _, c := range in.GatewayClasses {
		out["GatewayClass "+c.Name] = c.ResourceVersion
	}
	for _, g := range in.Gateways {
		out["Gateway "+g.Namespace+"/"+g.Name] = g.ResourceVersion
	}
	for _, r := range inputRoutes(in) {
		out[r.kind+" "+r.meta.Namespace+"/"+r.meta.Name] = r.meta.ResourceVersion
	}
	return out
}

// statusWrites sums every fairway_status_writes_total series of one
// fairway process, whatever the kind and result.
func statusWrites(t *testing.T, f *fairway) float64 {
	t.Helper()
	resp, err := http.Get("http://" + f.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "fairway_status_writes_total{") {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			sum += v
		}
	}
	return sum
}

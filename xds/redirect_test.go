package xds

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

// TestRedirectHostPathChangeSendsNoHTTPTable: on the TLS workload (every
// host under a certificate, --ssl-redirect), a path added to one Ingress
// re-sends the host's own https table (https/<host>, its chain's) but not
// the http table, whose hosts' plain side is only their redirect (and the
// ACME challenges of their "/"): neither a SotW stream that names http nor
// a delta stream subscribed to both tables is sent http again.
func TestRedirectHostPathChangeSendsNoHTTPTable(t *testing.T) {
	scale := workload.Small.WithTLS()
	in := workload.Generate(scale)
	e := translator.NewEngine(translator.Options{SSLRedirect: scale.SSLRedirect})
	e.Sync(in)
	c := NewCache(GroupByNone)
	publishTo(c, e)
	changed := in.Ingresses[len(in.Ingresses)/2]
	table := envoy.HTTPSHostRouteConfig(changed.Spec.Rules[0].Host)

	plain := receive(t, answered(sotwRequest(c, resourcev3.RouteType, "", envoy.HTTPRouteConfig)))
	httpWatch, _ := sotwRequest(c, resourcev3.RouteType, plain.GetVersionInfo(), envoy.HTTPRouteConfig)
	secure := receive(t, answered(sotwRequest(c, resourcev3.RouteType, "", table)))
	httpsWatch, _ := sotwRequest(c, resourcev3.RouteType, secure.GetVersionInfo(), table)

	delta := ackedDeltaWatch(t, c, &corev3.Node{Id: "d"}, resourcev3.RouteType, []string{envoy.HTTPRouteConfig, table})

	ing := changed.DeepCopy()
	paths := &ing.Spec.Rules[0].HTTP.Paths
	*paths = append(*paths, networkingv1.HTTPIngressPath{Path: "/added", PathType: (*paths)[0].PathType, Backend: (*paths)[0].Backend})
	if err := e.Upsert(ing); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)

	none(t, httpWatch, "a path added to a redirecting TLS host, on the http table")
	if got := receive(t, httpsWatch); len(got.GetResources()) != 1 {
		t.Fatalf("https watch: %d resources, want %s", len(got.GetResources()), table)
	}
	if sent := nextDeltaNames(t, delta); len(sent) != 1 || sent[0] != table {
		t.Fatalf("delta stream was sent %v, want only %s", sent, table)
	}
}

// answered is a watch's channel, for a request that is answered at once.
func answered(ch chan cachev3.Response, _ func()) chan cachev3.Response { return ch }

package xds

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

// TestRedirectHostPathChangeSendsNoHTTPTable: on the TLS workload (every
// host under a certificate, --ssl-redirect), a path added to one Ingress
// re-sends the https table but not the http table, whose hosts' plain
// side is only their redirect (and the ACME challenges of their "/"):
// neither a SotW stream that names http nor a delta stream subscribed to
// both tables is sent http again.
func TestRedirectHostPathChangeSendsNoHTTPTable(t *testing.T) {
	scale := workload.Small.WithTLS()
	in := workload.Generate(scale)
	e := translator.NewEngine(translator.Options{SSLRedirect: scale.SSLRedirect})
	e.Sync(in)
	c := NewCache(GroupByNone)
	publishTo(c, e)

	plain := receive(t, answered(sotwRequest(c, resourcev3.RouteType, "", envoy.HTTPRouteConfig)))
	httpWatch, _ := sotwRequest(c, resourcev3.RouteType, plain.GetVersionInfo(), envoy.HTTPRouteConfig)
	secure := receive(t, answered(sotwRequest(c, resourcev3.RouteType, "", envoy.HTTPSRouteConfig)))
	httpsWatch, _ := sotwRequest(c, resourcev3.RouteType, secure.GetVersionInfo(), envoy.HTTPSRouteConfig)

	delta := make(chan cachev3.DeltaResponse, 1)
	names := []string{envoy.HTTPRouteConfig, envoy.HTTPSRouteConfig}
	sub := streamv3.NewDeltaSubscription(names, nil, nil, false)
	req := &discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "d"}, TypeUrl: resourcev3.RouteType, ResourceNamesSubscribe: names}
	if _, err := c.CreateDeltaWatch(req, sub, delta); err != nil {
		t.Fatal(err)
	}
	if got, err := (<-delta).GetDeltaDiscoveryResponse(); err != nil || len(got.GetResources()) != 2 {
		t.Fatalf("initial delta RDS: %v, %v", got, err)
	}
	req = &discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "d"}, TypeUrl: resourcev3.RouteType, ResponseNonce: "1"}
	if _, err := c.CreateDeltaWatch(req, sub, delta); err != nil {
		t.Fatal(err)
	}

	ing := in.Ingresses[len(in.Ingresses)/2].DeepCopy()
	paths := &ing.Spec.Rules[0].HTTP.Paths
	*paths = append(*paths, networkingv1.HTTPIngressPath{Path: "/added", PathType: (*paths)[0].PathType, Backend: (*paths)[0].Backend})
	if err := e.Upsert(ing); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)

	none(t, httpWatch, "a path added to a redirecting TLS host, on the http table")
	if got := receive(t, httpsWatch); len(got.GetResources()) != 1 {
		t.Fatalf("https watch: %d resources, want the https table", len(got.GetResources()))
	}
	got, err := (<-delta).GetDeltaDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.GetResources()) != 1 || got.GetResources()[0].GetName() != envoy.HTTPSRouteConfig {
		var sent []string
		for _, r := range got.GetResources() {
			sent = append(sent, r.GetName())
		}
		t.Fatalf("delta stream was sent %v, want only %s", sent, envoy.HTTPSRouteConfig)
	}
}

// answered is a watch's channel, for a request that is answered at once.
func answered(ch chan cachev3.Response, _ func()) chan cachev3.Response { return ch }

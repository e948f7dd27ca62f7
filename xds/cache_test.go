package xds

import (
	"fmt"
	"maps"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"

	"github.com/fairwayhq/fairway/translator"
)

// publishTo applies an engine's pending changes to c.
func publishTo(c *Cache, e *translator.Engine) {
	out := e.Output()
	c.Apply(out.Envoy, out.Proxyless, out.Envoy.TakeChanges(), out.Proxyless.TakeChanges())
}

func sotwRequest(c *Cache, typeURL, version string, names ...string) (chan cachev3.Response, func()) {
	ch := make(chan cachev3.Response, 1)
	sub := streamv3.NewSotwSubscription(names, true)
	cancel, _ := c.CreateWatch(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "n"}, TypeUrl: typeURL, VersionInfo: version, ResourceNames: names}, sub, ch)
	return ch, cancel
}

func receive(t *testing.T, ch chan cachev3.Response) *discoveryv3.DiscoveryResponse {
	t.Helper()
	select {
	case r := <-ch:
		resp, err := r.GetDiscoveryResponse()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	case <-time.After(time.Second):
		t.Fatal("no response")
		return nil
	}
}

func none(t *testing.T, ch chan cachev3.Response, what string) {
	t.Helper()
	select {
	case r := <-ch:
		resp, _ := r.GetDiscoveryResponse()
		t.Fatalf("%s: got a response (version %s)", what, resp.GetVersionInfo())
	default:
	}
}

func TestCacheSotW(t *testing.T) {
	e, in := engineFor(t, shop)
	c := NewCache(GroupByNone)
	if ch, _ := sotwRequest(c, resourcev3.ClusterType, ""); len(ch) != 0 {
		t.Fatal("answered before the first Apply")
	}
	publishTo(c, e)

	ch, _ := sotwRequest(c, resourcev3.ClusterType, "")
	all := receive(t, ch)
	if len(all.GetResources()) != 2 {
		t.Fatalf("wildcard CDS: %d clusters, want 2", len(all.GetResources()))
	}
	held, _ := sotwRequest(c, resourcev3.ClusterType, all.GetVersionInfo())
	none(t, held, "a request with the current version")

	// Named: a client that asks for one listener gets just it, and is not
	// sent anything when another listener changes.
	named, _ := sotwRequest(c, resourcev3.ListenerType, "", "tcp-5432")
	one := receive(t, named)
	if len(one.GetResources()) != 1 {
		t.Fatalf("named LDS: %d listeners, want 1", len(one.GetResources()))
	}
	again, _ := sotwRequest(c, resourcev3.ListenerType, one.GetVersionInfo(), "tcp-5432")
	httpOnly := in.Ingresses[0].DeepCopy()
	httpOnly.Spec.Rules[0].HTTP.Paths[0].Path = "/changed"
	if err := e.Upsert(httpOnly); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)
	none(t, again, "a change to a route it does not name")

	// A change to what it names is sent.
	db := in.Services[1].DeepCopy()
	db.Spec.Ports[0].Port = 5433
	if err := e.Upsert(db); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)
	if got := receive(t, again); len(got.GetResources()) != 0 {
		t.Fatalf("tcp-5432 is gone; got %d listeners", len(got.GetResources()))
	}
	// And the held wildcard CDS watch gets the new cluster set.
	if got := receive(t, held); got.GetVersionInfo() == all.GetVersionInfo() {
		t.Fatal("CDS changed but the version did not")
	}
}

func TestCacheDelta(t *testing.T) {
	e, in := engineFor(t, shop)
	c := NewCache(GroupByNone)
	publishTo(c, e)
	ch := make(chan cachev3.DeltaResponse, 1)
	sub := streamv3.NewDeltaSubscription(nil, nil, nil, true)
	req := &discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "d"}, TypeUrl: resourcev3.EndpointType}
	if _, err := c.CreateDeltaWatch(req, sub, ch); err != nil {
		t.Fatal(err)
	}
	first, err := (<-ch).GetDeltaDiscoveryResponse()
	if err != nil || len(first.GetResources()) != 2 {
		t.Fatalf("initial delta EDS: %v, %v", first, err)
	}
	req = &discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "d"}, TypeUrl: resourcev3.EndpointType, ResponseNonce: "1"}
	if _, err := c.CreateDeltaWatch(req, sub, ch); err != nil {
		t.Fatal(err)
	}
	if len(ch) != 0 {
		t.Fatal("an up-to-date delta client was sent something")
	}
	moved := in.EndpointSlices[0].DeepCopy()
	moved.Endpoints[0].Addresses[0] = "10.0.0.7"
	if err := e.Upsert(moved); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)
	next, _ := (<-ch).GetDeltaDiscoveryResponse()
	if len(next.GetResources()) != 1 || next.GetResources()[0].GetName() != "shop/web/80" {
		t.Fatalf("after one endpoint change: %v", next.GetResources())
	}
	if sub.ReturnedResources()["shop/web/80"] != next.GetResources()[0].GetVersion() {
		t.Error("the stream's returned versions were not updated")
	}
}

// TestCacheUnknownType: a type fairway does not serve is never answered,
// and does not end the stream.
func TestCacheUnknownType(t *testing.T) {
	c := NewCache(GroupByNone)
	e, _ := engineFor(t, shop)
	publishTo(c, e)
	ch, _ := sotwRequest(c, resourcev3.RuntimeType, "")
	none(t, ch, "a runtime request")
}

// TestCacheSotWPartialEndpoints: an up-to-date SotW node watching every
// endpoint assignment gets just the one that changed, with the new
// version; a node that is behind gets all it asks for.
func TestCacheSotWPartialEndpoints(t *testing.T) {
	e, in := engineFor(t, shop)
	c := NewCache(GroupByNone)
	publishTo(c, e)
	names := []string{"shop/db/5432", "shop/web/80"}
	first := receive(t, func() chan cachev3.Response {
		ch, _ := sotwRequest(c, resourcev3.EndpointType, "", names...)
		return ch
	}())
	if len(first.GetResources()) != 2 {
		t.Fatalf("initial EDS: %d assignments", len(first.GetResources()))
	}
	open, _ := sotwRequest(c, resourcev3.EndpointType, first.GetVersionInfo(), names...)
	moved := in.EndpointSlices[0].DeepCopy()
	moved.Endpoints[0].Addresses[0] = "10.0.0.9"
	if err := e.Upsert(moved); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)
	got := receive(t, open)
	if len(got.GetResources()) != 1 || got.GetVersionInfo() == first.GetVersionInfo() {
		t.Fatalf("after one endpoint change: %d assignments, version %s", len(got.GetResources()), got.GetVersionInfo())
	}
	behind, _ := sotwRequest(c, resourcev3.EndpointType, first.GetVersionInfo(), names...)
	if got := receive(t, behind); len(got.GetResources()) != 2 {
		t.Fatalf("a node that is behind got %d assignments, want all 2", len(got.GetResources()))
	}
}

// TestCacheDeltaCatchUp: a delta stream that was away while the type
// changed gets what changed, whether the change log still reaches back
// (a few changes) or not (more than it holds: a full comparison).
func TestCacheDeltaCatchUp(t *testing.T) {
	for _, changes := range []int{3, changeLogLen + 10} {
		e, in := engineFor(t, shop)
		c := NewCache(GroupByNone)
		publishTo(c, e)
		ch := make(chan cachev3.DeltaResponse, 1)
		sub := streamv3.NewDeltaSubscription(nil, nil, nil, true)
		if _, err := c.CreateDeltaWatch(&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "d"}, TypeUrl: resourcev3.EndpointType}, sub, ch); err != nil {
			t.Fatal(err)
		}
		<-ch
		for i := range changes {
			moved := in.EndpointSlices[0].DeepCopy()
			moved.Endpoints[0].Addresses[0] = fmt.Sprintf("10.1.%d.%d", i/200, i%200+1)
			if err := e.Upsert(moved); err != nil {
				t.Fatal(err)
			}
			publishTo(c, e) // no watch open: the stream is away
		}
		if _, err := c.CreateDeltaWatch(&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "d"}, TypeUrl: resourcev3.EndpointType, ResponseNonce: "1"}, sub, ch); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-ch:
			resp, _ := r.GetDeltaDiscoveryResponse()
			if len(resp.GetResources()) != 1 || resp.GetResources()[0].GetName() != "shop/web/80" {
				t.Fatalf("%d changes away: got %v", changes, resp.GetResources())
			}
		default:
			t.Fatalf("%d changes away: nothing sent", changes)
		}
	}
}

// TestCacheDeltaResume: a wildcard delta stream that reconnects naming
// what it holds (initial_resource_versions) is sent nothing when that is
// current, only what differs otherwise; one that holds nothing gets its
// first response even when empty.
func TestCacheDeltaResume(t *testing.T) {
	e, in := engineFor(t, shop)
	c := NewCache(GroupByNone)
	publishTo(c, e)
	ch := make(chan cachev3.DeltaResponse, 1)
	first := streamv3.NewDeltaSubscription(nil, nil, nil, true)
	if _, err := c.CreateDeltaWatch(&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "d"}, TypeUrl: resourcev3.EndpointType}, first, ch); err != nil {
		t.Fatal(err)
	}
	held := map[string]string{}
	resp, _ := (<-ch).GetDeltaDiscoveryResponse()
	for _, r := range resp.GetResources() {
		held[r.GetName()] = r.GetVersion()
	}

	resume := func() chan cachev3.DeltaResponse {
		ch := make(chan cachev3.DeltaResponse, 1)
		sub := streamv3.NewDeltaSubscription(nil, nil, maps.Clone(held), true)
		req := &discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "d"}, TypeUrl: resourcev3.EndpointType, InitialResourceVersions: maps.Clone(held)}
		if _, err := c.CreateDeltaWatch(req, sub, ch); err != nil {
			t.Fatal(err)
		}
		return ch
	}
	if ch := resume(); len(ch) != 0 {
		resp, _ := (<-ch).GetDeltaDiscoveryResponse()
		t.Fatalf("a stream resuming with the current versions was sent %v (removed %v)", resp.GetResources(), resp.GetRemovedResources())
	}
	moved := in.EndpointSlices[0].DeepCopy()
	moved.Endpoints[0].Addresses[0] = "10.0.0.7"
	if err := e.Upsert(moved); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)
	select {
	case r := <-resume():
		resp, _ := r.GetDeltaDiscoveryResponse()
		if len(resp.GetResources()) != 1 || resp.GetResources()[0].GetName() != "shop/web/80" {
			t.Fatalf("a stream resuming one change behind got %v", resp.GetResources())
		}
	default:
		t.Fatal("a stream resuming one change behind was sent nothing")
	}

	empty := NewCache(GroupByNone)
	publishTo(empty, translator.NewEngine(translator.Options{}))
	ch = make(chan cachev3.DeltaResponse, 1)
	if _, err := empty.CreateDeltaWatch(&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "d"}, TypeUrl: resourcev3.ListenerType},
		streamv3.NewDeltaSubscription(nil, nil, nil, true), ch); err != nil {
		t.Fatal(err)
	}
	if len(ch) != 1 {
		t.Fatal("a first wildcard request with nothing to send got no response")
	}
}

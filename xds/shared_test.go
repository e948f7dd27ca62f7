package xds

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

// TestSharedSubscriptionsOverGRPC: through the server, SotW and delta
// streams whose subscriptions are shared (one set per distinct list,
// across both protocols) each get exactly the endpoint assignments they
// name, at first and when one of them changes.
func TestSharedSubscriptionsOverGRPC(t *testing.T) {
	in, e, p, srv := servedWorkload(t, 100)
	names := resourceNames(p.Cache().Resources(false)[translator.KindEndpoint])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn := dialServer(t, srv)
	streams := []struct {
		delta bool
		names []string
		s     *adsStream
		last  response
	}{{false, names[:40], nil, response{}}, {false, names[:40], nil, response{}}, {false, names[20:60], nil, response{}},
		{true, names[:40], nil, response{}}, {true, names[10:50], nil, response{}}}
	for i := range streams {
		st := &streams[i]
		st.s = openStream(ctx, t, conn, st.delta)
		st.last = st.s.subscribe(resourcev3.EndpointType, st.names)
		if !slices.Equal(st.last.names, st.names) {
			t.Fatalf("stream %d (delta %v) subscribed %d names, got %d", i, st.delta, len(st.names), len(st.last.names))
		}
	}
	c := p.Cache()
	c.mu.Lock()
	sets := len(c.sets.byToken)
	c.mu.Unlock()
	if sets != 3 {
		t.Errorf("5 streams subscribing 3 distinct lists hold %d sets", sets)
	}
	for i := range streams {
		streams[i].s.ack(streams[i].last)
	}
	changed := names[45] // in the third and fifth streams' sets only
	moveEndpoint(t, &in, changed)
	awaitWatches(t, c, resourcev3.EndpointType, len(streams)) // the ACKs reached the cache
	e.Sync(in)
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	for i, st := range streams {
		got := st.s.quiet(500 * time.Millisecond)
		wants := slices.Contains(st.names, changed)
		switch {
		case wants && (len(got) != 1 || !slices.Equal(got[0].names, []string{changed})):
			t.Errorf("stream %d subscribes %s and got %v", i, changed, got)
		case !wants && len(got) != 0:
			t.Errorf("stream %d does not subscribe %s and got %v", i, changed, got)
		}
	}
}

// servedWorkload serves a workload of n Services and Ingresses, one
// endpoint each, from a real server.
func servedWorkload(t *testing.T, n int) (translator.Input, *translator.Engine, *Publisher, *Server) {
	t.Helper()
	in := workload.Generate(workload.Scale{Name: "t", Services: n, Ingresses: n, EndpointsPerService: 1, Namespaces: 2})
	e := translator.NewEngine(translator.Options{})
	e.Sync(in)
	p, srv, ready := startServer(t, ServerConfig{})
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	close(ready)
	return in, e, p, srv
}

// awaitWatches waits until n watches of a type are open.
func awaitWatches(t *testing.T, c *Cache, typeURL string, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		ts := typeFor(c.views[envoyView], typeURL)
		open := len(ts.sotw) + len(ts.delta)
		c.mu.Unlock()
		if open == n {
			return
		}
	}
	t.Fatalf("not %d open %s watches", n, typeName(typeURL))
}

// moveEndpoint changes the address of the Service an endpoint assignment
// ("namespace/service/port") is of.
func moveEndpoint(t *testing.T, in *translator.Input, name string) {
	t.Helper()
	parts := strings.Split(name, "/")
	for i, es := range in.EndpointSlices {
		if es.Namespace == parts[0] && es.Labels[discoveryv1.LabelServiceName] == parts[1] {
			es = es.DeepCopy()
			es.Endpoints[0].Addresses[0] = "10.99.0.1"
			in.EndpointSlices[i] = es
			return
		}
	}
	t.Fatalf("no EndpointSlice for %s", name)
}

// TestSotWAddedNamesOnly: a SotW stream up to date on its endpoint
// assignments that asks for more (as Envoy asks for one route table more
// when a listener gains a chain) is sent the added ones only; one that
// asks for more while behind on what it had, or after rejecting the last
// response, is sent everything it names.
func TestSotWAddedNamesOnly(t *testing.T) {
	in, e, p, srv := servedWorkload(t, 60)
	names := resourceNames(p.Cache().Resources(false)[translator.KindEndpoint])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openStream(ctx, t, dialServer(t, srv), false)
	first := s.subscribe(resourcev3.EndpointType, names[:20])
	if len(first.names) != 20 {
		t.Fatalf("first response: %d names, want 20", len(first.names))
	}
	s.names = names[:22]
	s.send(first.version, first.nonce, nil, "")
	grown := s.next(2 * time.Second)
	if !slices.Equal(grown.names, names[20:22]) {
		t.Fatalf("an up-to-date stream that added 2 names was sent %d: %v", len(grown.names), grown.names)
	}

	// Behind: an assignment it holds changed before it asks for more.
	moveEndpoint(t, &in, names[0])
	e.Sync(in)
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	s.quiet(300 * time.Millisecond) // no open watch: nothing comes
	s.names = names[:25]
	s.send(grown.version, grown.nonce, nil, "")
	if all := s.next(2 * time.Second); len(all.names) != 25 {
		t.Fatalf("a stream behind on its names that added 3 was sent %d, want all 25", len(all.names))
	}
}

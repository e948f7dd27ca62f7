package xds

import (
	"context"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/grpc"

	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/translatortest"
)

// recorder is an ADS client that behaves as Envoy does (wildcard clusters
// and listeners; assignments, route tables and secrets by the names its
// accepted clusters and listeners use; an ACK for every response) and
// checks its accepted state after every response.
type recorder struct {
	name  string
	delta bool
	r     *mrand.Rand

	mu         sync.Mutex
	state      *accepted
	violations []string
	responses  int

	// SotW: the last version and nonce per type; delta: the last nonce.
	version, nonce map[string]string
	subscribed     map[string][]string
}

func newRecorder(name string, delta bool, seed uint64) *recorder {
	return &recorder{
		name: name, delta: delta, r: mrand.New(mrand.NewPCG(seed, 11)), state: newAccepted(),
		version: map[string]string{}, nonce: map[string]string{}, subscribed: map[string][]string{},
	}
}

var byNameTypes = []string{resourcev3.EndpointType, resourcev3.RouteType, resourcev3.SecretType}

// violate records a broken invariant; the caller holds mu.
func (c *recorder) violate(format string, args ...any) {
	c.violations = append(c.violations, fmt.Sprintf("%s after %d responses: %s", c.name, c.responses, fmt.Sprintf(format, args...)))
}

// run streams until ctx ends.
func (c *recorder) run(ctx context.Context, conn *grpc.ClientConn, node *corev3.Node) error {
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	if c.delta {
		return c.runDelta(ctx, ads, node)
	}
	return c.runSotW(ctx, ads, node)
}

func (c *recorder) runSotW(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient, node *corev3.Node) error {
	stream, err := ads.StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	for _, typeURL := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typeURL}); err != nil {
			return err
		}
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		time.Sleep(time.Duration(c.r.IntN(1500)) * time.Microsecond) // Envoy takes its time
		for _, req := range c.acceptSotW(resp) {
			req.Node = node
			if err := stream.Send(req); err != nil {
				return err
			}
		}
	}
}

// acceptSotW applies a SotW response as Envoy does (clusters and
// listeners whole; the by-name types resource by resource), checks the
// result, and returns the ACK and any subscription changes.
func (c *recorder) acceptSotW(resp *discoveryv3.DiscoveryResponse) []*discoveryv3.DiscoveryRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.responses++
	typeURL := resp.GetTypeUrl()
	if typeURL == resourcev3.ClusterType || typeURL == resourcev3.ListenerType {
		for _, name := range c.state.names(typeURL) {
			c.state.drop(typeURL, name)
		}
	}
	for _, res := range resp.GetResources() {
		if err := c.state.put(typeURL, res); err != nil {
			c.violate("%s: %v", typeURL, err)
		}
	}
	c.version[typeURL], c.nonce[typeURL] = resp.GetVersionInfo(), resp.GetNonce()
	c.check()
	var reqs []*discoveryv3.DiscoveryRequest
	reqs = append(reqs, &discoveryv3.DiscoveryRequest{TypeUrl: typeURL, VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce(), ResourceNames: c.subscribed[typeURL]})
	for typ, names := range c.state.subscriptions() {
		c.forgetUnsubscribed(typ, names)
		if slices.Equal(names, c.subscribed[typ]) || len(names) == 0 {
			continue
		}
		c.subscribed[typ] = names
		if typ == typeURL {
			reqs[0].ResourceNames = names
			continue
		}
		reqs = append(reqs, &discoveryv3.DiscoveryRequest{TypeUrl: typ, VersionInfo: c.version[typ], ResponseNonce: c.nonce[typ], ResourceNames: names})
	}
	return reqs
}

// forgetUnsubscribed drops what the client no longer asks for, as Envoy
// does when no cluster or listener uses it.
func (c *recorder) forgetUnsubscribed(typeURL string, names []string) {
	for _, name := range c.state.names(typeURL) {
		if !slices.Contains(names, name) {
			c.state.drop(typeURL, name)
		}
	}
}

// check holds the invariant after every response: no accepted listener
// or route names a cluster the client lacks.
func (c *recorder) check() {
	if d := c.state.dangling(); d != "" {
		c.violate("an accepted listener or route names cluster %q, which the client does not hold", d)
	}
}

func (c *recorder) runDelta(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient, node *corev3.Node) error {
	stream, err := ads.DeltaAggregatedResources(ctx)
	if err != nil {
		return err
	}
	for _, typeURL := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: typeURL}); err != nil {
			return err
		}
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		time.Sleep(time.Duration(c.r.IntN(1500)) * time.Microsecond)
		for _, req := range c.acceptDelta(resp) {
			if err := stream.Send(req); err != nil {
				return err
			}
		}
	}
}

// acceptDelta applies a delta response, checking each removal before it
// is made and the whole after, and returns the ACK and any subscription
// changes.
func (c *recorder) acceptDelta(resp *discoveryv3.DeltaDiscoveryResponse) []*discoveryv3.DeltaDiscoveryRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.responses++
	typeURL := resp.GetTypeUrl()
	for _, res := range resp.GetResources() {
		if err := c.state.put(typeURL, res.GetResource()); err != nil {
			c.violate("%s: %v", typeURL, err)
		}
	}
	for _, name := range resp.GetRemovedResources() {
		if v := c.state.removalViolation(typeURL, name); v != "" {
			c.violate("%s", v)
		}
		c.state.drop(typeURL, name)
	}
	c.check()
	ack := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: resp.GetNonce()}
	reqs := []*discoveryv3.DeltaDiscoveryRequest{ack}
	for typ, names := range c.state.subscriptions() {
		c.forgetUnsubscribed(typ, names)
		sub, unsub := diffNames(c.subscribed[typ], names)
		if len(sub) == 0 && len(unsub) == 0 {
			continue
		}
		c.subscribed[typ] = names
		if typ == typeURL {
			ack.ResourceNamesSubscribe, ack.ResourceNamesUnsubscribe = sub, unsub
			continue
		}
		reqs = append(reqs, &discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: sub, ResourceNamesUnsubscribe: unsub})
	}
	return reqs
}

// diffNames are the names to subscribe and unsubscribe to go from old to
// new.
func diffNames(old, new []string) (sub, unsub []string) {
	for _, n := range new {
		if !slices.Contains(old, n) {
			sub = append(sub, n)
		}
	}
	for _, o := range old {
		if !slices.Contains(new, o) {
			unsub = append(unsub, o)
		}
	}
	return sub, unsub
}

// settledOn reports whether the client holds every cluster and listener
// of the view, and nothing else.
func (c *recorder) settledOn(clusters, listeners []string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Equal(c.state.names(resourcev3.ClusterType), clusters) &&
		slices.Equal(c.state.names(resourcev3.ListenerType), listeners)
}

// TestMakeBeforeBreak is the ordering guarantee, as a property over random
// edit sequences (the incremental property test's generator): three
// Envoys, over SotW and delta, ACKing at their own pace while edits keep
// coming, never accept a state in which a listener or route names a
// cluster they do not hold, and are never told to remove an assignment,
// secret or route table that an accepted listener or route still names.
// Once the edits stop, every client converges on the translator's output
// and every deferred removal has been carried out.
func TestMakeBeforeBreak(t *testing.T) {
	seeds, steps := 200, 25
	if testing.Short() {
		seeds = 30
	}
	certs := [2][2][]byte{translatortest.MustCertPair(t, "x.com"), translatortest.MustCertPair(t, "y.com")}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			makeBeforeBreakRun(t, uint64(seed), steps, certs)
		})
		if t.Failed() {
			return
		}
	}
}

func makeBeforeBreakRun(t *testing.T, seed uint64, steps int, certs [2][2][]byte) {
	r := mrand.New(mrand.NewPCG(seed, 7))
	u := translatortest.NewUniverse(r, certs)
	e := translator.NewEngine(translator.Options{Proxyless: r.IntN(2) == 0})
	var in translator.Input
	for range 4 {
		u.Mutate(&in)
	}
	e.Sync(in)
	p, srv, ready := startServer(t, ServerConfig{})
	if err := p.Publish(e.Output()); err != nil {
		t.Skipf("the first state does not publish: %v", err)
	}
	close(ready)
	conn := dialServer(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clients := []*recorder{newRecorder("sotw-1", false, seed), newRecorder("sotw-2", false, seed+1000), newRecorder("delta-1", true, seed+2000)}
	for _, c := range clients {
		node := &corev3.Node{Id: c.name, Cluster: "fleet"}
		go func() { _ = c.run(ctx, conn, node) }()
	}
	var last error
	for range steps {
		for range 1 + r.IntN(3) {
			u.Mutate(&in)
		}
		e.Sync(in)
		last = p.Publish(e.Output()) // one that fails its checks keeps the last good
		time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond)
	}
	awaitSettled(t, p.Cache(), clients)
	if last == nil {
		served := p.Cache().Resources(false)
		for k := range translator.NumKinds {
			if got, want := resourceNames(served[k]), resourceNames(e.Output().Envoy.Sorted(k)); !slices.Equal(got, want) {
				t.Errorf("%s: the cache serves %v after settling, the translator has %v", k, got, want)
			}
		}
	}
	for _, c := range clients {
		c.mu.Lock()
		for _, v := range c.violations {
			t.Error(v)
		}
		c.mu.Unlock()
	}
}

// awaitSettled waits until the cache has carried out every deferred
// removal (its view is exactly the last published set) and every client
// holds the view's clusters and listeners.
func awaitSettled(t *testing.T, c *Cache, clients []*recorder) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pending, clusters, listeners := c.settledView()
		done := pending == 0
		for _, rc := range clients {
			done = done && rc.settledOn(clusters, listeners)
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			for _, rc := range clients {
				rc.mu.Lock()
				t.Logf("%s holds clusters %v listeners %v", rc.name, rc.state.names(resourcev3.ClusterType), rc.state.names(resourcev3.ListenerType))
				rc.mu.Unlock()
			}
			t.Fatalf("not settled after 10s: %d removals pending; the view has clusters %v listeners %v", pending, clusters, listeners)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settledView is the Envoy view's pending removal count and its cluster
// and listener names.
func (c *Cache) settledView() (int, []string, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.views[envoyView]
	return len(v.order.pending),
		slices.Sorted(maps.Keys(v.types[translator.KindCluster].entries)),
		slices.Sorted(maps.Keys(v.types[translator.KindListener].entries))
}

func resourceNames(rs []*translator.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// TestRemovalWaitsForTheStream: a cluster a route stops naming stays
// served while a stream holds the route table that names it un-ACKed, is
// removed once the stream ACKs the new table, and a stream that never
// answers holds the removal back for removalHold at most.
func TestRemovalWaitsForTheStream(t *testing.T) {
	for _, ack := range []bool{true, false} {
		e, in := shopEngineWithAPI(t)
		c := NewCache(GroupByNone)
		clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		c.now = func() time.Time { return clock }
		publishTo(c, e)
		key := streamKey{id: 1}
		rds, _ := boundRequest(c, key, resourcev3.RouteType, "", "http")
		first := receive(t, rds)
		c.views[envoyView].order.holders[key].outstanding[1] = false // as if ACKed
		c.views[envoyView].order.holders[key].acked[1] = c.views[envoyView].order.round
		rds, _ = boundRequest(c, key, resourcev3.RouteType, first.GetVersionInfo(), "http")

		routeShopTo(t, c, e, in, "api", "2")
		receive(t, rds) // the route table naming api, not yet ACKed
		if !c.serves(translator.KindCluster, "shop/web/80") {
			t.Fatal("the cluster the un-ACKed route table's predecessor names was removed at once")
		}
		if ack {
			c.answered(key, resourcev3.RouteType, c.views[envoyView].order.round, true)
			if c.serves(translator.KindCluster, "shop/web/80") {
				t.Error("the cluster was not removed once the stream ACKed the route table that stopped naming it")
			}
			continue
		}
		clock = clock.Add(removalHold - time.Second)
		c.answered(streamKey{id: 99}, resourcev3.RouteType, 0, true) // any event sweeps
		if !c.serves(translator.KindCluster, "shop/web/80") {
			t.Fatal("removed before removalHold although the stream never answered")
		}
		clock = clock.Add(time.Second)
		c.answered(streamKey{id: 99}, resourcev3.RouteType, 0, true)
		if c.serves(translator.KindCluster, "shop/web/80") {
			t.Error("a stream that never answers held the removal back past removalHold")
		}
	}
}

// shopEngineWithAPI is the shop with a second Service, api, for its route
// to move to.
func shopEngineWithAPI(t *testing.T) (*translator.Engine, translator.Input) {
	t.Helper()
	e, in := engineFor(t, shop)
	api := in.Services[0].DeepCopy()
	api.Name = "api"
	if err := e.Upsert(api); err != nil {
		t.Fatal(err)
	}
	return e, in
}

// routeShopTo points the shop's path at a Service and publishes it to c.
func routeShopTo(t *testing.T, c *Cache, e *translator.Engine, in translator.Input, service, resourceVersion string) {
	t.Helper()
	ing := in.Ingresses[0].DeepCopy()
	ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = service
	ing.ResourceVersion = resourceVersion
	if err := e.Upsert(ing); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)
}

// boundRequest is a SotW request on a stream, as Nodes binds it.
func boundRequest(c *Cache, key streamKey, typeURL, version string, names ...string) (chan cachev3.Response, func()) {
	req := &discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "n"}, TypeUrl: typeURL, VersionInfo: version, ResourceNames: names}
	c.bind(req, key)
	ch := make(chan cachev3.Response, 1)
	cancel, _ := c.CreateWatch(req, streamv3.NewSotwSubscription(names, true), ch)
	return ch, cancel
}

// serves reports whether the Envoy view holds a resource.
func (c *Cache) serves(k translator.Kind, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.views[envoyView].types[k].entries[name] != nil
}

// TestRemovalSweptWhenAStreamIsFoundCurrent: a stream whose ACK is older
// than a removal needs, and whose next request then finds it holding what
// the view has now (the change it missed was undone), has caught up by
// that request alone; the removal is carried out then, not at some later
// unrelated ACK or after removalHold.
func TestRemovalSweptWhenAStreamIsFoundCurrent(t *testing.T) {
	e, in := shopEngineWithAPI(t)
	c := NewCache(GroupByNone)
	publishTo(c, e)
	key := streamKey{id: 1}
	rds, _ := boundRequest(c, key, resourcev3.RouteType, "", "http")
	first := receive(t, rds)
	round := c.views[envoyView].order.round // the round the table was made in

	// While the stream has not answered, its route moves to api and back.
	routeShopTo(t, c, e, in, "api", "2")
	routeShopTo(t, c, e, in, "web", "3")
	if !c.serves(translator.KindCluster, "shop/api/80") {
		t.Fatal("api's cluster was removed while the stream's routes were behind")
	}
	c.answered(key, resourcev3.RouteType, round, true)
	if !c.serves(translator.KindCluster, "shop/api/80") {
		t.Fatal("an ACK of the first route table, which never named api, settled a removal that needs a later one")
	}
	rds, _ = boundRequest(c, key, resourcev3.RouteType, first.GetVersionInfo(), "http")
	none(t, rds, "a route table the stream already holds")
	if c.serves(translator.KindCluster, "shop/api/80") {
		t.Error("the stream was found holding the view's route tables, yet api's cluster is still served")
	}
}

package xds

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/genproto/googleapis/rpc/status"

	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

// deltaClient plays go-control-plane's delta server and an Envoy for one
// stream's endpoint assignments: it keeps the subscription as the server
// does (and hands the cache's next version map back to it), and holds
// what it was sent as Envoy does.
type deltaClient struct {
	t      *testing.T
	c      *Cache
	key    streamKey
	sub    *streamv3.Subscription
	ch     chan cachev3.DeltaResponse
	cancel func()
	held   map[string]string
	sends  int
	// wants is what the client subscribes to ("*" for the wildcard).
	wants map[string]bool
}

func newDeltaClient(t *testing.T, c *Cache, id int64) *deltaClient {
	return &deltaClient{t: t, c: c, key: streamKey{delta: true, id: id}, ch: make(chan cachev3.DeltaResponse, 1), held: map[string]string{}, wants: map[string]bool{}}
}

// request sends a delta request (the first one opens the subscription,
// with initial versions when resuming), after taking any response.
func (d *deltaClient) request(subscribe, unsubscribe []string, initial map[string]string, nack bool) {
	d.t.Helper()
	d.take()
	if d.cancel != nil {
		d.cancel()
	}
	req := &discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "d", Cluster: "fleet"}, TypeUrl: resourcev3.EndpointType,
		ResourceNamesSubscribe: subscribe, ResourceNamesUnsubscribe: unsubscribe, InitialResourceVersions: initial}
	for _, name := range subscribe {
		d.wants[name] = true
	}
	for _, name := range unsubscribe {
		delete(d.wants, name)
		delete(d.held, name) // Envoy forgets what it no longer watches
	}
	if d.sub != nil {
		req.ResponseNonce = strconv.Itoa(d.sends)
	}
	if nack {
		req.ErrorDetail = &status.Status{Message: "rejected by the test"}
	}
	d.c.bind(req, d.key) // as Nodes does, before the server sees the request
	d.c.shareDelta(d.key, req)
	if d.sub == nil {
		sub := streamv3.NewDeltaSubscription(req.ResourceNamesSubscribe, req.ResourceNamesUnsubscribe, maps.Clone(initial), true)
		d.sub = &sub
		maps.Copy(d.held, initial)
	} else {
		d.sub.UpdateResourceSubscriptions(req.ResourceNamesSubscribe, req.ResourceNamesUnsubscribe)
	}
	cancel, err := d.c.CreateDeltaWatch(req, *d.sub, d.ch)
	if err != nil {
		d.t.Fatal(err)
	}
	d.cancel = cancel
	d.take()
}

// take applies a response, if one came, as the server and Envoy do.
func (d *deltaClient) take() {
	select {
	case r := <-d.ch:
		resp, _ := r.GetDeltaDiscoveryResponse()
		for _, res := range resp.GetResources() {
			d.held[res.GetName()] = res.GetVersion()
		}
		for _, name := range resp.GetRemovedResources() {
			delete(d.held, name)
		}
		d.sub.SetReturnedResources(r.GetNextVersionMap())
		d.sends++
		d.cancel = nil
	default:
	}
}

// ack reopens the watch after a response, as Envoy's ACK does.
func (d *deltaClient) ack() { d.request(nil, nil, nil, false) }

// exact checks that the client holds the current version of every
// resource it subscribes to, and nothing else.
func (d *deltaClient) exact(what string) {
	d.t.Helper()
	d.take()
	want := map[string]string{}
	for _, r := range d.c.Resources(false)[translator.KindEndpoint] {
		if d.wants[r.Name] || d.wants["*"] {
			want[r.Name] = strconv.FormatUint(r.Hash, 16)
		}
	}
	if !maps.Equal(d.held, want) {
		var missing, extra []string
		for n, v := range want {
			if d.held[n] != v {
				missing = append(missing, n)
			}
		}
		for n := range d.held {
			if _, ok := want[n]; !ok {
				extra = append(extra, n)
			}
		}
		d.t.Fatalf("stream %d %s: stale or missing %v, extra %v", d.key.id, what, missing, extra)
	}
}

// TestDeltaSharedBaseStaysExact: delta streams whose records of what they
// were sent share one base per change each get exactly the endpoint
// assignments they subscribe to, through updates, removals, subscription
// changes, a NACK, a resume with initial versions and a turn to wildcard;
// and two streams up
// to date at the same change share one base and keep small maps of their
// own.
func TestDeltaSharedBaseStaysExact(t *testing.T) {
	in := workload.Generate(workload.Scale{Name: "t", Services: 400, Ingresses: 400, EndpointsPerService: 2, Namespaces: 4})
	e := translator.NewEngine(translator.Options{})
	e.Sync(in)
	c := NewCache(GroupByNone)
	publishTo(c, e)
	names := resourceNames(c.Resources(false)[translator.KindEndpoint])
	if len(names) < 350 {
		t.Fatalf("the workload has only %d endpoint assignments", len(names))
	}
	a, b := newDeltaClient(t, c, 1), newDeltaClient(t, c, 2)
	a.request(names[:200], nil, nil, false)
	b.request(names[100:300], nil, nil, false)
	a.exact("after the first fetch")
	b.exact("after the first fetch")
	v := c.views[envoyView]
	ba, bb := v.bases[baseKey{a.key, translator.KindEndpoint}], v.bases[baseKey{b.key, translator.KindEndpoint}]
	if ba.base == nil || ba.base != bb.base {
		t.Fatalf("two streams up to date at the same change do not share a base: %p, %p", ba.base, bb.base)
	}
	if n := len(a.sub.ReturnedResources()); n > 2 {
		t.Errorf("a stream that shares a base keeps %d versions of its own", n)
	}
	if n := len(a.sub.SubscribedResources()); n != 1 {
		t.Errorf("go-control-plane holds %d names for a stream whose set is shared", n)
	}

	change := func(i int) {
		es := in.EndpointSlices[i].DeepCopy()
		es.Endpoints[0].Addresses[0] = fmt.Sprintf("10.9.%d.%d", i/200, i%200+1)
		in.EndpointSlices[i] = es
		if err := e.Upsert(es); err != nil {
			t.Fatal(err)
		}
		publishTo(c, e)
	}
	a.ack()
	b.ack()
	for round := range 120 { // past rebaseAt: the streams rebase on the way
		change(round * 3 % len(in.EndpointSlices))
		a.exact(fmt.Sprintf("after change %d", round))
		b.exact(fmt.Sprintf("after change %d", round))
		a.ack()
		b.ack()
	}
	if err := e.Delete(in.Services[150]); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)
	a.exact("after a Service was deleted")
	b.exact("after a Service was deleted")

	a.request(names[300:350], names[:50], nil, false)
	a.exact("after a subscription change")
	b.ack()
	a.request(nil, nil, nil, true) // a NACK: the next response sends everything
	change(170)
	a.exact("after a NACK and a change")
	if got := len(a.held); got < 150 {
		t.Errorf("after a NACK the stream holds %d assignments", got)
	}

	b.exact("before another stream resumes with its versions")
	resumed := newDeltaClient(t, c, 3)
	resumed.request(slices.Clone(names[100:300]), nil, maps.Clone(b.held), false)
	if resumed.sends != 0 {
		t.Errorf("a stream resuming with current versions was sent %d responses", resumed.sends)
	}
	resumed.exact("after resuming")
	resumed.ack()
	b.ack()
	change(180)
	resumed.exact("after resuming and a change")
	b.exact("beside a resumed stream")

	a.ack()
	a.request([]string{"*"}, nil, nil, false) // named, then wildcard
	a.exact("after turning wildcard")
	a.ack()
	change(190)
	a.exact("as a wildcard stream, after a change")
}

// sotwOn is a SotW request on a stream as it reaches the cache: bound and
// rewritten by Nodes, then made a subscription by the server.
func sotwOn(c *Cache, id int64, typeURL string, names []string) chan cachev3.Response {
	req := &discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "n", Cluster: "fleet"}, TypeUrl: typeURL, ResourceNames: slices.Clone(names)}
	c.bind(req, streamKey{id: id})
	c.shareSotW(streamKey{id: id}, req)
	ch := make(chan cachev3.Response, 1)
	if _, err := c.CreateWatch(req, streamv3.NewSotwSubscription(req.ResourceNames, true), ch); err != nil {
		panic(err)
	}
	return ch
}

// TestSotWSharedNameSets: SotW streams that subscribe to the same names
// share one set, and go-control-plane holds only its token; streams with
// other names each get exactly their own; a set no stream holds any more
// is dropped.
func TestSotWSharedNameSets(t *testing.T) {
	in := workload.Generate(workload.Scale{Name: "t", Services: 100, Ingresses: 100, EndpointsPerService: 1, Namespaces: 2})
	e := translator.NewEngine(translator.Options{})
	e.Sync(in)
	c := NewCache(GroupByNone)
	publishTo(c, e)
	names := resourceNames(c.Resources(false)[translator.KindEndpoint])
	got := func(ch chan cachev3.Response) []string {
		t.Helper()
		var out []string
		for _, a := range receive(t, ch).GetResources() {
			name, _, err := nameOf(a)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, name)
		}
		return out
	}
	sets := []struct {
		id    int64
		names []string
	}{{1, names[:40]}, {2, names[:40]}, {3, names[20:60]}, {4, names[:5]}}
	for _, s := range sets {
		if r := got(sotwOn(c, s.id, resourcev3.EndpointType, s.names)); !slices.Equal(r, s.names) {
			t.Errorf("stream %d subscribed %d names, got %d: %v", s.id, len(s.names), len(r), r)
		}
	}
	h1, h2, h3 := c.sets.held[heldKey{streamKey{id: 1}, resourcev3.EndpointType}], c.sets.held[heldKey{streamKey{id: 2}, resourcev3.EndpointType}], c.sets.held[heldKey{streamKey{id: 3}, resourcev3.EndpointType}]
	if h1 == nil || h1 != h2 || h1 == h3 {
		t.Fatalf("streams with the same names do not share one set, or streams with others do: %p %p %p", h1, h2, h3)
	}
	if h1.refs != 2 {
		t.Errorf("a set held by two streams counts %d holders", h1.refs)
	}
	// The same names again (an ACK) keep the count; new names move it.
	sotwOn(c, 1, resourcev3.EndpointType, names[:40])
	sotwOn(c, 2, resourcev3.EndpointType, names[20:60])
	if h1.refs != 1 || h3.refs != 2 {
		t.Errorf("after an ACK and a move: holders %d and %d, want 1 and 2", h1.refs, h3.refs)
	}
	c.closed(streamKey{id: 1})
	if _, ok := c.sets.byToken[h1.token]; ok {
		t.Error("a set no stream holds is still registered")
	}
	c.closed(streamKey{id: 2})
	c.closed(streamKey{id: 3})
	if len(c.sets.byToken) != 0 || len(c.sets.held) != 0 {
		t.Errorf("after every stream closed: %d sets, %d held", len(c.sets.byToken), len(c.sets.held))
	}
}

// TestDeltaSharedNameSets: delta streams that come to subscribe the same
// names, in any steps, hold one set; go-control-plane holds one token per
// stream; what a request adds is what the watch is told it adds.
func TestDeltaSharedNameSets(t *testing.T) {
	c := NewCache(GroupByNone)
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("ns/svc-%03d/80", i)
	}
	var added []string
	request := func(id int64, sub, unsub []string) *nameSet {
		req := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResourceNamesSubscribe: slices.Clone(sub), ResourceNamesUnsubscribe: slices.Clone(unsub)}
		c.shareDelta(streamKey{delta: true, id: id}, req)
		added = c.sets.takeAdded(req)
		return c.sets.held[heldKey{streamKey{delta: true, id: id}, resourcev3.EndpointType}]
	}
	request(1, names[:50], nil)
	one := request(1, names[40:80], nil)
	if !slices.Equal(added, names[50:80]) {
		t.Errorf("the second request adds %v, want the 30 names not held yet", added)
	}
	two := request(2, names[:80], nil)
	if one == nil || one != two || one.refs != 2 || len(one.names) != 80 {
		t.Fatalf("streams subscribing the same names in other steps hold %p and %p", one, two)
	}
	request(3, names[:90], nil)
	three := request(3, []string{"*"}, names[80:90])
	if three != one {
		t.Fatalf("a stream that subscribed more and dropped it holds %p, not the shared %p", three, one)
	}
	c.closed(streamKey{delta: true, id: 1})
	c.closed(streamKey{delta: true, id: 2})
	if one.refs != 1 {
		t.Errorf("after two of three holders closed the set counts %d", one.refs)
	}
	if request(3, nil, names[:80]) != nil || len(c.sets.byToken) != 0 {
		t.Errorf("a stream that dropped every name still holds a set (%d registered)", len(c.sets.byToken))
	}
}

package xds

import (
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/translatortest"
)

const tlsHosts = `
ingressClasses:
- metadata: {name: fairway}
  spec: {controller: fairway.dev/ingress-controller}
services:
- metadata: {name: web, namespace: shop}
  spec: {ports: [{name: http, port: 80}]}
ingresses:
- metadata: {name: a, namespace: shop}
  spec:
    ingressClassName: fairway
    tls: [{hosts: [a.example.com], secretName: wildcard}]
    rules: [{host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
- metadata: {name: b, namespace: shop}
  spec:
    ingressClassName: fairway
    tls: [{hosts: [b.example.com], secretName: wildcard}]
    rules: [{host: b.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
`

// TestTLSHostChangeSendsItsTable: a path change on one TLS host re-sends
// that host's route configuration (https/<host>) and not the other
// host's, over SotW and delta, and leaves the https listener as it was,
// although both hosts share one Secret.
func TestTLSHostChangeSendsItsTable(t *testing.T) {
	e, in := engineFor(t, tlsHosts)
	pair := translatortest.MustCertPair(t, "*.example.com")
	secret := &corev1.Secret{Type: corev1.SecretTypeTLS, Data: map[string][]byte{corev1.TLSCertKey: pair[0], corev1.TLSPrivateKeyKey: pair[1]}}
	secret.Name, secret.Namespace = "wildcard", "shop"
	if err := e.Upsert(secret); err != nil {
		t.Fatal(err)
	}
	c := NewCache(GroupByNone)
	publishTo(c, e)
	a, b := envoy.HTTPSHostRouteConfig("a.example.com"), envoy.HTTPSHostRouteConfig("b.example.com")

	rds, _ := sotwRequest(c, resourcev3.RouteType, "", a, b)
	first := receive(t, rds)
	if got := routeNames(t, first.GetResources()); !slices.Equal(got, []string{a, b}) {
		t.Fatalf("SotW RDS: %v, want %s and %s", got, a, b)
	}
	lds, _ := sotwRequest(c, resourcev3.ListenerType, "")
	listeners := receive(t, lds)
	heldRDS, _ := sotwRequest(c, resourcev3.RouteType, first.GetVersionInfo(), a, b)
	heldLDS, _ := sotwRequest(c, resourcev3.ListenerType, listeners.GetVersionInfo())

	delta := ackedDeltaWatch(t, c, &corev3.Node{Id: "d"}, resourcev3.RouteType, []string{a, b})

	moved := in.Ingresses[0].DeepCopy()
	moved.Spec.Rules[0].HTTP.Paths[0].Path = "/moved"
	if err := e.Upsert(moved); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)
	if got := routeNames(t, receive(t, heldRDS).GetResources()); !slices.Equal(got, []string{a}) {
		t.Errorf("SotW RDS after a's path change: %v, want only %s", got, a)
	}
	if names := nextDeltaNames(t, delta); !slices.Equal(names, []string{a}) {
		t.Errorf("delta RDS after a's path change: %v, want only %s", names, a)
	}
	none(t, heldLDS, "a path change on a TLS host")
}

// ackedDeltaWatch opens a delta watch of names for node, checks that its
// first response carries every one, and opens the next watch as the ACK
// would: the channel then gets the next response.
func ackedDeltaWatch(t *testing.T, c *Cache, node *corev3.Node, typeURL string, names []string) chan cachev3.DeltaResponse {
	t.Helper()
	ch := make(chan cachev3.DeltaResponse, 1)
	sub := streamv3.NewDeltaSubscription(names, nil, nil, false)
	req := &discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: typeURL, ResourceNamesSubscribe: names}
	if _, err := c.CreateDeltaWatch(req, sub, ch); err != nil {
		t.Fatal(err)
	}
	if got := nextDeltaNames(t, ch); len(got) != len(names) {
		t.Fatalf("initial delta %s: %v, want %v", typeName(typeURL), got, names)
	}
	req = &discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: typeURL, ResponseNonce: "1"}
	if _, err := c.CreateDeltaWatch(req, sub, ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

// nextDeltaNames waits for a delta response and returns the names of the
// resources it carries.
func nextDeltaNames(t *testing.T, ch chan cachev3.DeltaResponse) []string {
	t.Helper()
	resp, err := (<-ch).GetDeltaDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range resp.GetResources() {
		names = append(names, r.GetName())
	}
	return names
}

// TestProxylessHostChangeSendsItsListener: a proxyless gRPC client whose
// delta stream subscribes to two hosts' API listeners (their route tables
// are inline) is sent only the changed host's after a path change on it.
// (Over SotW, listeners go whole to what the stream names, and grpc-go
// names one per stream: the channel's target.)
func TestProxylessHostChangeSendsItsListener(t *testing.T) {
	e, in := engineFor(t, tlsHosts) // proxyless on
	c := NewCache(GroupByNone)
	publishTo(c, e)
	ch := ackedDeltaWatch(t, c, &corev3.Node{Id: "grpc", UserAgentName: "gRPC Go"}, resourcev3.ListenerType, []string{"a.example.com", "b.example.com"})
	moved := in.Ingresses[0].DeepCopy()
	moved.Spec.Rules[0].HTTP.Paths[0].Path = "/moved"
	if err := e.Upsert(moved); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)
	if sent := nextDeltaNames(t, ch); !slices.Equal(sent, []string{"a.example.com"}) {
		t.Errorf("proxyless delta LDS after a's path change: %v, want only a.example.com", sent)
	}
}

// TestTLSHostMakeBeforeBreak: a TLS host added has its route
// configuration served as soon as the listener that names it; a host
// removed keeps its route configuration served while a stream holds the
// listener that still names it un-ACKed, and loses it once the stream
// ACKs the listener without it.
func TestTLSHostMakeBeforeBreak(t *testing.T) {
	e, in := engineFor(t, tlsHosts)
	pair := translatortest.MustCertPair(t, "*.example.com")
	secret := &corev1.Secret{Type: corev1.SecretTypeTLS, Data: map[string][]byte{corev1.TLSCertKey: pair[0], corev1.TLSPrivateKeyKey: pair[1]}}
	secret.Name, secret.Namespace = "wildcard", "shop"
	if err := e.Upsert(secret); err != nil {
		t.Fatal(err)
	}
	c := NewCache(GroupByNone)
	publishTo(c, e)
	key := streamKey{id: 1}
	lds, _ := boundRequest(c, key, resourcev3.ListenerType, "")
	first := receive(t, lds)
	c.answered(key, resourcev3.ListenerType, c.views[envoyView].order.round, true)
	lds, _ = boundRequest(c, key, resourcev3.ListenerType, first.GetVersionInfo())

	added := in.Ingresses[1].DeepCopy()
	added.Name, added.Spec.Rules[0].Host, added.Spec.TLS[0].Hosts = "c", "c.example.com", []string{"c.example.com"}
	if err := e.Upsert(added); err != nil {
		t.Fatal(err)
	}
	publishTo(c, e)
	receive(t, lds) // the listener with c's chain
	if !c.serves(translator.KindRoute, envoy.HTTPSHostRouteConfig("c.example.com")) {
		t.Fatal("the listener naming https/c.example.com is served without it")
	}
	c.answered(key, resourcev3.ListenerType, c.views[envoyView].order.round, true)
	lds, _ = boundRequest(c, key, resourcev3.ListenerType, "2")

	if err := e.Delete(in.Ingresses[1]); err != nil { // b
		t.Fatal(err)
	}
	publishTo(c, e)
	receive(t, lds) // the listener without b's chain, not yet ACKed
	b := envoy.HTTPSHostRouteConfig("b.example.com")
	if !c.serves(translator.KindRoute, b) {
		t.Fatal("b's route configuration was removed while the stream holds a listener that names it")
	}
	c.answered(key, resourcev3.ListenerType, c.views[envoyView].order.round, true)
	if c.serves(translator.KindRoute, b) {
		t.Error("b's route configuration is still served after the stream ACKed the listener without it")
	}
}

func routeNames(t *testing.T, resources []*anypb.Any) []string {
	t.Helper()
	var names []string
	for _, r := range resources {
		var rc routev3.RouteConfiguration
		if err := proto.Unmarshal(r.GetValue(), &rc); err != nil {
			t.Fatal(err)
		}
		names = append(names, rc.GetName())
	}
	slices.Sort(names)
	return names
}

package xds

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/translatortest"
)

// nackShop has two of each by-name type: assignments of two Services,
// route tables http and https, and two TLS Secrets; each case below
// changes one of the two.
const nackShop = `
ingressClasses:
- metadata: {name: fairway}
  spec: {controller: fairway.dev/ingress-controller}
services:
- metadata: {name: web, namespace: shop}
  spec: {ports: [{name: http, port: 80}]}
- metadata: {name: api, namespace: shop}
  spec: {ports: [{name: http, port: 80}]}
endpointSlices:
- metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  ports: [{name: http, port: 8080}]
  endpoints: [{addresses: [10.0.0.1]}]
- metadata: {name: api-1, namespace: shop, labels: {kubernetes.io/service-name: api}}
  addressType: IPv4
  ports: [{name: http, port: 8080}]
  endpoints: [{addresses: [10.0.1.1]}]
ingresses:
- metadata: {name: plain, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
  spec:
    ingressClassName: fairway
    rules: [{host: plain.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
- metadata: {name: secure, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
  spec:
    ingressClassName: fairway
    tls: [{hosts: [a.example.com], secretName: a-tls}, {hosts: [b.example.com], secretName: b-tls}]
    rules:
    - {host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}]}}
    - {host: b.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}]}}
`

// nackCase is one by-name type: the names a client asks for, and an edit
// that changes only the first of them.
type nackCase struct {
	typeURL string
	names   []string
	edit    func(t *testing.T, in *translator.Input, n int)
}

func nackCases() []nackCase {
	return []nackCase{
		{resourcev3.EndpointType, []string{"shop/api/80", "shop/web/80"}, func(t *testing.T, in *translator.Input, n int) {
			es := in.EndpointSlices[1].DeepCopy() // api only
			es.Endpoints[0].Addresses = []string{fmt.Sprint("10.0.1.", 10+n)}
			es.ResourceVersion = fmt.Sprint(n)
			in.EndpointSlices[1] = es
		}},
		{resourcev3.RouteType, []string{"http", "https/a.example.com", "https/b.example.com"}, func(t *testing.T, in *translator.Input, n int) {
			ing := in.Ingresses[0].DeepCopy() // a plain host: http only
			ing.Spec.Rules[0].HTTP.Paths[0].Path = fmt.Sprint("/moved", n)
			ing.ResourceVersion = fmt.Sprint(n)
			in.Ingresses[0] = ing
		}},
		{resourcev3.SecretType, []string{"shop/a-tls", "shop/b-tls"}, func(t *testing.T, in *translator.Input, n int) {
			in.Secrets[0] = tlsSecret(t, "a-tls", "a.example.com") // a new certificate for a only
		}},
	}
}

func tlsSecret(t *testing.T, name, host string) *corev1.Secret {
	pair := translatortest.MustCertPair(t, host)
	s := &corev1.Secret{Type: corev1.SecretTypeTLS, Data: map[string][]byte{corev1.TLSCertKey: pair[0], corev1.TLSPrivateKeyKey: pair[1]}}
	s.Namespace, s.Name = "shop", name
	return s
}

func nackInput(t *testing.T) translator.Input {
	var in translator.Input
	if err := yaml.UnmarshalStrict([]byte(nackShop), &in); err != nil {
		t.Fatal(err)
	}
	in.Secrets = []*corev1.Secret{tlsSecret(t, "a-tls", "a.example.com"), tlsSecret(t, "b-tls", "b.example.com")}
	return in
}

// TestNACKRecovery: a stream that rejects a response of assignments,
// route tables or secrets is sent nothing in the 2 s after (no loop), and
// the next response, made by a change to one resource only, carries every
// resource it subscribes to, since it holds none of the rejected ones.
// Over SotW and delta.
func TestNACKRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 2 s per case to prove no resend")
	}
	for _, tc := range nackCases() {
		for _, delta := range []bool{false, true} {
			name := typeName(tc.typeURL) + map[bool]string{false: "/sotw", true: "/delta"}[delta]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				nackRecovery(t, tc, delta)
			})
		}
	}
}

func nackRecovery(t *testing.T, tc nackCase, delta bool) {
	in := nackInput(t)
	e := translator.NewEngine(translator.Options{})
	e.Sync(in)
	p, srv, ready := startServer(t, ServerConfig{})
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	close(ready)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := openStream(ctx, t, dialServer(t, srv), delta)
	first := c.subscribe(tc.typeURL, tc.names)
	if got := first.names; !slices.Equal(got, tc.names) {
		t.Fatalf("first response: %v, want %v", got, tc.names)
	}
	c.nack(first)
	awaitWatch(t, p.Cache(), tc.typeURL)
	if extra := c.quiet(2 * time.Second); len(extra) > 0 {
		t.Fatalf("%d responses in the 2 s after a NACK, want none", len(extra))
	}
	tc.edit(t, &in, 1)
	e.Sync(in)
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	next := c.next(2 * time.Second)
	if !slices.Equal(next.names, tc.names) {
		t.Fatalf("after a NACK, the next response carries %v, want every subscribed resource %v", next.names, tc.names)
	}
	// Recovered: once ACKed, a change sends only what changed again.
	c.ack(next)
	awaitWatch(t, p.Cache(), tc.typeURL)
	tc.edit(t, &in, 2)
	e.Sync(in)
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	if partial := c.next(2 * time.Second); !slices.Equal(partial.names, tc.names[:1]) {
		t.Fatalf("after an ACK, the next response carries %v, want only %v", partial.names, tc.names[:1])
	}
}

// adsStream is a bare ADS stream, SotW or delta, for one type.
type adsStream struct {
	t       *testing.T
	delta   bool
	typeURL string
	sotw    discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	dstr    discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	names   []string
	got     chan response
	node    *corev3.Node
}

// response is either kind of response, reduced to what the tests read.
type response struct {
	version, nonce string
	names          []string
}

func openStream(ctx context.Context, t *testing.T, conn *grpc.ClientConn, delta bool) *adsStream {
	t.Helper()
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	c := &adsStream{t: t, delta: delta, got: make(chan response, 16), node: &corev3.Node{Id: "envoy-nack", Cluster: "fleet"}}
	var err error
	if delta {
		c.dstr, err = ads.DeltaAggregatedResources(ctx)
	} else {
		c.sotw, err = ads.StreamAggregatedResources(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	go c.receive()
	return c
}

func (c *adsStream) receive() {
	for {
		var r response
		if c.delta {
			resp, err := c.dstr.Recv()
			if err != nil {
				return
			}
			r.nonce = resp.GetNonce()
			for _, res := range resp.GetResources() {
				r.names = append(r.names, res.GetName())
			}
		} else {
			resp, err := c.sotw.Recv()
			if err != nil {
				return
			}
			r.version, r.nonce = resp.GetVersionInfo(), resp.GetNonce()
			for _, res := range resp.GetResources() {
				name, _, err := decode(resp.GetTypeUrl(), res)
				if err != nil {
					c.t.Error(err)
				}
				r.names = append(r.names, name)
			}
		}
		slices.Sort(r.names)
		c.got <- r
	}
}

func (c *adsStream) send(version, nonce string, names []string, nack string) {
	var detail *status.Status
	if nack != "" {
		detail = &status.Status{Message: nack}
	}
	var err error
	if c.delta {
		err = c.dstr.Send(&discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: c.typeURL, ResponseNonce: nonce, ResourceNamesSubscribe: names, ErrorDetail: detail})
	} else { // a SotW request names the whole subscription every time
		err = c.sotw.Send(&discoveryv3.DiscoveryRequest{Node: c.node, TypeUrl: c.typeURL, VersionInfo: version, ResponseNonce: nonce, ResourceNames: c.names, ErrorDetail: detail})
	}
	if err != nil {
		c.t.Fatal(err)
	}
}

// subscribe asks for names of a type and returns the first response.
func (c *adsStream) subscribe(typeURL string, names []string) response {
	c.typeURL, c.names = typeURL, names
	c.send("", "", names, "")
	return c.next(2 * time.Second)
}

// nack rejects r: SotW keeps the last accepted version (none).
func (c *adsStream) nack(r response) { c.send("", r.nonce, nil, "rejected by the test") }

func (c *adsStream) ack(r response) { c.send(r.version, r.nonce, nil, "") }

func (c *adsStream) next(within time.Duration) response {
	c.t.Helper()
	select {
	case r := <-c.got:
		return r
	case <-time.After(within):
		c.t.Fatalf("no response within %s", within)
		return response{}
	}
}

func (c *adsStream) quiet(d time.Duration) []response {
	var out []response
	deadline := time.After(d)
	for {
		select {
		case r := <-c.got:
			out = append(out, r)
		case <-deadline:
			return out
		}
	}
}

// awaitWatch waits until the server has handed the cache the stream's
// latest request of a type, so that an edit meets an open watch.
func awaitWatch(t *testing.T, c *Cache, typeURL string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		ts := typeFor(c.views[envoyView], typeURL)
		open := len(ts.sotw) + len(ts.delta)
		c.mu.Unlock()
		if open > 0 {
			return
		}
	}
	t.Fatalf("no open %s watch", typeName(typeURL))
}

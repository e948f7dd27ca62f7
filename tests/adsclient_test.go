package tests

import (
	"context"
	"slices"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// sotwClient speaks SotW ADS on a raw stream the way Envoy does.
type sotwClient struct {
	t         *testing.T
	node      *corev3.Node
	stream    discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	responses chan *discoveryv3.DiscoveryResponse
	cancel    context.CancelFunc
}

func newSotW(t *testing.T, addr, nodeID string) *sotwClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(dial(t, addr)).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return &sotwClient{t: t, node: &corev3.Node{Id: nodeID, Cluster: "fleet-test"}, stream: stream,
		responses: receive(stream.Recv), cancel: cancel}
}

// receive pumps a stream's responses into a channel, closed when the
// stream ends.
func receive[T any](recv func() (T, error)) chan T {
	ch := make(chan T, 100)
	go func() {
		defer close(ch)
		for {
			resp, err := recv()
			if err != nil {
				return
			}
			ch <- resp
		}
	}()
	return ch
}

// nextOf waits for the next response.
func nextOf[T any](t *testing.T, ch chan T, within time.Duration) T {
	t.Helper()
	select {
	case resp, ok := <-ch:
		if !ok {
			t.Fatal("stream closed")
		}
		return resp
	case <-time.After(within):
		t.Fatalf("no response within %v", within)
	}
	var zero T
	return zero
}

// quietOf collects whatever responses arrive within d.
func quietOf[T any](ch chan T, d time.Duration) []T {
	var got []T
	deadline := time.After(d)
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, resp)
		case <-deadline:
			return got
		}
	}
}

func (c *sotwClient) send(typeURL string, names []string, version, nonce, nack string) {
	c.t.Helper()
	req := &discoveryv3.DiscoveryRequest{Node: c.node, TypeUrl: typeURL, ResourceNames: names, VersionInfo: version, ResponseNonce: nonce}
	if nack != "" {
		req.ErrorDetail = &status.Status{Code: 3, Message: nack}
	}
	if err := c.stream.Send(req); err != nil {
		c.t.Fatal(err)
	}
}

// next waits for a response.
func (c *sotwClient) next(within time.Duration) *discoveryv3.DiscoveryResponse {
	c.t.Helper()
	return nextOf(c.t, c.responses, within)
}

// quiet collects whatever responses arrive within d.
func (c *sotwClient) quiet(d time.Duration) []*discoveryv3.DiscoveryResponse {
	return quietOf(c.responses, d)
}

// ack acknowledges a response, naming the same resources as before.
func (c *sotwClient) ack(resp *discoveryv3.DiscoveryResponse, names []string) {
	c.t.Helper()
	c.send(resp.GetTypeUrl(), names, resp.GetVersionInfo(), resp.GetNonce(), "")
}

// handshake plays Envoy's initial ADS fetch: CDS, then EDS for the clusters,
// LDS, then RDS and SDS for what the listeners reference, ACKing each. It
// returns the accepted response of each type.
func (c *sotwClient) handshake() map[string]*discoveryv3.DiscoveryResponse {
	c.t.Helper()
	got := map[string]*discoveryv3.DiscoveryResponse{}
	fetch := func(typeURL string, names []string) *discoveryv3.DiscoveryResponse {
		c.send(typeURL, names, "", "", "")
		resp := c.next(5 * time.Second)
		if resp.GetTypeUrl() != typeURL {
			c.t.Fatalf("asked for %s, got %s first", typeURL, resp.GetTypeUrl())
		}
		c.ack(resp, names)
		got[typeURL] = resp
		return resp
	}
	clusters := fetch(resourcev3.ClusterType, nil)
	fetch(resourcev3.EndpointType, edsNames(c.t, clusters))
	listeners := fetch(resourcev3.ListenerType, nil)
	routes, secrets := listenerRefs(c.t, listeners)
	fetch(resourcev3.RouteType, routes)
	fetch(resourcev3.SecretType, secrets)
	return got
}

func unpack[M proto.Message](t *testing.T, resources []*anypb.Any, newM func() M) []M {
	t.Helper()
	out := make([]M, 0, len(resources))
	for _, a := range resources {
		m := newM()
		if err := a.UnmarshalTo(m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func names[M interface{ GetName() string }](ms []M) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.GetName())
	}
	slices.Sort(out)
	return out
}

func edsNames(t *testing.T, resp *discoveryv3.DiscoveryResponse) []string {
	return names(unpack(t, resp.GetResources(), func() *clusterv3.Cluster { return &clusterv3.Cluster{} }))
}

// listenerRefs are the RDS and SDS names the listeners use.
func listenerRefs(t *testing.T, resp *discoveryv3.DiscoveryResponse) (routes, secrets []string) {
	t.Helper()
	for _, l := range unpack(t, resp.GetResources(), func() *listenerv3.Listener { return &listenerv3.Listener{} }) {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				hcm := &hcmv3.HttpConnectionManager{}
				if f.GetTypedConfig().UnmarshalTo(hcm) == nil && !slices.Contains(routes, hcm.GetRds().GetRouteConfigName()) {
					routes = append(routes, hcm.GetRds().GetRouteConfigName())
				}
			}
			ctx := &tlsv3.DownstreamTlsContext{}
			if fc.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx) == nil {
				for _, sds := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
					secrets = append(secrets, sds.GetName())
				}
			}
		}
	}
	slices.Sort(routes)
	slices.Sort(secrets)
	return routes, secrets
}

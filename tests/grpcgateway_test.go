package tests

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/xds"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/fairwayhq/fairway/envoy"
)

// ackLog records, per type, whether a gRPC client ACKed a response and
// the NACKs it sent.
type ackLog struct {
	mu     sync.Mutex
	acked  map[string]bool
	nacked []string
}

func (l *ackLog) note(_ int64, req *discoveryv3.DiscoveryRequest) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case req.GetErrorDetail() != nil:
		l.nacked = append(l.nacked, fmt.Sprintf("%s: %s", req.GetTypeUrl(), req.GetErrorDetail().GetMessage()))
	case req.GetVersionInfo() != "":
		l.acked[req.GetTypeUrl()] = true
	}
	return nil
}

// serveTable serves one proxyless snapshot (an API listener named host
// with routes, and a cluster with endpoints per backend) over ADS from
// go-control-plane's non-ADS snapshot cache, which answers named subsets
// as a proxyless client asks.
func serveTable(t *testing.T, nodeID, host string, routes []envoy.RouteSpec, backends map[string]*namedBackend) (string, *ackLog) {
	t.Helper()
	listener := envoy.APIListener(host, routes)
	if err := listener.ValidateAll(); err != nil {
		t.Fatalf("listener: %v", err)
	}
	res := map[resourcev3.Type][]types.Resource{resourcev3.ListenerType: {listener}}
	for name, b := range backends {
		res[resourcev3.ClusterType] = append(res[resourcev3.ClusterType], envoy.EDSCluster(name))
		res[resourcev3.EndpointType] = append(res[resourcev3.EndpointType], envoy.ClusterLoadAssignment(name,
			[]envoy.Locality{{Endpoints: []envoy.Endpoint{{Address: "127.0.0.1", Port: uint32(b.port)}}}}))
	}
	// The unresolved share's cluster, without endpoints, as the
	// translator's proxyless set holds it while a listener names it.
	res[resourcev3.ClusterType] = append(res[resourcev3.ClusterType], envoy.EDSCluster(envoy.UnresolvedBackendCluster))
	res[resourcev3.EndpointType] = append(res[resourcev3.EndpointType], envoy.ClusterLoadAssignment(envoy.UnresolvedBackendCluster, nil))
	snap, err := cachev3.NewSnapshot("1", res)
	if err != nil {
		t.Fatal(err)
	}
	cache := cachev3.NewSnapshotCache(false, cachev3.IDHash{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := cache.SetSnapshot(ctx, nodeID, snap); err != nil {
		t.Fatal(err)
	}
	log := &ackLog{acked: map[string]bool{}}
	srv := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(srv, serverv3.NewServer(ctx, cache, serverv3.CallbackFuncs{StreamRequestFunc: log.note}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), log
}

// callOnce is call without waiting for readiness: a call routed to the
// unresolved share fails rather than waits.
func callOnce(cc *grpc.ClientConn, method string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var hdr metadata.MD
	if err := cc.Invoke(ctx, method, &emptypb.Empty{}, &emptypb.Empty{}, grpc.Header(&hdr)); err != nil {
		return "", err
	}
	return strings.Join(hdr.Get("backend"), ","), nil
}

// TestGRPCProxylessGatewayRoutes: a proxyless route table with the
// Gateway API's constructs, built by the envoy package as the translator
// builds a Gateway rule's routes, is ACKed by grpc-go and routed by its
// own router: a header (and POST method) match ranks first, a
// whole-path regex takes its methods, weighted clusters split by weight,
// a share of unresolved backends fails the calls it takes at once while
// the rest reach the backend (the first call is answered within a few
// seconds: grpc-go never waits for a cluster no response holds), and a query match (which grpc-go skips) and a
// GET method match (never a gRPC call) take none. The fleet-only parts
// (header edits, mirrors, timeouts) are left out of the proxyless
// routes, so nothing reaches the mirror.
func TestGRPCProxylessGatewayRoutes(t *testing.T) {
	backends := map[string]*namedBackend{}
	for _, n := range []string{"a", "b", "c", "never"} {
		backends["gw/"+n+"/80"] = startNamedBackend(t, n)
	}
	weighted := func(unresolved uint32, names ...string) *envoy.Weighted {
		w := &envoy.Weighted{Unresolved: unresolved}
		for _, n := range names {
			w.Clusters = append(w.Clusters, envoy.ClusterWeight{Name: "gw/" + n + "/80/h2c", Plain: "gw/" + n + "/80", Weight: 1})
		}
		return w
	}
	routes := []envoy.RouteSpec{
		{Name: "gw/query", Path: "/", Cluster: "gw/never/80", Policy: &envoy.RoutePolicy{Query: []envoy.QueryCondition{{Name: "x", Exact: "1"}}}},
		{Name: "gw/get", Exact: true, Path: "/shop.Cart/Get", Cluster: "gw/never/80", Policy: &envoy.RoutePolicy{Headers: []envoy.HeaderCondition{envoy.MethodCondition("GET")}}},
		{Name: "gw/tenant", Exact: true, Path: "/shop.Cart/Get", Cluster: "gw/a/80", Policy: &envoy.RoutePolicy{
			Headers: []envoy.HeaderCondition{envoy.MethodCondition("POST"), envoy.HeaderConditionOf("X-Tenant", "blue", false)},
		}},
		{Name: "gw/regex", Cluster: "gw/c/80", Policy: &envoy.RoutePolicy{Regex: `/shop\.Cart/(Put|Del)`}},
		{Name: "gw/split", Path: "/shop.Cart", Cluster: "gw/a/80/h2c", Policy: &envoy.RoutePolicy{
			Weighted:       weighted(0, "a", "b"),
			RequestHeaders: envoy.HeaderEdits{Set: []envoy.HeaderValue{{Name: "x-set", Value: "1"}}, Remove: []string{"x-drop"}},
			Mirrors:        []envoy.Mirror{{Cluster: "gw/never/80"}},
			Timeout:        time.Minute, PerTryTimeout: time.Second,
		}},
		{Name: "gw/orders", Path: "/shop.Orders", Cluster: "gw/b/80/h2c", Policy: &envoy.RoutePolicy{Weighted: weighted(1, "b")}},
	}
	addr, log := serveTable(t, "gateway-routes", "gw.example.com", routes, backends)
	resolver, err := xds.NewXDSResolverWithConfigForTesting([]byte(`{"xds_servers": [{"server_uri": "` + addr +
		`", "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3"]}], "node": {"id": "gateway-routes", "locality": {}}}`))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient("xds:///gw.example.com", grpc.WithResolvers(resolver), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })

	start := time.Now()
	if got, err := callWithHeader(cc, "/shop.Cart/Get", "x-tenant", "blue"); err != nil || got != "a" {
		t.Errorf("Get with x-tenant: blue reached %q, %v; want a", got, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the first call took %v; a cluster grpc-go waits for stalls the table", d)
	}
	if got, err := call(cc, "/shop.Cart/Put", 5*time.Second); err != nil || got != "c" {
		t.Errorf("Put reached %q, %v; want the regex route's c", got, err)
	}
	seen := map[string]int{}
	for range 200 {
		got, err := call(cc, "/shop.Cart/Get", 5*time.Second)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		seen[got]++
	}
	if seen["a"] < 60 || seen["b"] < 60 || seen["a"]+seen["b"] != 200 {
		t.Errorf("Get without the header reached %v; want about half each at a and b", seen)
	}
	var ok, failed int
	for range 20 {
		if got, err := callOnce(cc, "/shop.Orders/List"); err != nil {
			failed++
		} else if got == "b" {
			ok++
		}
	}
	if ok == 0 || failed == 0 || ok+failed != 20 {
		t.Errorf("Orders with half its share unresolved: %d reached b, %d failed; want both", ok, failed)
	}
	if n := backends["gw/never/80"].calls.Load(); n > 0 {
		t.Errorf("%d calls reached the query, GET or mirror backend", n)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, n := range log.nacked {
		t.Errorf("grpc-go NACKed: %s", n)
	}
	for _, typ := range []string{resourcev3.ListenerType, resourcev3.ClusterType, resourcev3.EndpointType} {
		if !log.acked[typ] {
			t.Errorf("grpc-go has not ACKed %s", typ)
		}
	}
}

package tests

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/xds"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/fairwayhq/fairway/envoy"
)

// grpcBackend is a real gRPC server on loopback with the health service.
func grpcBackend(t *testing.T) int {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().(*net.TCPAddr).Port
}

// grpcBootstrap is what `fairway bootstrap --grpc` prints for nodeID: the
// tests' gRPC peers read the very bootstrap that users are told to use.
func grpcBootstrap(t *testing.T, fairwayAddr, nodeID string) []byte {
	t.Helper()
	out, err := exec.Command(fairwayBin, "bootstrap", "--grpc", "--xds-address", fairwayAddr, "--node-id", nodeID).Output()
	if err != nil {
		t.Fatalf("fairway bootstrap --grpc: %v", err)
	}
	return out
}

// xdsClient dials target through grpc-go's own xDS resolver, with its
// bootstrap pointing at fairway.
func xdsClient(t *testing.T, fairwayAddr, nodeID, target string) *grpc.ClientConn {
	t.Helper()
	resolver, err := xds.NewXDSResolverWithConfigForTesting(grpcBootstrap(t, fairwayAddr, nodeID))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient("xds:///"+target, grpc.WithResolvers(resolver), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// TestGRPCProxylessClient uses grpc-go's xDS client, an independent
// implementation of xDS validation, as the peer: an RPC through
// xds:///echo.apps.svc.cluster.local:9000 reaches a real backend, and for
// every Service of the example grpc-go ACKs fairway's listener, cluster and
// endpoints without a single NACK. The first RPC's latency is logged and
// bounded: the resources are built when grpc-go first asks for them.
func TestGRPCProxylessClient(t *testing.T) {
	port := grpcBackend(t)
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "echo.yaml"), fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: echo, namespace: apps}
spec:
  ports: [{name: grpc, port: 9000, targetPort: %d, appProtocol: grpc}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: echo-1, namespace: apps, labels: {kubernetes.io/service-name: echo}}
addressType: IPv4
ports: [{name: grpc, port: %d, protocol: TCP}]
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
`, port, port))
	f := startFairway(t, dir)

	// The first RPC waits for fairway to build echo's resources, which no
	// one asked for before: from dialing to the answer, on a loaded
	// machine, within a few seconds.
	dialed := time.Now()
	cc := xdsClient(t, f.xds, "grpc-echo", "echo.apps.svc.cluster.local:9000")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil {
		t.Fatalf("RPC through xds:///echo.apps.svc.cluster.local:9000: %v", err)
	}
	firstRPC := time.Since(dialed)
	t.Logf("first RPC through xds:///echo.apps.svc.cluster.local:9000, resources built on demand: %v after dialing", firstRPC)
	if firstRPC > 5*time.Second {
		t.Errorf("the first RPC took %v after dialing", firstRPC)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v", resp.GetStatus())
	}

	// The example's Services: their pods are not reachable from here, but
	// grpc-go validates and ACKs their resources all the same.
	targets := []string{"web.shop.svc.cluster.local:80", "api.shop.svc.cluster.local:8080", "postgres.shop.svc.cluster.local:5432"}
	for _, target := range targets {
		conn := xdsClient(t, f.xds, "grpc-"+strings.Split(target, ".")[0], target)
		conn.Connect()
	}
	// Each client names only what it dials, so it ACKs versions of just
	// those resources, not the whole type's.
	eventually(t, 10*time.Second, "every gRPC client ACKs listener, cluster and endpoint", func() bool {
		acked := 0
		for _, s := range f.nodes() {
			if !strings.HasPrefix(s.UserAgent, "gRPC") {
				continue
			}
			if s.LastNACK != nil {
				t.Fatalf("grpc-go NACKed: %+v", *s.LastNACK)
			}
			if s.Group == "proxyless" && s.Acked["listener"] != "" && s.Acked["cluster"] != "" && s.Acked["endpoint"] != "" {
				acked++
			}
		}
		return acked == 1+len(targets)
	})
	if _, metrics := f.get("/metrics"); strings.Contains(metrics, "fairway_xds_nacks_total{type=\"listener\"} 1") ||
		!strings.Contains(metrics, "fairway_xds_nacks_total{type=\"cluster\"} 0") {
		t.Error("NACKs were counted")
	}
}

// TestProxylessAndFleetViewsApart: an Envoy that asks for every listener
// gets the fleet's socket listeners and no API or gRPC server listener; a
// node marked proxyless in its metadata (no gRPC user agent) that asks for
// every listener gets API and gRPC server listeners and none of the fleet's
// socket listeners. API listeners are built on demand, so it first asks
// for the Service's target by name, as a gRPC client does.
func TestProxylessAndFleetViewsApart(t *testing.T) {
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "xds-server.yaml"), grpcServiceYAML("apps", "inventory", &namedBackend{name: "inventory", port: 50099}))
	f := startFairway(t, dir)

	fleet := newSotW(t, f.xds, "envoy-0")
	fleet.send(resourcev3.ListenerType, nil, "", "", "")
	for _, l := range unpack(t, fleet.next(5*time.Second).GetResources(), func() *listenerv3.Listener { return &listenerv3.Listener{} }) {
		if l.GetApiListener() != nil || strings.HasPrefix(l.GetName(), envoy.GRPCServerListenerPrefix) || l.GetAddress() == nil {
			t.Errorf("an Envoy got the proxyless listener %q", l.GetName())
		}
	}

	proxyless := newSotW(t, f.xds, "some-xds-library")
	meta, err := structpb.NewStruct(map[string]any{"fairway.dev/proxyless": true})
	if err != nil {
		t.Fatal(err)
	}
	proxyless.node.Metadata = meta
	target := "inventory.apps.svc.cluster.local:50051"
	proxyless.send(resourcev3.ListenerType, []string{target}, "", "", "")
	named := proxyless.next(5 * time.Second)
	if ls := named.GetResources(); len(ls) != 1 {
		t.Fatalf("a named request for %s got %d listeners", target, len(ls))
	}
	// Another stream asks for every listener (an empty list after names
	// would unsubscribe them all).
	proxyless = newSotW(t, f.xds, "some-xds-library-2")
	proxyless.node.Metadata = meta
	proxyless.send(resourcev3.ListenerType, nil, "", "", "")
	apis, servers := 0, 0
	for _, l := range unpack(t, proxyless.next(5*time.Second).GetResources(), func() *listenerv3.Listener { return &listenerv3.Listener{} }) {
		switch {
		case l.GetApiListener() != nil:
			apis++
		case l.GetName() == envoy.GRPCServerListenerName("127.0.0.1", 50099):
			servers++
		default:
			t.Errorf("a proxyless node got the socket listener %q", l.GetName())
		}
	}
	if apis == 0 || servers != 1 {
		t.Errorf("the proxyless node got %d API listeners and %d server listeners", apis, servers)
	}
}

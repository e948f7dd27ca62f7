package tests

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/xds"
	"google.golang.org/protobuf/types/known/emptypb"
)

// namedBackend is a real gRPC server on loopback that answers every method,
// known (health) or not, and names itself in a response header, so a test
// sees which endpoint an RPC reached.
type namedBackend struct {
	name  string
	port  int
	calls atomic.Int64
}

func startNamedBackend(t *testing.T, name string) *namedBackend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &namedBackend{name: name, port: lis.Addr().(*net.TCPAddr).Port}
	srv := grpc.NewServer(
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			b.calls.Add(1)
			_ = grpc.SetHeader(ctx, metadata.Pairs("backend", name))
			return h(ctx, req)
		}),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			b.calls.Add(1)
			if err := stream.RecvMsg(&emptypb.Empty{}); err != nil {
				return err
			}
			if err := stream.SetHeader(metadata.Pairs("backend", name)); err != nil {
				return err
			}
			return stream.SendMsg(&emptypb.Empty{})
		}),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return b
}

// call invokes method through cc and returns the backend that answered.
func call(cc *grpc.ClientConn, method string, timeout time.Duration) (string, error) {
	return callCtx(context.Background(), cc, method, timeout)
}

// callCtx is call with the caller's context (outgoing metadata).
func callCtx(parent context.Context, cc *grpc.ClientConn, method string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	var hdr metadata.MD
	err := cc.Invoke(ctx, method, &emptypb.Empty{}, &emptypb.Empty{}, grpc.Header(&hdr), grpc.WaitForReady(true))
	if err != nil {
		return "", err
	}
	return strings.Join(hdr.Get("backend"), ","), nil
}

// grpcServiceYAML is a Service whose named port "grpc" is served by one
// EndpointSlice per backend: each backend listens on its own loopback port,
// and a slice carries one port for all its endpoints.
func grpcServiceYAML(ns, name string, backends ...*namedBackend) string {
	out := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %s, namespace: %s}
spec:
  ports: [{name: grpc, port: 50051, targetPort: grpc, appProtocol: grpc}]
`, name, ns)
	for _, b := range backends {
		out += endpointSliceYAML(ns, name, b.name, b.port, "127.0.0.1")
	}
	return out
}

func endpointSliceYAML(ns, svc, slice string, port int, addresses ...string) string {
	eps := "[]"
	if len(addresses) > 0 {
		var items []string
		for _, a := range addresses {
			items = append(items, fmt.Sprintf("{addresses: [%s], conditions: {ready: true}}", a))
		}
		eps = "[" + strings.Join(items, ", ") + "]"
	}
	return fmt.Sprintf(`---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %s-%s, namespace: %s, labels: {kubernetes.io/service-name: %s}}
addressType: IPv4
ports: [{name: grpc, port: %d, protocol: TCP}]
endpoints: %s
`, svc, slice, ns, svc, port, eps)
}

// countBackends makes n RPCs and counts the backends that answered.
func countBackends(t *testing.T, cc *grpc.ClientConn, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for range n {
		b, err := call(cc, "/grpc.health.v1.Health/Check", 5*time.Second)
		if err != nil {
			t.Fatalf("RPC: %v", err)
		}
		seen[b]++
	}
	return seen
}

// TestGRPCRoundRobinAndEndpointRemoval: through every name a Service port
// can be dialled by, RPCs reach its endpoints; under round robin both
// endpoints take an even share; when one is removed from the manifest,
// all traffic moves to the other within 2 s. grpc-go NACKs nothing.
func TestGRPCRoundRobinAndEndpointRemoval(t *testing.T) {
	a, b := startNamedBackend(t, "a"), startNamedBackend(t, "b")
	dir := manifestDir(t)
	file := filepath.Join(dir, "greeter.yaml")
	writeFile(t, file, grpcServiceYAML("apps", "greeter", a, b))
	f := startFairway(t, dir)

	for i, target := range []string{"greeter.apps.svc.cluster.local:50051", "greeter.apps.svc:50051", "greeter.apps:50051"} {
		cc := xdsClient(t, f.xds, fmt.Sprintf("grpc-dial-%d", i), target)
		if _, err := call(cc, "/grpc.health.v1.Health/Check", 15*time.Second); err != nil {
			t.Fatalf("RPC through xds:///%s: %v", target, err)
		}
	}

	cc := xdsClient(t, f.xds, "grpc-rr", "greeter.apps.svc.cluster.local:50051")
	eventually(t, 10*time.Second, "both endpoints answer", func() bool {
		seen := countBackends(t, cc, 4)
		return seen["a"] > 0 && seen["b"] > 0
	})
	// Round robin over two ready endpoints alternates.
	if seen := countBackends(t, cc, 40); seen["a"] < 18 || seen["b"] < 18 {
		t.Errorf("40 RPCs under round robin went %v; want an even share", seen)
	}

	writeFile(t, file, strings.Replace(grpcServiceYAML("apps", "greeter", a, b),
		endpointSliceYAML("apps", "greeter", "b", b.port, "127.0.0.1"), endpointSliceYAML("apps", "greeter", "b", b.port), 1))
	removed := time.Now()
	eventually(t, 2*time.Second, "all traffic on the remaining endpoint", func() bool {
		seen := countBackends(t, cc, 6)
		return seen["a"] == 6
	})
	t.Logf("traffic moved in %v", time.Since(removed).Round(time.Millisecond))
	before := b.calls.Load()
	if seen := countBackends(t, cc, 30); seen["a"] != 30 || b.calls.Load() != before {
		t.Errorf("after the removal RPCs went %v", seen)
	}
	assertNoGRPCNACKs(t, f)
}

// assertNoGRPCNACKs checks that no gRPC node rejected anything, and that
// each ACKed listeners, and the clients (all but the servers named) also
// clusters and endpoints.
func assertNoGRPCNACKs(t *testing.T, f *fairway, servers ...string) {
	t.Helper()
	// grpc-go sends its ACK after it has applied a response, so an RPC
	// can succeed on endpoints whose ACK fairway has yet to read: the
	// ACKs get a few seconds, a NACK fails at once.
	var found []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var nacked bool
		found, nacked = grpcAckProblems(f, servers)
		if len(found) == 0 || nacked || time.Now().After(deadline) {
			break
		}
	}
	for _, p := range found {
		t.Error(p)
	}
}

// grpcAckProblems are the gRPC nodes that NACKed or have not ACKed what
// they need, and whether any of them NACKed.
func grpcAckProblems(f *fairway, servers []string) (found []string, nacked bool) {
	grpcNodes := 0
	for _, s := range f.nodes() {
		if !strings.HasPrefix(s.UserAgent, "gRPC") {
			continue
		}
		grpcNodes++
		if s.LastNACK != nil {
			found, nacked = append(found, fmt.Sprintf("grpc-go node %s NACKed: %+v", s.NodeID, *s.LastNACK)), true
		}
		client := !slices.Contains(servers, s.NodeID)
		if s.Group != "proxyless" || s.Acked["listener"] == "" || (client && (s.Acked["cluster"] == "" || s.Acked["endpoint"] == "")) {
			found = append(found, fmt.Sprintf("grpc-go node %s: group %q, ACKed %v", s.NodeID, s.Group, s.Acked))
		}
	}
	if grpcNodes == 0 {
		found = append(found, "no gRPC node connected")
	}
	return found, nacked
}

// TestGRPCIngressRouting: a client dialling xds:///<ingress-host> gets the
// host's Ingress routes, with their precedence and Exact/Prefix semantics,
// carried out by grpc-go's own router: by method path, the longest rule
// wins, Exact beats Prefix, a Prefix matches whole path elements only, and
// an RPC that no rule matches (or whose backend does not exist) fails with
// UNAVAILABLE.
func TestGRPCIngressRouting(t *testing.T) {
	cart, checkout, orders := startNamedBackend(t, "cart"), startNamedBackend(t, "checkout"), startNamedBackend(t, "orders")
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "grpc-shop.yaml"), grpcServiceYAML("grpcshop", "cart", cart)+"---\n"+
		grpcServiceYAML("grpcshop", "checkout", checkout)+"---\n"+grpcServiceYAML("grpcshop", "orders", orders)+`---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: grpc-shop, namespace: grpcshop}
spec:
  ingressClassName: fairway
  rules:
  - host: grpc.shop.example.com
    http:
      paths:
      - {path: /shop, pathType: Prefix, backend: {service: {name: orders, port: {name: grpc}}}}
      - {path: /shop.Cart, pathType: Prefix, backend: {service: {name: cart, port: {number: 50051}}}}
      - {path: /shop.Cart/Checkout, pathType: Exact, backend: {service: {name: checkout, port: {number: 50051}}}}
      - {path: /shop.Gone, pathType: Prefix, backend: {service: {name: nowhere, port: {number: 50051}}}}
`)
	f := startFairway(t, dir)
	cc := xdsClient(t, f.xds, "grpc-ingress", "grpc.shop.example.com")
	for _, c := range []struct{ method, want string }{
		{"/shop.Cart/Get", "cart"},
		{"/shop.Cart/Checkout", "checkout"},
		{"/shop/List", "orders"},
		{"/shop.Cart/Get", "cart"},
	} {
		got, err := call(cc, c.method, 15*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", c.method, err)
		}
		if got != c.want {
			t.Errorf("%s: reached %q, want %q", c.method, got, c.want)
		}
	}
	for _, method := range []string{"/shop.Cartx/Get", "/other.Service/Get", "/shop.Gone/Get"} {
		got, err := call(cc, method, 5*time.Second)
		if status.Code(err) != codes.Unavailable {
			t.Errorf("%s: reached %q with %v; want UNAVAILABLE", method, got, err)
		}
	}
	assertNoGRPCNACKs(t, f)
}

// TestGRPCXDSServer: an xDS-enabled gRPC server (grpc-go's
// xds.NewGRPCServer, on the bootstrap `fairway bootstrap --grpc` prints)
// behind a Service port with appProtocol grpc gets the listener for its
// own address from fairway, goes SERVING, and answers RPCs: a plain
// client's, and a proxyless client's through xds:///<service>.<ns>:<port>.
// Proxyless on both ends, with fairway between them only as control plane.
func TestGRPCXDSServer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := lis.Addr().(*net.TCPAddr).Port
	dir := manifestDir(t)
	writeFile(t, filepath.Join(dir, "xds-server.yaml"), grpcServiceYAML("apps", "inventory", &namedBackend{name: "inventory", port: port}))
	f := startFairway(t, dir)

	modes := make(chan connectivity.ServingMode, 10)
	srv, err := xds.NewGRPCServer(
		grpc.Creds(insecure.NewCredentials()),
		xds.BootstrapContentsForTesting(grpcBootstrap(t, f.xds, "grpc-server")),
		xds.ServingModeCallback(func(_ net.Addr, args xds.ServingModeChangeArgs) {
			if args.Err != nil {
				t.Logf("serving mode %v: %v", args.Mode, args.Err)
			}
			modes <- args.Mode
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	select {
	case m := <-modes:
		if m != connectivity.ServingModeServing {
			t.Fatalf("the xDS server went %v, want SERVING", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the xDS server got no listener within 10 s")
	}

	plain, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(plain).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("RPC to the xDS server: %v", err)
	}
	viaXDS := xdsClient(t, f.xds, "grpc-to-server", "inventory.apps:50051")
	if _, err := healthpb.NewHealthClient(viaXDS).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
		t.Fatalf("RPC through xds:///inventory.apps:50051 to the xDS server: %v", err)
	}
	assertNoGRPCNACKs(t, f, "grpc-server")
}

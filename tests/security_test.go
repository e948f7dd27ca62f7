package tests

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/xds"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/fairwayhq/fairway/tests/testpki"
)

// The identities of the shared contract, in the default trust domain.
const (
	fleetID     = "spiffe://fairway/fleet"
	fleetEdgeA  = "spiffe://fairway/fleet/edge-a"
	proxylessID = "spiffe://fairway/proxyless/shop"
	shopSecret  = "shop/shop-tls"
)

// mtlsFairway is a fairway serving the examples (a TLS Ingress, so there
// is a secret) over mTLS, with the CA that signed its certificate and
// that it trusts for clients, grouping nodes by node.cluster.
type mtlsFairway struct {
	*fairway
	ca  *testpki.CA
	dir string
}

func startMTLSFairway(t *testing.T, extra ...string) *mtlsFairway {
	t.Helper()
	dir := t.TempDir()
	ca := testpki.NewCA(t, "fairway-ca")
	cert, key := ca.WriteLeaf(t, dir, "server", testpki.Leaf{
		CommonName: "fairway", DNSNames: []string{"fairway"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)},
		URIs: []string{"spiffe://fairway/control-plane"},
	})
	caFile := ca.WriteCA(t, filepath.Join(dir, "ca.crt"))
	args := append([]string{"--manifests", "../manifests/examples", "--node-group-by", "cluster",
		"--xds-tls-cert", cert, "--xds-tls-key", key, "--xds-tls-client-ca", caFile}, extra...)
	return &mtlsFairway{fairway: startFairwayArgs(t, args...), ca: ca, dir: dir}
}

// dialAs connects with a client certificate for identity (none when
// empty), trusting the test CA for fairway's certificate.
func (f *mtlsFairway) dialAs(t *testing.T, identity string) *grpc.ClientConn {
	t.Helper()
	return f.dialIssuedBy(t, f.ca, identity)
}

// dialIssuedBy is dialAs with a client certificate that issuer signed.
func (f *mtlsFairway) dialIssuedBy(t *testing.T, issuer *testpki.CA, identity string) *grpc.ClientConn {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(f.ca.Cert)
	cfg := &tls.Config{RootCAs: roots, ServerName: "fairway", MinVersion: tls.VersionTLS12}
	if identity != "" {
		certPEM, keyPEM := issuer.Issue(t, testpki.Leaf{CommonName: identity, URIs: []string{identity}})
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	conn, err := grpc.NewClient(f.xds, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func envoyNode(id, cluster string) *corev3.Node {
	return &corev3.Node{Id: id, Cluster: cluster, UserAgentName: "envoy"}
}

// grpcNode looks like what grpc-go sends, with the proxyless mark that
// `fairway bootstrap --grpc` adds.
func grpcNode(id, cluster string) *corev3.Node {
	md, _ := structpb.NewStruct(map[string]any{"fairway.dev/proxyless": true})
	return &corev3.Node{Id: id, Cluster: cluster, UserAgentName: "gRPC Go", Metadata: md}
}

// sotwAs opens an ADS SotW stream with a raw client on conn.
func sotwAs(t *testing.T, conn *grpc.ClientConn, node *corev3.Node) *sotwClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &sotwClient{t: t, node: node, stream: stream, responses: receive(stream.Recv), cancel: cancel}
}

// refused asserts that a stream ends with PermissionDenied naming the
// identity, having sent no response.
func refused[T any](t *testing.T, what string, responses chan T, recvErr func() error, identity string) {
	t.Helper()
	if got := quietOf(responses, 3*time.Second); len(got) != 0 {
		t.Fatalf("%s: got %d responses, want none", what, len(got))
	}
	err := recvErr()
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), identity) {
		t.Fatalf("%s: stream ended with %v; want PermissionDenied naming %s", what, err, identity)
	}
}

// TestXDSWithoutClientCertificate: over mTLS, a client that presents no
// certificate never gets a stream, let alone a secret.
func TestXDSWithoutClientCertificate(t *testing.T) {
	f := startMTLSFairway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(f.dialAs(t, "")).StreamAggregatedResources(ctx)
	if err == nil {
		err = stream.Send(&discoveryv3.DiscoveryRequest{Node: envoyNode("no-cert", "edge-a"), TypeUrl: resourcev3.SecretType, ResourceNames: []string{shopSecret}})
	}
	if err == nil {
		var resp *discoveryv3.DiscoveryResponse
		resp, err = stream.Recv()
		if err == nil {
			t.Fatalf("a client without a certificate got %v", resp)
		}
	}
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("a client without a certificate: %v; want the handshake refused (Unavailable)", err)
	}
}

// TestProxylessIdentityGetsNoSecret: a proxyless certificate asking for
// the TLS secret is refused on every way to ask: SotW and delta, on ADS
// and on the SDS service.
func TestProxylessIdentityGetsNoSecret(t *testing.T) {
	f := startMTLSFairway(t)
	conn := f.dialAs(t, proxylessID)
	node := grpcNode("app-1", "edge-a")

	sotw := sotwAs(t, conn, node)
	sotw.send(resourcev3.SecretType, []string{shopSecret}, "", "", "")
	refused(t, "ADS SotW", sotw.responses, func() error { _, err := sotw.stream.Recv(); return err }, proxylessID)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	delta, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := delta.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: resourcev3.SecretType, ResourceNamesSubscribe: []string{shopSecret}}); err != nil {
		t.Fatal(err)
	}
	_, err = delta.Recv()
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), proxylessID) {
		t.Fatalf("ADS delta SDS: %v; want PermissionDenied", err)
	}

	sds := secretservice.NewSecretDiscoveryServiceClient(conn)
	perType, err := sds.StreamSecrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := perType.Send(&discoveryv3.DiscoveryRequest{Node: node, ResourceNames: []string{shopSecret}}); err != nil {
		t.Fatal(err)
	}
	if _, err := perType.Recv(); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("SDS service SotW: %v; want PermissionDenied", err)
	}
	perTypeDelta, err := sds.DeltaSecrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := perTypeDelta.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, ResourceNamesSubscribe: []string{shopSecret}}); err != nil {
		t.Fatal(err)
	}
	if _, err := perTypeDelta.Recv(); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("SDS service delta: %v; want PermissionDenied", err)
	}
	if m := f.metricsText(t); !strings.Contains(m, `fairway_xds_refused_streams_total{reason="secret"} 4`) {
		t.Errorf("refusals not counted:\n%s", grepLines(m, "fairway_xds_refused_streams_total"))
	}
}

// TestProxylessIdentityWithForgedEnvoyNode: a proxyless certificate whose
// node claims to be an Envoy of the fleet gets neither the fleet's
// clusters nor a secret, over SotW or delta; with its own node it gets
// the proxyless view.
func TestProxylessIdentityWithForgedEnvoyNode(t *testing.T) {
	f := startMTLSFairway(t)
	conn := f.dialAs(t, proxylessID)
	forged := envoyNode("edge-0", "edge-a")
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.SecretType} {
		c := sotwAs(t, conn, forged)
		c.send(typ, nil, "", "", "")
		refused(t, "SotW "+typ, c.responses, func() error { _, err := c.stream.Recv(); return err }, proxylessID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	delta, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := delta.Send(&discoveryv3.DeltaDiscoveryRequest{Node: forged, TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	if resp, err := delta.Recv(); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("delta with a forged Envoy node: %v, %v; want PermissionDenied", deltaNames(resp), err)
	}

	own := sotwAs(t, conn, grpcNode("app-1", "edge-a"))
	own.send(resourcev3.ListenerType, nil, "", "", "")
	if resp := own.next(5 * time.Second); resp.GetTypeUrl() != resourcev3.ListenerType {
		t.Fatalf("the proxyless view: got %s", resp.GetTypeUrl())
	}
}

// TestBoundFleetIdentityStaysInItsGroup: a fleet certificate bound to
// node group edge-a is refused when its node claims node.cluster edge-b,
// and served in edge-a.
func TestBoundFleetIdentityStaysInItsGroup(t *testing.T) {
	f := startMTLSFairway(t)
	conn := f.dialAs(t, fleetEdgeA)
	other := sotwAs(t, conn, envoyNode("edge-0", "edge-b"))
	other.send(resourcev3.ClusterType, nil, "", "", "")
	refused(t, "node.cluster edge-b", other.responses, func() error { _, err := other.stream.Recv(); return err }, fleetEdgeA)

	own := sotwAs(t, conn, envoyNode("edge-0", "edge-a"))
	own.send(resourcev3.ClusterType, nil, "", "", "")
	if got := edsNames(t, own.next(5*time.Second)); len(got) == 0 {
		t.Fatal("no clusters for node.cluster edge-a")
	}
	if m := f.metricsText(t); !strings.Contains(m, `fairway_xds_refused_streams_total{reason="group"} 1`) {
		t.Errorf("refusal not counted:\n%s", grepLines(m, "fairway_xds_refused_streams_total"))
	}
}

// TestFleetIdentityGetsTheSecret: the fleet's certificate plays Envoy's
// whole initial fetch and is sent the TLS secret with its key.
func TestFleetIdentityGetsTheSecret(t *testing.T) {
	f := startMTLSFairway(t)
	c := sotwAs(t, f.dialAs(t, fleetID), envoyNode("edge-0", "edge-b"))
	got := c.handshake()
	secrets := unpack(t, got[resourcev3.SecretType].GetResources(), func() *tlsv3.Secret { return &tlsv3.Secret{} })
	if !slices.Equal(names(secrets), []string{shopSecret}) {
		t.Fatalf("secrets %v, want [%s]", names(secrets), shopSecret)
	}
	if len(secrets[0].GetTlsCertificate().GetPrivateKey().GetInlineBytes()) == 0 {
		t.Fatal("the secret carries no private key")
	}
}

// metricsText is fairway's /metrics.
func (f *mtlsFairway) metricsText(t *testing.T) string {
	t.Helper()
	code, body := f.get("/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	return body
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestProxylessIdentityThroughGRPCGo: grpc-go's own xDS client, reading
// the bootstrap `fairway bootstrap --grpc` writes for a proxyless
// certificate (tls channel credentials, with their refresh interval),
// connects over mTLS and ACKs its listener, cluster and endpoints.
func TestProxylessIdentityThroughGRPCGo(t *testing.T) {
	f := startMTLSFairway(t)
	cert, key := f.ca.WriteLeaf(t, f.dir, "app", testpki.Leaf{CommonName: "app", URIs: []string{proxylessID}})
	out, err := exec.Command(fairwayBin, "bootstrap", "--grpc", "--xds-address", f.xds, "--node-id", "grpc-app",
		"--xds-tls-cert", cert, "--xds-tls-key", key, "--xds-tls-ca", filepath.Join(f.dir, "ca.crt")).Output()
	if err != nil {
		t.Fatalf("fairway bootstrap --grpc: %v", err)
	}
	resolver, err := xds.NewXDSResolverWithConfigForTesting(out)
	if err != nil {
		t.Fatalf("grpc-go rejects the bootstrap: %v\n%s", err, out)
	}
	cc, err := grpc.NewClient("xds:///web.shop.svc.cluster.local:80", grpc.WithResolvers(resolver), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	cc.Connect()
	eventually(t, 15*time.Second, "grpc-go over mTLS ACKs listener, cluster and endpoints", func() bool {
		for _, s := range f.nodes() {
			if s.NodeID == "grpc-app" && strings.HasPrefix(s.Group, "proxyless") && s.Identity == proxylessID && s.Acked["listener"] != "" &&
				s.Acked["cluster"] != "" && s.Acked["endpoint"] != "" {
				return true
			}
		}
		return false
	})
}

// TestClientCARotationWithoutRestart: a running fairway trusts a new
// client CA as soon as its --xds-tls-client-ca file names it, with the old
// one beside it during the overlap the README describes.
func TestClientCARotationWithoutRestart(t *testing.T) {
	f := startMTLSFairway(t)
	next := testpki.NewCA(t, "fairway-ca-next")
	// clusters asks for the clusters as the fleet, with a certificate of
	// issuer, and returns what ended the attempt.
	clusters := func(issuer *testpki.CA) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(f.dialIssuedBy(t, issuer, fleetID)).StreamAggregatedResources(ctx)
		if err != nil {
			return err
		}
		// A failed Send says only io.EOF; Recv has the stream's error.
		_ = stream.Send(&discoveryv3.DiscoveryRequest{Node: envoyNode("edge-0", "edge-a"), TypeUrl: resourcev3.ClusterType})
		resp, err := stream.Recv()
		if err == nil && resp.GetTypeUrl() != resourcev3.ClusterType {
			err = errors.New("got " + resp.GetTypeUrl())
		}
		return err
	}
	if err := clusters(next); status.Code(err) != codes.Unavailable {
		t.Fatalf("a client of a CA fairway does not trust yet: %v; want the handshake refused", err)
	}
	testpki.WriteFile(t, filepath.Join(f.dir, "ca.crt"), append(append([]byte{}, f.ca.CertPEM...), next.CertPEM...))
	for name, issuer := range map[string]*testpki.CA{"current": f.ca, "next": next} {
		if err := clusters(issuer); err != nil {
			t.Errorf("a client of the %s CA after the rotation: %v", name, err)
		}
	}
}

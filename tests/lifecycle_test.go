package tests

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/fairwayhq/fairway/tests/testpki"
)

// TestAdminEndpoints: /healthz and /readyz answer once serving, and
// /metrics has the metrics operators alert on. (/readyz before the first
// snapshot is pinned in the xds package, where the first snapshot can be
// held back.)
func TestAdminEndpoints(t *testing.T) {
	f := startFairway(t, manifestDir(t))
	c := newSotW(t, f.xds, "envoy-0")
	c.handshake()
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := f.get(path); code != 200 || strings.TrimSpace(body) != "ok" {
			t.Errorf("%s = %d %q", path, code, body)
		}
	}
	_, snap := f.get("/debug/snapshot")
	var shape map[string]json.RawMessage
	if err := json.Unmarshal([]byte(snap), &shape); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"listeners", "routes", "clusters", "endpoints", "secrets", "versions", "proxyless", "problems"} {
		if len(shape[key]) == 0 {
			t.Errorf("/debug/snapshot lacks %q", key)
		}
	}
	if strings.Contains(snap, "PRIVATE KEY") || !strings.Contains(snap, "[redacted]") {
		t.Error("/debug/snapshot does not redact private keys")
	}
	_, metrics := f.get("/metrics")
	for _, want := range []string{
		"fairway_translation_duration_seconds_bucket",
		`fairway_snapshot_publications_total{result="published"} 1`,
		`fairway_snapshot_publications_total{result="failed"} 0`,
		`fairway_xds_version_info{snapshot="envoy",type="cluster",version="`,
		"fairway_xds_connected_nodes 1",
		`fairway_xds_connected_streams{kind="sotw"} 1`,
		`fairway_xds_pushes_total{type="listener"}`,
		`fairway_xds_nacks_total{type="route"} 0`,
		"fairway_problems",
		"go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestShutdownWithinBound: SIGTERM with streams open ends the process
// within the shutdown timeout (plus process teardown), and closes the
// streams.
func TestShutdownWithinBound(t *testing.T) {
	f := startFairway(t, manifestDir(t), "--shutdown-timeout", "1s")
	sotw := newSotW(t, f.xds, "envoy-0")
	sotw.handshake()
	delta := newDelta(t, f.xds, "envoy-1")
	delta.subscribe(resourcev3.ClusterType, nil)
	if took := f.stop(); took > 3*time.Second {
		t.Fatalf("shutdown took %v with --shutdown-timeout 1s", took)
	}
	for _, closed := range []<-chan *discoveryv3.DiscoveryResponse{sotw.responses} {
		select {
		case _, ok := <-closed:
			if ok {
				t.Error("a response after shutdown")
			}
		case <-time.After(2 * time.Second):
			t.Error("the SotW stream is still open after shutdown")
		}
	}
}

// TestXDSMutualTLS: with --xds-tls-* a client certificate from the CA is
// required; a client without one cannot fetch anything. (What each
// identity may fetch is tests/security_test.go's.)
func TestXDSMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "fairway test CA")
	caFile := ca.WriteCA(t, filepath.Join(dir, "ca.crt"))
	serverCert, serverKey := ca.WriteLeaf(t, dir, "server", testpki.Leaf{CommonName: "server", DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	clientCert, clientKey := ca.WriteLeaf(t, dir, "client", testpki.Leaf{CommonName: "envoy", URIs: []string{"spiffe://fairway/fleet"}})
	f := startFairway(t, manifestDir(t), "--xds-tls-cert", serverCert, "--xds-tls-key", serverKey, "--xds-tls-client-ca", caFile)

	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	client, err := tls.LoadX509KeyPair(clientCert, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(cfg *tls.Config) error {
		conn, err := grpc.NewClient(f.xds, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
		if err != nil {
			return err
		}
		if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "tls"}, TypeUrl: resourcev3.ClusterType}); err != nil {
			return err
		}
		_, err = stream.Recv()
		return err
	}
	if err := fetch(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{client}, ServerName: "localhost"}); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	if err := fetch(&tls.Config{RootCAs: pool, ServerName: "localhost"}); err == nil {
		t.Fatal("a client without a certificate fetched clusters")
	}
}

// TestNodeGroupByCluster: with --node-group-by=cluster, a node's snapshot
// is keyed by its node.cluster, and it is served.
func TestNodeGroupByCluster(t *testing.T) {
	f := startFairway(t, manifestDir(t), "--node-group-by", "cluster")
	c := newSotW(t, f.xds, "envoy-edge")
	c.node.Cluster = "edge"
	c.handshake()
	f.waitForStream("the node in group fleet/edge", func(s streamInfo) bool {
		return s.NodeID == "envoy-edge" && s.Group == "fleet/edge" && s.Acked["listener"] != ""
	})
}

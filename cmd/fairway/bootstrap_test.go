package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"
)

func parseBootstrap(t *testing.T, out string, isYAML bool) *bootstrapv3.Bootstrap {
	t.Helper()
	data := []byte(out)
	if isYAML {
		var err error
		if data, err = yaml.YAMLToJSON(data); err != nil {
			t.Fatal(err)
		}
	}
	b := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(data, b); err != nil {
		t.Fatalf("output is not a v3 Bootstrap: %v\n%s", err, out)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("bootstrap does not validate: %v", err)
	}
	return b
}

func TestBootstrapValidates(t *testing.T) {
	code, out, stderr := runCLI(t, "bootstrap", "--xds-address", "fairway.fairway-system.svc:18000", "--node-id", "envoy-0", "--node-cluster", "edge")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b := parseBootstrap(t, out, true)
	if b.GetNode().GetId() != "envoy-0" || b.GetNode().GetCluster() != "edge" {
		t.Errorf("node = %v", b.GetNode())
	}
	ads := b.GetDynamicResources().GetAdsConfig()
	if ads.GetApiType() != corev3.ApiConfigSource_DELTA_GRPC || ads.GetGrpcServices()[0].GetEnvoyGrpc().GetClusterName() != "xds_cluster" {
		t.Errorf("ads config = %v, want delta over xds_cluster", ads)
	}
	if b.GetDynamicResources().GetLdsConfig().GetAds() == nil || b.GetDynamicResources().GetCdsConfig().GetAds() == nil {
		t.Error("LDS and CDS must come over ADS")
	}
	xds := b.GetStaticResources().GetClusters()[0]
	if xds.GetType().String() != "STRICT_DNS" || xds.GetConnectTimeout() == nil || xds.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] == nil {
		t.Errorf("xds cluster = %v, want STRICT_DNS, a connect timeout and HTTP/2 options", xds)
	}
	addr := xds.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	if addr.GetAddress() != "fairway.fairway-system.svc" || addr.GetPortValue() != 18000 {
		t.Errorf("xds endpoint = %v", addr)
	}
	if b.GetAdmin().GetAddress().GetSocketAddress().GetPortValue() != 9901 {
		t.Errorf("admin = %v", b.GetAdmin())
	}
	monitors := map[string]bool{}
	for _, m := range b.GetOverloadManager().GetResourceMonitors() {
		monitors[m.GetName()] = true
	}
	if !monitors["envoy.resource_monitors.global_downstream_max_connections"] || !monitors["envoy.resource_monitors.fixed_heap"] {
		t.Errorf("overload manager monitors %v, want the connection cap and the heap", monitors)
	}
	if got := staticListenerPaths(t, b); !reflect.DeepEqual(got, map[string]string{"0.0.0.0:19003": "/ready", "0.0.0.0:19001": "/stats/prometheus"}) {
		t.Errorf("static listeners serve %v, want /ready on 19003 and /stats/prometheus on 19001 by default", got)
	}
}

// TestBootstrapSotWJSONAndMTLS: with mTLS the xDS cluster takes its client
// certificate and CA from SDS files written beside the bootstrap, which
// name the mounted certificate files and watch their directory, so a
// rotated Secret reaches Envoy without a restart.
func TestBootstrapSotWJSONAndMTLS(t *testing.T) {
	dir := t.TempDir()
	outFile := filepath.Join(dir, "envoy.json")
	code, _, stderr := runCLI(t, "bootstrap", "--xds-address", "10.0.0.5:18000", "--node-id", "n", "-o", "json", "--out-file", outFile,
		"--xds-transport", "sotw", "--xds-tls-cert", "/etc/xds/tls.crt", "--xds-tls-key", "/etc/xds/tls.key", "--xds-tls-ca", "/etc/xds-ca/ca.crt")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	b := parseBootstrap(t, string(out), false)
	if b.GetDynamicResources().GetAdsConfig().GetApiType() != corev3.ApiConfigSource_GRPC {
		t.Error("--xds-transport sotw must give GRPC")
	}
	xds := b.GetStaticResources().GetClusters()[0]
	if xds.GetType().String() != "STATIC" {
		t.Errorf("an IP address needs no DNS: type %v", xds.GetType())
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := xds.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx); err != nil {
		t.Fatalf("no upstream TLS context: %v", err)
	}
	common := ctx.GetCommonTlsContext()
	if len(common.GetTlsCertificates()) != 0 || common.GetValidationContext() != nil || ctx.GetSni() != "10.0.0.5" {
		t.Errorf("the certificate and CA must come over SDS, not inline: %v", ctx)
	}
	certSDS, caSDS := common.GetTlsCertificateSdsSecretConfigs(), common.GetValidationContextSdsSecretConfig()
	if len(certSDS) != 1 {
		t.Fatalf("client certificate SDS configs: %v", certSDS)
	}
	cert := sdsFileSecret(t, certSDS[0]).GetTlsCertificate()
	if cert.GetCertificateChain().GetFilename() != "/etc/xds/tls.crt" || cert.GetPrivateKey().GetFilename() != "/etc/xds/tls.key" ||
		cert.GetWatchedDirectory().GetPath() != "/etc/xds" {
		t.Errorf("client certificate secret = %v", cert)
	}
	ca := sdsFileSecret(t, caSDS).GetValidationContext()
	if ca.GetTrustedCa().GetFilename() != "/etc/xds-ca/ca.crt" || ca.GetWatchedDirectory().GetPath() != "/etc/xds-ca" {
		t.Errorf("CA secret = %v", ca)
	}
}

// sdsFileSecret reads the secret an SDS config points at: a file that
// exists, with one valid secret of the config's name.
func sdsFileSecret(t *testing.T, c *tlsv3.SdsSecretConfig) *tlsv3.Secret {
	t.Helper()
	src := c.GetSdsConfig().GetPathConfigSource()
	if !filepath.IsAbs(src.GetPath()) {
		t.Fatalf("SDS %s: path source %v, want an absolute path", c.GetName(), src)
	}
	data, err := os.ReadFile(src.GetPath())
	if err != nil {
		t.Fatal(err)
	}
	resp := &discoveryv3.DiscoveryResponse{}
	if err := protojson.Unmarshal(data, resp); err != nil {
		t.Fatalf("%s: %v", src.GetPath(), err)
	}
	if len(resp.GetResources()) != 1 {
		t.Fatalf("%s: %d resources", src.GetPath(), len(resp.GetResources()))
	}
	s := &tlsv3.Secret{}
	if err := resp.GetResources()[0].UnmarshalTo(s); err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateAll(); err != nil || s.GetName() != c.GetName() {
		t.Fatalf("%s: secret %q (%v), want a valid %q", src.GetPath(), s.GetName(), err, c.GetName())
	}
	return s
}

func TestBootstrapBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bootstrap", "--xds-address", "no-port"},
		{"bootstrap", "--xds-address", "h:0"},
		{"bootstrap", "--xds-transport", "rest"},
		{"bootstrap", "--xds-tls-cert", "/c"},
		{"bootstrap", "--xds-tls-cert", "/c", "--xds-tls-key", "/k", "--xds-tls-ca", "/ca"}, // no --out-file for the SDS files
		{"bootstrap", "-o", "toml"},
		{"bootstrap", "--grpc", "-o", "yaml"},
		{"bootstrap", "--grpc", "--xds-address", "no-port"},
		{"bootstrap", "--grpc", "--xds-tls-cert", "/c", "--xds-tls-key", "/k", "--xds-tls-ca", "/ca", "--xds-tls-server-name", "x"},
		{"bootstrap", "--max-heap", "lots"},
		{"bootstrap", "--max-heap", "1Mi"},
		{"bootstrap", "--admin-address", "unix:run/admin.sock"},
		{"bootstrap", "--health-address", "no-port"},
		{"bootstrap", "--stats-address", "0.0.0.0:0"},
		{"bootstrap", "--health-address", "0.0.0.0:19001", "--stats-address", "0.0.0.0:19001"},
	} {
		if code, _, stderr := runCLI(t, args...); code != 2 || !strings.HasPrefix(stderr, "fairway: ") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2", args, code, stderr)
		}
	}
}

// TestBootstrapOutFile: --out-file writes what stdout would have had, for
// an init container without a shell; --copy-binary leaves an executable
// fairway for the preStop drain.
func TestBootstrapOutFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "envoy.yaml")
	args := []string{"bootstrap", "--xds-address", "fairway:18000", "--node-id", "envoy-0"}
	_, want, _ := runCLI(t, args...)
	bin := filepath.Join(filepath.Dir(path), "fairway")
	code, out, stderr := runCLI(t, append(args, "--out-file", path, "--copy-binary", bin)...)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, stderr)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("file differs from stdout:\n%s\nvs\n%s", got, want)
	}
	parseBootstrap(t, string(got), true)
	self, _ := os.Executable()
	want2, _ := os.Stat(self)
	if st, err := os.Stat(bin); err != nil || st.Size() != want2.Size() || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("--copy-binary: %v, %v; want an executable copy of %d bytes", st, err, want2.Size())
	}
}

func TestSumListenerConnections(t *testing.T) {
	stats := "listener.0.0.0.0_80.downstream_cx_active: 3\nlistener.admin.downstream_cx_active: 1\n" +
		"listener.0.0.0.0_5432.downstream_cx_active: 2\nlistener.0.0.0.0_80.downstream_cx_total: 90\n" +
		"listener.fairway_health.downstream_cx_active: 4\nlistener.fairway_stats.downstream_cx_active: 1\n"
	n, err := sumListenerConnections(strings.NewReader(stats))
	if err != nil || n != 5 {
		t.Errorf("sum = %d, %v; want 5 (the admin, health and stats listeners' connections excluded)", n, err)
	}
	if _, err := sumListenerConnections(strings.NewReader("listener.x.downstream_cx_active: many\n")); err == nil {
		t.Error("a malformed value must be an error")
	}
}

// TestBootstrapGRPC: --grpc prints the JSON gRPC libraries read, with the
// node marked proxyless, the empty locality grpc-js requires, the server
// listener template, and TLS channel credentials when mTLS is asked for.
// (The grpc-go tests in tests/ run on this very output.)
func TestBootstrapGRPC(t *testing.T) {
	code, out, stderr := runCLI(t, "bootstrap", "--grpc", "--xds-address", "fairway.fairway-system.svc:18000", "--node-id", "app-0",
		"--xds-tls-cert", "/tls/tls.crt", "--xds-tls-key", "/tls/tls.key", "--xds-tls-ca", "/tls/ca.crt")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var b struct {
		XDSServers []struct {
			ServerURI    string `json:"server_uri"`
			ChannelCreds []struct {
				Type   string            `json:"type"`
				Config map[string]string `json:"config"`
			} `json:"channel_creds"`
			ServerFeatures []string `json:"server_features"`
		} `json:"xds_servers"`
		Node struct {
			ID       string          `json:"id"`
			Cluster  string          `json:"cluster"`
			Locality *struct{}       `json:"locality"`
			Metadata map[string]bool `json:"metadata"`
		} `json:"node"`
		Template string `json:"server_listener_resource_name_template"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := b.XDSServers[0]
	if s.ServerURI != "fairway.fairway-system.svc:18000" || !slices.Contains(s.ServerFeatures, "xds_v3") {
		t.Errorf("xds server = %+v", s)
	}
	if c := s.ChannelCreds[0]; c.Type != "tls" || c.Config["ca_certificate_file"] != "/tls/ca.crt" ||
		c.Config["certificate_file"] != "/tls/tls.crt" || c.Config["private_key_file"] != "/tls/tls.key" || c.Config["refresh_interval"] != "60s" {
		t.Errorf("channel creds = %+v", c)
	}
	if b.Node.ID != "app-0" || b.Node.Locality == nil || !b.Node.Metadata["fairway.dev/proxyless"] {
		t.Errorf("node = %+v", b.Node)
	}
	if b.Template != "grpc/server?xds.resource.listening_address=%s" {
		t.Errorf("server listener template = %q", b.Template)
	}
}

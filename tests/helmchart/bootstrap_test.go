package helmchart

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/encoding/protojson"
	appsv1 "k8s.io/api/apps/v1"

	// The bootstrap's typed configs (overload manager, resource monitors,
	// filters) decode only with their types registered, as fairway has them.
	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/tests/bootstrapfile"
)

// buildFairway builds the fairway CLI of this tree, in its own module.
func buildFairway(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fairway")
	build := exec.Command("go", "build", "-o", bin, "./cmd/fairway")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build fairway: %v\n%s", err, out)
	}
	return bin
}

// runBootstrap runs the real `fairway bootstrap` with a fleet's init
// container arguments, as the pod would on node edge-0, and decodes and
// validates what it writes.
func runBootstrap(t *testing.T, fairway string, ds *appsv1.DaemonSet) (*bootstrapv3.Bootstrap, string) {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "envoy.yaml")
	var args []string
	for _, a := range containerOf(t, ds.Spec.Template.Spec, "bootstrap").Args {
		switch {
		case strings.HasPrefix(a, "--out-file="):
			a = "--out-file=" + out
		case strings.HasPrefix(a, "--copy-binary="):
			continue
		}
		args = append(args, strings.ReplaceAll(a, "$(NODE_NAME)", "edge-0"))
	}
	if msg, err := exec.Command(fairway, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: fairway %v: %v\n%s", ds.Name, args, err, msg)
	}
	b, err := bootstrapfile.Read(out)
	if err != nil {
		t.Fatalf("%s: %v", ds.Name, err)
	}
	return b, dir
}

// sdsSecret reads the secret of an SDS file the bootstrap wrote beside
// itself, as Envoy would, and validates it.
func sdsSecret(t *testing.T, dir, name string) *tlsv3.Secret {
	t.Helper()
	js, err := os.ReadFile(filepath.Join(dir, envoy.SDSFileName(name)))
	if err != nil {
		t.Fatal(err)
	}
	resp := &discoveryv3.DiscoveryResponse{}
	if err := protojson.Unmarshal(js, resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.GetResources()) != 1 {
		t.Fatalf("SDS file %s: %d resources, want 1", name, len(resp.GetResources()))
	}
	s := &tlsv3.Secret{}
	if err := resp.GetResources()[0].UnmarshalTo(s); err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateAll(); err != nil || s.GetName() != name {
		t.Fatalf("SDS file %s: secret %q: %v", name, s.GetName(), err)
	}
	return s
}

// TestFleetBootstrapsRun: each fleet's init container arguments, as the
// chart renders them for two node groups with mTLS, are accepted by the
// real `fairway bootstrap`, and make a valid bootstrap whose node cluster
// is the group and whose xDS connection presents the mounted client
// certificate, trusts the mounted CA and asks for fairway's Service name.
func TestFleetBootstrapsRun(t *testing.T) {
	fairway := buildFairway(t)
	objs := render(t, map[string]any{
		"certificates": map[string]any{"source": "certgen"},
		"fleet":        map[string]any{"nodeGroups": []any{map[string]any{"name": "public"}, map[string]any{"name": "internal"}}},
	})
	for _, group := range []string{"public", "internal"} {
		ds := find[appsv1.DaemonSet](t, objs, "DaemonSet", namespace, "fairway-envoy-"+group)
		b, dir := runBootstrap(t, fairway, ds)
		if got := b.GetNode().GetCluster(); got != group {
			t.Errorf("%s: node cluster %q, want %q", ds.Name, got, group)
		}
		xds := b.GetStaticResources().GetClusters()[0]
		tlsCtx := &tlsv3.UpstreamTlsContext{}
		if err := xds.GetTransportSocket().GetTypedConfig().UnmarshalTo(tlsCtx); err != nil {
			t.Fatalf("%s: the xDS cluster %s has no TLS: %v", ds.Name, xds.GetName(), err)
		}
		// The certificate and CA come over file-based SDS, so that Envoy
		// rereads them when the kubelet swaps the mounted Secret.
		cert := sdsSecret(t, dir, envoy.XDSClientCertSecret).GetTlsCertificate()
		ca := sdsSecret(t, dir, envoy.XDSServerCASecret).GetValidationContext()
		got := []string{
			cert.GetCertificateChain().GetFilename(),
			cert.GetPrivateKey().GetFilename(),
			ca.GetTrustedCa().GetFilename(),
		}
		want := []string{"/etc/fairway/xds-tls/tls.crt", "/etc/fairway/xds-tls/tls.key", "/etc/fairway/xds-tls/ca.crt"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: the bootstrap reads %v, want the mounted Secret's %v", ds.Name, got, want)
		}
		if sni := tlsCtx.GetSni(); sni != "fairway."+namespace+".svc.cluster.local" {
			t.Errorf("%s: SNI %q, want fairway's Service name", ds.Name, sni)
		}
	}
	none := render(t, map[string]any{"certificates": map[string]any{"source": "none"}})
	plain, _ := runBootstrap(t, fairway, find[appsv1.DaemonSet](t, none, "DaemonSet", namespace, "fairway-envoy"))
	if plain.GetNode().GetCluster() != "fairway" || plain.GetStaticResources().GetClusters()[0].GetTransportSocket() != nil {
		t.Errorf("the default fleet: node cluster %q, transport socket %v; want fairway and plaintext",
			plain.GetNode().GetCluster(), plain.GetStaticResources().GetClusters()[0].GetTransportSocket())
	}
}

package tests

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/pki"
	"github.com/fairwayhq/fairway/tests/kubeapi"
)

const system = "fairway-system"

// applyInstall applies manifests/kubernetes to the test API server, and
// removes it when the test ends.
func applyInstall(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	kubectl(t, "apply", "-f", "../manifests/kubernetes/namespace.yaml", "--server-side")
	kubectl(t, "apply", "-k", "../manifests/kubernetes", "--server-side")
	t.Cleanup(func() {
		exec.Command(filepath.Join(kubeapi.BinDir(), "kubectl"), "--kubeconfig", controlPlane.Kubeconfig(),
			"delete", "-k", "../manifests/kubernetes", "--wait=false", "--ignore-not-found").Run()
		purgeNamespace(t, cs, system)
	})
}

// kubeconfigOf runs as a ServiceAccount of fairway-system, with exactly
// the RBAC the install grants it.
func kubeconfigOf(t *testing.T, sa string) string {
	t.Helper()
	kc, err := controlPlane.KubeconfigAs("system:serviceaccount:"+system+":"+sa, "system:serviceaccounts",
		"system:serviceaccounts:"+system, "system:authenticated")
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// runInstalledCertgen runs the certgen container of a Job's pod template
// as the Job would: its args, POD_NAMESPACE, its ServiceAccount's RBAC.
// It returns the write requests certgen counted.
func runInstalledCertgen(t *testing.T, spec corev1.PodSpec) int {
	t.Helper()
	c := spec.Containers[0]
	cmd := exec.Command(fairwayBin, append(slices.Clone(c.Args), "--kubeconfig", kubeconfigOf(t, spec.ServiceAccountName))...)
	cmd.Env = append(os.Environ(), "POD_NAMESPACE="+system)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("certgen %v: %v\n%s", c.Args, err, out)
	}
	for line := range strings.Lines(string(out)) {
		var e struct {
			Message string `json:"@message"`
			Writes  int    `json:"write_requests"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Message == "certgen done" {
			return e.Writes
		}
	}
	t.Fatalf("certgen did not report its writes:\n%s", out)
	return 0
}

// materialize writes the Secrets that a container mounts under root, at
// their mount paths, as the kubelet would, and returns args with every
// mount path moved under root.
func materialize(t *testing.T, cs kubernetes.Interface, spec corev1.PodSpec, c corev1.Container, root string, args []string) []string {
	t.Helper()
	out := slices.Clone(args)
	for path, secret := range secretMounts(spec, c) {
		s, err := cs.CoreV1().Secrets(system).Get(context.Background(), secret, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s mounts Secret %s: %v", c.Name, secret, err)
		}
		dir := filepath.Join(root, path)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for key, value := range s.Data {
			if err := os.WriteFile(filepath.Join(dir, key), value, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		for i, a := range out {
			out[i] = strings.ReplaceAll(a, path+"/", dir+"/")
		}
	}
	return out
}

// fetchListeners opens an ADS stream with creds and waits for listeners.
func fetchListeners(addr string, creds credentials.TransportCredentials) (*discoveryv3.DiscoveryResponse, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "edge-0", Cluster: "fairway"}, TypeUrl: resourcev3.ListenerType}); err != nil {
		return nil, err
	}
	return stream.Recv()
}

// TestKubeInstallServesXDSOnlyOverMTLS: the install, applied to a real API
// server, with certgen run from its own Job (and then its CronJob, which
// finds nothing to do) as its own ServiceAccount, gives a fairway started
// with the Deployment's own arguments and mounted Secrets that serves xDS
// only over mTLS: a plaintext client, a TLS client without a certificate,
// and one with a fleet certificate from another CA get nothing; the
// fleet's mounted certificate gets the snapshot; and the fleet's init
// container writes a bootstrap whose xDS cluster uses those mounted files.
// fairway watches the cluster as its own ServiceAccount.
func TestKubeInstallServesXDSOnlyOverMTLS(t *testing.T) {
	cs := kubeClient(t)
	applyInstall(t, cs)
	ctx := context.Background()
	job, err := cs.BatchV1().Jobs(system).Get(ctx, "fairway-certgen", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runInstalledCertgen(t, job.Spec.Template.Spec)
	renew, err := cs.BatchV1().CronJobs(system).Get(ctx, "fairway-certgen-renew", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := runInstalledCertgen(t, renew.Spec.JobTemplate.Spec.Template.Spec); n != 0 {
		t.Errorf("the renewal CronJob right after the Job made %d writes, want none", n)
	}

	deploy, err := cs.AppsV1().Deployments(system).Get(ctx, "fairway", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := deploy.Spec.Template.Spec
	fw := container(t, spec, "fairway", false)
	var args []string
	for _, a := range materialize(t, cs, spec, fw, t.TempDir(), fw.Args) {
		name, _, _ := strings.Cut(a, "=")
		if a == "serve" || slices.Contains([]string{"--xds-address", "--admin-address", "--health-address"}, name) {
			continue // serveproc puts xDS and admin on loopback ports of its own
		}
		args = append(args, a)
	}
	createLBService(t, cs, newNamespace(t, cs), "db", 5433)
	f := startFairwayArgs(t, append(args, "--kubeconfig", kubeconfigOf(t, spec.ServiceAccountName), "--fairway-namespace", system)...)

	fleet, err := cs.AppsV1().DaemonSets(system).Get(ctx, "fairway-envoy", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fspec := fleet.Spec.Template.Spec
	envoyRoot := t.TempDir()
	boot := container(t, fspec, "bootstrap", true)
	bootArgs := materialize(t, cs, fspec, container(t, fspec, "envoy", false), envoyRoot, boot.Args)
	host, _, err := net.SplitHostPort(argValue(boot.Args, "--xds-address", ""))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(argValue(bootArgs, "--xds-tls-cert", ""), argValue(bootArgs, "--xds-tls-key", ""))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(argValue(bootArgs, "--xds-tls-ca", ""))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)

	resp, err := fetchListeners(f.xds, credentials.NewTLS(&tls.Config{RootCAs: roots, ServerName: host, Certificates: []tls.Certificate{pair}}))
	if err != nil || len(resp.GetResources()) != 1 {
		t.Fatalf("the fleet's certificate: %v, %d listeners, want the Service's", err, len(resp.GetResources()))
	}
	if _, err := fetchListeners(f.xds, insecure.NewCredentials()); err == nil {
		t.Error("a plaintext client got listeners")
	}
	if _, err := fetchListeners(f.xds, credentials.NewTLS(&tls.Config{RootCAs: roots, ServerName: host})); err == nil {
		t.Error("a TLS client without a certificate got listeners")
	}
	if _, err := fetchListeners(f.xds, credentials.NewTLS(&tls.Config{RootCAs: roots, ServerName: host, Certificates: []tls.Certificate{foreignFleetCert(t)}})); err == nil {
		t.Error("a fleet certificate from another CA got listeners")
	}
	checkFleetBootstrapUsesMounts(t, boot.Args)
}

func foreignFleetCert(t *testing.T) tls.Certificate {
	t.Helper()
	ca, err := pki.NewCA("another", 24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(pki.FleetLeaf(pki.DefaultTrustDomain), time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// checkFleetBootstrapUsesMounts runs the init container's own arguments
// and checks that the ADS cluster is TLS, with the client certificate, key
// and CA read from the paths where the Secret is mounted (in the bootstrap
// or in a file it writes beside it).
func checkFleetBootstrapUsesMounts(t *testing.T, bootArgs []string) {
	t.Helper()
	dir := t.TempDir()
	var args []string
	for _, a := range bootArgs {
		switch {
		case strings.HasPrefix(a, "--out-file="):
			a = "--out-file=" + filepath.Join(dir, filepath.Base(strings.TrimPrefix(a, "--out-file=")))
		case strings.HasPrefix(a, "--copy-binary="):
			continue
		}
		args = append(args, strings.ReplaceAll(a, "$(NODE_NAME)", "edge-0"))
	}
	if msg, err := exec.Command(fairwayBin, args...).CombinedOutput(); err != nil {
		t.Fatalf("fairway %v: %v\n%s", args, err, msg)
	}
	data, err := os.ReadFile(argValue(args, "--out-file", ""))
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	b := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(js, b); err != nil {
		t.Fatal(err)
	}
	ads := b.GetDynamicResources().GetAdsConfig().GetGrpcServices()
	if len(ads) != 1 {
		t.Fatalf("ADS services %v", ads)
	}
	name := ads[0].GetEnvoyGrpc().GetClusterName()
	var written strings.Builder
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() == name {
			if c.GetTransportSocket().GetName() != "envoy.transport_sockets.tls" {
				t.Fatalf("the xDS cluster %s is not TLS: %v", name, c.GetTransportSocket())
			}
			written.WriteString(protojson.Format(c))
		}
	}
	if written.Len() == 0 {
		t.Fatalf("no static cluster %s", name)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries { // an SDS config beside the bootstrap
		if more, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			written.Write(more)
		}
	}
	for _, flag := range []string{"--xds-tls-cert", "--xds-tls-key", "--xds-tls-ca"} {
		if path := argValue(bootArgs, flag, ""); path == "" || !strings.Contains(written.String(), path) {
			t.Errorf("the fleet's xDS cluster does not read %s %q", flag, path)
		}
	}
}

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
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/pki"
	"github.com/fairwayhq/fairway/source/kube"
	"github.com/fairwayhq/fairway/tests/kubeapi"

	"github.com/fairwayhq/fairway/envoy"
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
		for key, value := range s.Data { // replaced whole, as the kubelet does
			writeFile(t, filepath.Join(dir, key), string(value))
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

// checkInstallListeners: the installed fairway serves the listener of the
// test's LoadBalancer Service (port 5433) and the http listener, which
// exists while the install's IngressClass does, so that a request that
// matches no Ingress gets a 404.
func checkInstallListeners(t *testing.T, resp *discoveryv3.DiscoveryResponse) {
	t.Helper()
	var names []string
	for _, a := range resp.GetResources() {
		l := &listenerv3.Listener{}
		if err := a.UnmarshalTo(l); err != nil {
			t.Fatal(err)
		}
		names = append(names, l.GetName())
	}
	slices.Sort(names)
	if want := []string{envoy.HTTPListenerName, envoy.TCPListenerName(5433)}; !slices.Equal(names, want) {
		t.Fatalf("the installed fairway serves listeners %v, want %v", names, want)
	}
}

// installed is fairway run as the install runs it, against the test API
// server.
type installed struct {
	cs       kubernetes.Interface
	f        *fairway
	certgen  corev1.PodSpec // the Job's pod
	fairway  corev1.PodSpec // the Deployment's pod
	fleet    corev1.PodSpec // the DaemonSet's pod
	fwRoot   string         // where fairway's Secret is "mounted"
	xdsHost  string         // the name the fleet dials fairway by
	bootArgs []string       // the fleet's init container's own args
}

// startInstalled applies the install, runs certgen from its Job and then
// its CronJob (which must find nothing to do) as its own ServiceAccount,
// and starts fairway with the Deployment's own args, its mounted Secret
// and its ServiceAccount's RBAC, with a LoadBalancer Service to serve.
func startInstalled(t *testing.T) *installed {
	t.Helper()
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
	fleet, err := cs.AppsV1().DaemonSets(system).Get(ctx, "fairway-envoy", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := &installed{cs: cs, certgen: job.Spec.Template.Spec, fairway: deploy.Spec.Template.Spec, fleet: fleet.Spec.Template.Spec, fwRoot: t.TempDir()}
	fw := container(t, in.fairway, "fairway", false)
	var args []string
	for _, a := range materialize(t, cs, in.fairway, fw, in.fwRoot, fw.Args) {
		name, _, _ := strings.Cut(a, "=")
		if a == "serve" || slices.Contains([]string{"--xds-address", "--admin-address", "--health-address"}, name) {
			continue // serveproc puts xDS and admin on loopback ports of its own
		}
		args = append(args, a)
	}
	createLBService(t, cs, newNamespace(t, cs), "db", 5433)
	in.f = startFairwayArgs(t, append(args, "--kubeconfig", kubeconfigOf(t, in.fairway.ServiceAccountName), "--fairway-namespace", system)...)
	in.bootArgs = container(t, in.fleet, "bootstrap", true).Args
	if in.xdsHost, _, err = net.SplitHostPort(argValue(in.bootArgs, "--xds-address", "")); err != nil {
		t.Fatal(err)
	}
	return in
}

// fleetTLS is the TLS config of a fleet Envoy: the Secret its Envoy
// container mounts, at the paths its bootstrap names, written now.
func (in *installed) fleetTLS(t *testing.T) *tls.Config {
	t.Helper()
	args := materialize(t, in.cs, in.fleet, container(t, in.fleet, "envoy", false), t.TempDir(), in.bootArgs)
	pair, err := tls.LoadX509KeyPair(argValue(args, "--xds-tls-cert", ""), argValue(args, "--xds-tls-key", ""))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(argValue(args, "--xds-tls-ca", ""))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	return &tls.Config{RootCAs: roots, ServerName: in.xdsHost, Certificates: []tls.Certificate{pair}}
}

// TestKubeInstallServesXDSOnlyOverMTLS: the install, applied to a real API
// server and run as it runs (startInstalled), serves xDS only over mTLS: a
// plaintext client, a TLS client without a certificate, and one with a
// fleet certificate from another CA get nothing; the fleet's mounted
// certificate gets the snapshot; and the fleet's init container writes a
// bootstrap whose xDS cluster uses those mounted files.
func TestKubeInstallServesXDSOnlyOverMTLS(t *testing.T) {
	in := startInstalled(t)
	fleet := in.fleetTLS(t)
	resp, err := fetchListeners(in.f.xds, credentials.NewTLS(fleet))
	if err != nil {
		t.Fatalf("the fleet's certificate: %v", err)
	}
	checkInstallListeners(t, resp)
	if _, err := fetchListeners(in.f.xds, insecure.NewCredentials()); err == nil {
		t.Error("a plaintext client got listeners")
	}
	noCert := fleet.Clone()
	noCert.Certificates = nil
	if _, err := fetchListeners(in.f.xds, credentials.NewTLS(noCert)); err == nil {
		t.Error("a TLS client without a certificate got listeners")
	}
	foreign := fleet.Clone()
	foreign.Certificates = []tls.Certificate{foreignFleetCert(t)}
	if _, err := fetchListeners(in.f.xds, credentials.NewTLS(foreign)); err == nil {
		t.Error("a fleet certificate from another CA got listeners")
	}
	checkFleetBootstrapUsesMounts(t, in.bootArgs)
}

// TestKubeInstallRenewal: certgen re-issues the leaves from the same CA,
// the kubelet swaps the mounted files, and fairway serves its new
// certificate without a restart; the fleet's old certificate (same CA)
// and its new one both connect.
func TestKubeInstallRenewal(t *testing.T) {
	in := startInstalled(t)
	old := in.fleetTLS(t)
	served := servedCert(t, in.f.xds, old)
	runInstalledCertgen(t, withArgs(in.certgen, "--cert-validity=8761h", "--renew-before=8760h"))
	materialize(t, in.cs, in.fairway, container(t, in.fairway, "fairway", false), in.fwRoot, nil)
	renewed, err := in.cs.CoreV1().Secrets(system).Get(context.Background(), kube.ServerSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := parsePair(t, renewed).Cert
	if want.Equal(served) {
		t.Fatal("certgen did not renew fairway's certificate")
	}
	eventually(t, 5*time.Second, "fairway serving the renewed certificate", func() bool {
		return servedCert(t, in.f.xds, old).Equal(want)
	})
	fresh := in.fleetTLS(t)
	if fresh.Certificates[0].Leaf.Equal(old.Certificates[0].Leaf) {
		t.Fatal("the fleet's certificate was not renewed")
	}
	resp, err := fetchListeners(in.f.xds, credentials.NewTLS(fresh))
	if err != nil {
		t.Fatalf("the fleet's renewed certificate: %v", err)
	}
	checkInstallListeners(t, resp)
}

// servedCert is the certificate fairway presents to a client with cfg.
func servedCert(t *testing.T, addr string, cfg *tls.Config) *x509.Certificate {
	t.Helper()
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"h2"}
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS to fairway: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0]
}

// withArgs is a copy of a pod spec whose first container has extra args.
func withArgs(spec corev1.PodSpec, extra ...string) corev1.PodSpec {
	spec = *spec.DeepCopy()
	spec.Containers[0].Args = append(spec.Containers[0].Args, extra...)
	return spec
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

// TestKubeCertgenProxylessNamespaceRBAC: the install's certgen may not
// write in another namespace, and the Role and RoleBinding the README
// gives for a proxyless namespace are enough for it to issue that
// namespace's client certificate.
func TestKubeCertgenProxylessNamespaceRBAC(t *testing.T) {
	cs := kubeClient(t)
	applyInstall(t, cs)
	ctx := context.Background()
	job, err := cs.BatchV1().Jobs(system).Get(ctx, "fairway-certgen", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	apps := newNamespace(t, cs)
	spec := withArgs(job.Spec.Template.Spec, "--proxyless-namespace="+apps)
	c := spec.Containers[0]
	cmd := exec.Command(fairwayBin, append(slices.Clone(c.Args), "--kubeconfig", kubeconfigOf(t, spec.ServiceAccountName))...)
	cmd.Env = append(os.Environ(), "POD_NAMESPACE="+system)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "forbidden") {
		t.Fatalf("certgen wrote in %s without a Role there: %v\n%s", apps, err, out)
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "fairway-certgen", Namespace: apps},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "create", "update", "patch"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "fairway-certgen", Namespace: apps},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "fairway-certgen"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "fairway-certgen", Namespace: system}},
	}
	create(t, func(ctx context.Context) error {
		if _, err := cs.RbacV1().Roles(apps).Create(ctx, role, metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.RbacV1().RoleBindings(apps).Create(ctx, binding, metav1.CreateOptions{})
		return err
	})
	runInstalledCertgen(t, spec)
	s, err := cs.CoreV1().Secrets(apps).Get(ctx, kube.ProxylessSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if uris := parsePair(t, s).Cert.URIs; len(uris) != 1 || uris[0].String() != pki.ProxylessID(pki.DefaultTrustDomain, apps) {
		t.Errorf("%s/%s names %v", apps, kube.ProxylessSecret, uris)
	}
}

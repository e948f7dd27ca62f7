package tests

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fairwayhq/fairway/pki"
	"github.com/fairwayhq/fairway/source/kube"
)

// certgenRun is one `fairway certgen` process's outcome.
type certgenRun struct {
	changed []string // the "namespace/name: reason" lines it printed
	writes  int      // its create/update/patch/delete requests
	err     error
	logs    string
}

// runCertgen runs certgen against the test API server, as the install's
// Job does, with its Secrets in ns.
func runCertgen(t *testing.T, ns string, extra ...string) certgenRun {
	t.Helper()
	args := append([]string{"certgen", "--kubeconfig", controlPlane.Kubeconfig(), "--namespace", ns, "--log-json"}, extra...)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(fairwayBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := certgenRun{err: cmd.Run(), logs: stderr.String(), writes: -1}
	for line := range strings.Lines(stdout.String()) {
		r.changed = append(r.changed, strings.TrimSpace(line))
	}
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		var e struct {
			Message string `json:"@message"`
			Writes  int    `json:"write_requests"`
		}
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Message == "certgen done" {
			r.writes = e.Writes
		}
	}
	return r
}

func mustCertgen(t *testing.T, ns string, extra ...string) certgenRun {
	t.Helper()
	r := runCertgen(t, ns, extra...)
	if r.err != nil || r.writes < 0 {
		t.Fatalf("certgen %v: %v\n%s", extra, r.err, r.logs)
	}
	return r
}

// certSecrets reads the Secrets certgen keeps: name → Secret.
func certSecrets(t *testing.T, cs kubernetes.Interface, refs ...string) map[string]*corev1.Secret {
	t.Helper()
	out := map[string]*corev1.Secret{}
	for _, ref := range refs {
		ns, name, _ := strings.Cut(ref, "/")
		s, err := cs.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		out[ref] = s
	}
	return out
}

func parsePair(t *testing.T, s *corev1.Secret) *pki.KeyPair {
	t.Helper()
	kp, err := pki.ParseKeyPair(s.Data["tls.crt"], s.Data["tls.key"])
	if err != nil {
		t.Fatalf("%s/%s: %v", s.Namespace, s.Name, err)
	}
	return kp
}

// checkChains: every leaf Secret chains to the CA in caSecret, carries
// that CA as ca.crt, and names the identity it is for.
func checkChains(t *testing.T, secrets map[string]*corev1.Secret, caRef string, ids map[string]string) {
	t.Helper()
	ca := parsePair(t, secrets[caRef])
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for ref, id := range ids {
		s := secrets[ref]
		leaf := parsePair(t, s)
		if !bytes.Equal(s.Data["ca.crt"], secrets[caRef].Data["tls.crt"]) {
			t.Errorf("%s: ca.crt is not the CA", ref)
		}
		if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Errorf("%s does not chain to the CA: %v", ref, err)
		}
		if len(leaf.Cert.URIs) != 1 || leaf.Cert.URIs[0].String() != id {
			t.Errorf("%s names %v, want %s", ref, leaf.Cert.URIs, id)
		}
	}
}

func resourceVersions(m map[string]*corev1.Secret) map[string]string {
	out := map[string]string{}
	for k, s := range m {
		out[k] = s.ResourceVersion
	}
	return out
}

// TestKubeCertgen: the first run creates the CA and every certificate; a
// second writes nothing at all; certificates inside the renewal window,
// or naming another trust domain, are re-issued from the same CA; and a
// deleted CA is replaced and every certificate re-issued from the new one.
func TestKubeCertgen(t *testing.T) {
	sc := newCertgenScene(t)
	// A month-long leaf: the default 30-day window will find it expiring.
	first := mustCertgen(t, sc.ns, append(sc.prox, "--cert-validity=720h", "--renew-before=1h")...)
	if len(first.changed) != 4 || first.writes != 4 {
		t.Fatalf("first run: changed %v with %d writes, want the 4 Secrets created", first.changed, first.writes)
	}
	created := certSecrets(t, sc.cs, sc.all...)
	checkChains(t, created, sc.caRef, sc.ids)
	if created[sc.caRef].Type != corev1.SecretTypeOpaque || created[sc.fleetRef].Type != corev1.SecretTypeTLS {
		t.Errorf("types: CA %s, fleet %s", created[sc.caRef].Type, created[sc.fleetRef].Type)
	}
	if srv := parsePair(t, created[sc.srvRef]).Cert; !slices.Contains(srv.DNSNames, "fairway."+sc.ns+".svc") {
		t.Errorf("server certificate DNS names %v", srv.DNSNames)
	}

	again := mustCertgen(t, sc.ns, append(sc.prox, "--cert-validity=720h", "--renew-before=1h")...)
	if len(again.changed) != 0 || again.writes != 0 {
		t.Fatalf("second run: changed %v with %d writes, want nothing", again.changed, again.writes)
	}
	if got := resourceVersions(certSecrets(t, sc.cs, sc.all...)); !maps.Equal(got, resourceVersions(created)) {
		t.Fatalf("second run changed resourceVersions: %v, was %v", got, resourceVersions(created))
	}

	sc.renewKeepingCA(t, created)

	moved := mustCertgen(t, sc.ns, append(sc.prox, "--trust-domain=example.org")...)
	if len(moved.changed) != 3 {
		t.Errorf("a new trust domain re-issued %v, want the 3 leaves", moved.changed)
	}
	checkChains(t, certSecrets(t, sc.cs, sc.all...), sc.caRef, map[string]string{
		sc.srvRef: pki.ControlPlaneID("example.org"), sc.fleetRef: pki.FleetID("example.org"), sc.appRef: pki.ProxylessID("example.org", sc.apps),
	})

	if err := sc.cs.CoreV1().Secrets(sc.ns).Delete(context.Background(), kube.CASecret, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	fresh := mustCertgen(t, sc.ns, sc.prox...)
	if len(fresh.changed) != 4 {
		t.Fatalf("after deleting the CA: changed %v, want a new CA and the 3 leaves", fresh.changed)
	}
	replaced := certSecrets(t, sc.cs, sc.all...)
	checkChains(t, replaced, sc.caRef, sc.ids)
	if bytes.Equal(replaced[sc.caRef].Data["tls.crt"], created[sc.caRef].Data["tls.crt"]) {
		t.Error("the CA was not replaced")
	}
}

// certgenScene is a namespace for certgen's Secrets and one proxyless
// namespace, with the "namespace/name" of each Secret.
type certgenScene struct {
	cs                              kubernetes.Interface
	ns, apps                        string
	caRef, srvRef, fleetRef, appRef string
	all, leaves, prox               []string
	ids                             map[string]string // leaf → identity
}

func newCertgenScene(t *testing.T) *certgenScene {
	t.Helper()
	cs := kubeClient(t)
	ns, apps := newNamespace(t, cs), newNamespace(t, cs)
	sc := &certgenScene{cs: cs, ns: ns, apps: apps, caRef: ns + "/" + kube.CASecret, srvRef: ns + "/" + kube.ServerSecret,
		fleetRef: ns + "/" + kube.FleetSecret, appRef: apps + "/" + kube.ProxylessSecret, prox: []string{"--proxyless-namespace", apps}}
	sc.leaves = []string{sc.srvRef, sc.fleetRef, sc.appRef}
	sc.all = append([]string{sc.caRef}, sc.leaves...)
	sc.ids = map[string]string{sc.srvRef: pki.ControlPlaneID("fairway"), sc.fleetRef: pki.FleetID("fairway"), sc.appRef: pki.ProxylessID("fairway", apps)}
	return sc
}

// renewKeepingCA: leaves inside the default 30-day window are re-issued,
// and the CA is not touched.
func (sc *certgenScene) renewKeepingCA(t *testing.T, created map[string]*corev1.Secret) {
	t.Helper()
	renewed := mustCertgen(t, sc.ns, sc.prox...) // defaults: a 30-day window
	if len(renewed.changed) != 3 || renewed.writes != 3 {
		t.Fatalf("renewal: changed %v with %d writes, want the 3 leaves", renewed.changed, renewed.writes)
	}
	after := certSecrets(t, sc.cs, sc.all...)
	if after[sc.caRef].ResourceVersion != created[sc.caRef].ResourceVersion {
		t.Error("renewing the leaves rewrote the CA")
	}
	checkChains(t, after, sc.caRef, sc.ids)
	for _, ref := range sc.leaves {
		if parsePair(t, after[ref]).Cert.SerialNumber.Cmp(parsePair(t, created[ref]).Cert.SerialNumber) == 0 {
			t.Errorf("%s was not re-issued", ref)
		}
	}
}

// TestKubeCertgenRace: certgen runs that race on an empty namespace end
// with one CA, and every certificate chains to it.
func TestKubeCertgenRace(t *testing.T) {
	cs := kubeClient(t)
	for round := range 3 {
		ns := newNamespace(t, cs)
		var wg sync.WaitGroup
		runs := make([]certgenRun, 4)
		for i := range runs {
			wg.Go(func() { runs[i] = runCertgen(t, ns, "--log-level=debug") })
		}
		wg.Wait()
		for i, r := range runs {
			if r.err != nil {
				t.Fatalf("round %d, run %d: %v\n%s", round, i, r.err, r.logs)
			}
		}
		refs := []string{ns + "/" + kube.CASecret, ns + "/" + kube.ServerSecret, ns + "/" + kube.FleetSecret}
		checkChains(t, certSecrets(t, cs, refs...), refs[0], map[string]string{refs[1]: pki.ControlPlaneID("fairway"), refs[2]: pki.FleetID("fairway")})
		cas, lost := 0, 0
		for _, r := range runs {
			lost += strings.Count(r.logs, "got there first")
			if slices.ContainsFunc(r.changed, func(l string) bool { return strings.HasPrefix(l, refs[0]+":") }) {
				cas++
			}
		}
		if cas != 1 {
			t.Errorf("round %d: %d runs wrote a CA, want 1", round, cas)
		}
		t.Logf("round %d: %d writes lost a race and were read again", round, lost)
	}
}

// TestKubeCertgenMissingNamespace: a proxyless namespace that does not
// exist fails the run, and every other certificate is still written.
func TestKubeCertgenMissingNamespace(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	r := runCertgen(t, ns, "--proxyless-namespace", "no-such-namespace-"+ns)
	if r.err == nil || !strings.Contains(r.logs, "no-such-namespace") {
		t.Fatalf("certgen succeeded with a missing namespace: %v\n%s", r.err, r.logs)
	}
	certSecrets(t, cs, ns+"/"+kube.CASecret, ns+"/"+kube.ServerSecret, ns+"/"+kube.FleetSecret)
	if len(r.changed) != 3 {
		t.Errorf("changed %v, want the CA and both leaves", r.changed)
	}
}

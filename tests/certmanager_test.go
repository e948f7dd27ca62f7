package tests

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/pki"
	"github.com/fairwayhq/fairway/source/kube"
	"github.com/fairwayhq/fairway/tests/kubeapi"
)

// kustomizeWith builds the install with a component, as a user's overlay
// would, with the kustomize that kubectl embeds.
func kustomizeWith(t *testing.T, component string) [][]byte {
	t.Helper()
	overlay := t.TempDir()
	rel := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := filepath.Rel(overlay, abs)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	k := "resources: [" + rel(installDir) + "]\ncomponents: [" + rel(filepath.Join(installDir, "components", component)) + "]\n"
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(kubeapi.BinDir(), "kubectl")
	if _, err := os.Stat(bin); err != nil || kubeapi.BinDir() == "" {
		t.Fatalf("no kubectl in %q: set %s (`make control-plane`)", kubeapi.BinDir(), kubeapi.EnvBins)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "kustomize", overlay)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, stderr.String())
	}
	return bytes.Split(out, []byte("\n---\n"))
}

// certificate is what the test reads of a cert-manager Certificate.
type certificate struct {
	Kind     string
	Metadata struct{ Name string }
	Spec     struct {
		IsCA       bool     `json:"isCA"`
		CommonName string   `json:"commonName"`
		SecretName string   `json:"secretName"`
		DNSNames   []string `json:"dnsNames"`
		URIs       []string `json:"uris"`
		Usages     []string `json:"usages"`
		PrivateKey struct {
			Algorithm string `json:"algorithm"`
		} `json:"privateKey"`
		IssuerRef struct{ Kind, Name string } `json:"issuerRef"`
		// an Issuer's
		SelfSigned *struct{} `json:"selfSigned"`
		CA         *struct {
			SecretName string `json:"secretName"`
		} `json:"ca"`
	}
}

// readCertManagerBuild sorts the built objects: Certificates by the Secret
// they make, Issuers by name, and the Secrets the workloads mount. Any of
// certgen's objects left in the build fails the test.
func readCertManagerBuild(t *testing.T, docs [][]byte) (certs, issuers map[string]certificate, mounted []string) {
	t.Helper()
	certs, issuers = map[string]certificate{}, map[string]certificate{}
	for _, doc := range docs {
		var c certificate
		if err := yaml.Unmarshal(doc, &c); err != nil {
			t.Fatal(err)
		}
		switch c.Kind {
		case "Job", "CronJob":
			t.Errorf("the component keeps certgen's %s %s", c.Kind, c.Metadata.Name)
		case "ServiceAccount", "Role", "RoleBinding":
			if c.Metadata.Name == "fairway-certgen" {
				t.Errorf("the component keeps certgen's %s", c.Kind)
			}
		case "Certificate":
			certs[c.Spec.SecretName] = c
		case "Issuer":
			issuers[c.Metadata.Name] = c
		case "Deployment", "DaemonSet":
			var w appsv1.DaemonSet // the pod template is all that is read
			if err := yaml.Unmarshal(doc, &w); err != nil {
				t.Fatal(err)
			}
			spec := w.Spec.Template.Spec
			for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
				for _, s := range secretMounts(spec, c) {
					mounted = append(mounted, s)
				}
			}
		}
	}
	return certs, issuers, mounted
}

// TestCertManagerComponent: the cert-manager component removes certgen's
// Job, CronJob and RBAC, and makes the Secrets that fairway and the fleet
// mount, with the names, SANs, usages and key type certgen gives them,
// from a CA Issuer whose CA is self-signed. cert-manager itself does not
// run here: this checks what it is asked for, not what it does.
func TestCertManagerComponent(t *testing.T) {
	certs, issuers, mounted := readCertManagerBuild(t, kustomizeWith(t, "cert-manager"))
	want := map[string]pki.Leaf{
		kube.ServerSecret: pki.ServerLeaf(pki.DefaultTrustDomain, "fairway", "fairway-system"),
		kube.FleetSecret:  pki.FleetLeaf(pki.DefaultTrustDomain),
	}
	for _, s := range mounted {
		if _, ok := want[s]; !ok {
			t.Errorf("the install mounts Secret %s, which no Certificate makes", s)
		}
	}
	if len(certs) != 3 {
		t.Fatalf("Certificates for %v, want %s, %s and %s", slices.Sorted(maps.Keys(certs)), kube.CASecret, kube.ServerSecret, kube.FleetSecret)
	}
	ca := certs[kube.CASecret]
	if !ca.Spec.IsCA || issuers[ca.Spec.IssuerRef.Name].Spec.SelfSigned == nil {
		t.Errorf("%s: isCA %v, issued by %q, want a CA from a self-signed Issuer", kube.CASecret, ca.Spec.IsCA, ca.Spec.IssuerRef.Name)
	}
	for secret, l := range want {
		c := certs[secret]
		usage := map[pki.Usage]string{pki.ServerAuth: "server auth", pki.ClientAuth: "client auth"}[l.Usage]
		if !slices.Equal(c.Spec.DNSNames, l.DNSNames) || !slices.Equal(c.Spec.URIs, l.URIs) || c.Spec.CommonName != l.CommonName {
			t.Errorf("%s: CN %q DNS %v URIs %v, want certgen's CN %q DNS %v URIs %v", secret,
				c.Spec.CommonName, c.Spec.DNSNames, c.Spec.URIs, l.CommonName, l.DNSNames, l.URIs)
		}
		if !slices.Contains(c.Spec.Usages, usage) || slices.Contains(c.Spec.Usages, map[string]string{"server auth": "client auth", "client auth": "server auth"}[usage]) {
			t.Errorf("%s: usages %v, want %s only", secret, c.Spec.Usages, usage)
		}
		if iss := issuers[c.Spec.IssuerRef.Name]; iss.Spec.CA == nil || iss.Spec.CA.SecretName != kube.CASecret {
			t.Errorf("%s is issued by %q, not by the CA in %s", secret, c.Spec.IssuerRef.Name, kube.CASecret)
		}
	}
	for secret, c := range certs {
		if c.Spec.PrivateKey.Algorithm != "ECDSA" {
			t.Errorf("%s: key %q, want ECDSA as certgen makes", secret, c.Spec.PrivateKey.Algorithm)
		}
	}
}

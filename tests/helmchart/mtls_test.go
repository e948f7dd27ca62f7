package helmchart

import (
	"fmt"
	"net"
	"path"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// certificate is the part of a cert-manager Certificate these tests read
// (its Go types are not a dependency).
type certificate struct {
	Metadata struct{ Name, Namespace string }
	Spec     struct {
		SecretName string
		CommonName string
		IsCA       bool
		DNSNames   []string
		URIs       []string
		Usages     []string
		IssuerRef  struct{ Group, Kind, Name string }
	}
}

// secretOfFiles checks that every --flag names a file in one directory
// that the container mounts from a Secret volume, and returns that
// Secret's name.
func secretOfFiles(t *testing.T, spec corev1.PodSpec, c corev1.Container, flags ...string) string {
	t.Helper()
	var dir string
	for _, f := range flags {
		v, ok := arg(c.Args, f)
		if !ok {
			t.Fatalf("%s has no %s: %v", c.Name, f, c.Args)
		}
		if dir != "" && path.Dir(v) != dir {
			t.Fatalf("%s: %s is not in %s", c.Name, f, dir)
		}
		dir = path.Dir(v)
	}
	for _, m := range c.VolumeMounts {
		if m.MountPath != dir {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				return v.Secret.SecretName
			}
		}
	}
	t.Fatalf("%s mounts no Secret at %s", c.Name, dir)
	return ""
}

// checkMTLSWiring: fairway serves with the server certificate and checks
// clients against its CA, and every fleet container that needs it reads
// the fleet's client certificate; the names are the contract's.
func checkMTLSWiring(t *testing.T, objs []Object, fleets ...string) {
	t.Helper()
	d := find[appsv1.Deployment](t, objs, "Deployment", namespace, "fairway")
	spec := d.Spec.Template.Spec
	if s := secretOfFiles(t, spec, containerOf(t, spec, "fairway"), "--xds-tls-cert", "--xds-tls-key", "--xds-tls-client-ca"); s != "fairway-xds-server" {
		t.Errorf("fairway serves with Secret %s, want fairway-xds-server", s)
	}
	for _, name := range fleets {
		ds := find[appsv1.DaemonSet](t, objs, "DaemonSet", namespace, name)
		spec := ds.Spec.Template.Spec
		boot := containerOf(t, spec, "bootstrap")
		if s := secretOfFiles(t, spec, boot, "--xds-tls-cert", "--xds-tls-key", "--xds-tls-ca"); s != "fairway-fleet-client" {
			t.Errorf("%s bootstraps with Secret %s, want fairway-fleet-client", name, s)
		}
		// The bootstrap names the files; the Envoy that reads them must
		// see them at the same path.
		certDir := func() string { v, _ := arg(boot.Args, "--xds-tls-cert"); return path.Dir(v) }()
		envoyC := containerOf(t, spec, "envoy")
		if !slices.ContainsFunc(envoyC.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == certDir }) {
			t.Errorf("%s: the envoy container does not mount %s, which its bootstrap names", name, certDir)
		}
	}
}

// TestCertgen: certificates.source=certgen mounts the contract's Secrets
// and runs certgen once and on a schedule, with the trust domain serve
// checks, a client certificate for each proxyless namespace, and a Role in
// each namespace it writes to that reaches Secrets only.
func TestCertgen(t *testing.T) {
	objs := render(t, map[string]any{
		"certificates": map[string]any{"source": "certgen", "trustDomain": "example.org"},
		"proxyless":    map[string]any{"namespaces": []any{"payments", "shop"}},
		"fleet":        map[string]any{"nodeGroups": []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}}},
	})
	checkMTLSWiring(t, objs, "fairway-envoy-a", "fairway-envoy-b")
	if td, _ := arg(serveArgs(t, objs), "--trust-domain"); td != "example.org" {
		t.Errorf("serve --trust-domain=%q, want example.org", td)
	}
	job := find[batchv1.Job](t, objs, "Job", namespace, "fairway-certgen")
	cron := find[batchv1.CronJob](t, objs, "CronJob", namespace, "fairway-certgen-renew")
	for _, pod := range []corev1.PodSpec{job.Spec.Template.Spec, cron.Spec.JobTemplate.Spec.Template.Spec} {
		if pod.ServiceAccountName != "fairway-certgen" {
			t.Errorf("certgen runs as %q, want fairway-certgen", pod.ServiceAccountName)
		}
		c := containerOf(t, pod, "certgen")
		want := []string{"certgen", "--log-json", "--trust-domain=example.org", "--proxyless-namespace=payments", "--proxyless-namespace=shop"}
		if !slices.Equal(c.Args, want) {
			t.Errorf("certgen args %v, want %v", c.Args, want)
		}
		// certgen keeps its Secrets in its own namespace (POD_NAMESPACE),
		// the one fairway and the fleet mount them from.
		if len(c.Env) != 1 || c.Env[0].Name != "POD_NAMESPACE" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
			t.Errorf("certgen env %+v, want POD_NAMESPACE from metadata.namespace", c.Env)
		}
	}
	find[corev1.ServiceAccount](t, objs, "ServiceAccount", namespace, "fairway-certgen")
	plain := render(t, map[string]any{"certificates": map[string]any{"source": "certgen"}})
	if _, ok := arg(serveArgs(t, plain), "--trust-domain"); ok {
		t.Error("serve gets --trust-domain with the default trust domain, which is its own default")
	}
	for _, ns := range []string{namespace, "payments", "shop"} {
		role := find[rbacv1.Role](t, objs, "Role", ns, "fairway-certgen")
		for _, r := range role.Rules {
			if !slices.Equal(r.Resources, []string{"secrets"}) || !slices.Equal(r.APIGroups, []string{""}) {
				t.Errorf("Role %s/fairway-certgen reaches %v %v, want Secrets only", ns, r.APIGroups, r.Resources)
			}
			for _, v := range r.Verbs {
				if !slices.Contains([]string{"get", "list", "create", "update", "patch"}, v) {
					t.Errorf("Role %s/fairway-certgen may %s Secrets: certgen reads and writes, never deletes or watches", ns, v)
				}
			}
		}
		rb := find[rbacv1.RoleBinding](t, objs, "RoleBinding", ns, "fairway-certgen")
		if rb.RoleRef.Name != "fairway-certgen" || len(rb.Subjects) != 1 || rb.Subjects[0].Namespace != namespace || rb.Subjects[0].Name != "fairway-certgen" {
			t.Errorf("RoleBinding %s/fairway-certgen: %+v %+v", ns, rb.RoleRef, rb.Subjects)
		}
	}
	if got := names(objs, "Certificate"); len(got) > 0 {
		t.Errorf("certgen makes the certificates, yet cert-manager Certificates %v are rendered", got)
	}
}

// TestCertManager: certificates.source=cert-manager issues each Secret of
// the contract with the contract's identity: fairway's serving certificate
// names the host the fleet's bootstrap dials, the fleet's and each
// proxyless namespace's client certificates carry their SPIFFE IDs, and
// all come from the issuer given.
func TestCertManager(t *testing.T) {
	objs := render(t, map[string]any{
		"certificates": map[string]any{"source": "cert-manager", "certManager": map[string]any{
			"issuerRef": map[string]any{"kind": "ClusterIssuer", "name": "corp-ca"}}},
		"proxyless": map[string]any{"namespaces": []any{"shop"}},
	})
	checkMTLSWiring(t, objs, "fairway-envoy")
	ds := find[appsv1.DaemonSet](t, objs, "DaemonSet", namespace, "fairway-envoy")
	xdsAddr, _ := arg(containerOf(t, ds.Spec.Template.Spec, "bootstrap").Args, "--xds-address")
	host, _, err := net.SplitHostPort(xdsAddr)
	if err != nil {
		t.Fatal(err)
	}
	// The common names are certgen's, so either source gives the same
	// certificates.
	for _, c := range []struct{ ns, name, host, cn, uri, usage string }{
		{namespace, "fairway-xds-server", host, "fairway.fairway-system.svc", "spiffe://fairway/control-plane", "server auth"},
		{namespace, "fairway-fleet-client", "", "fairway-fleet", "spiffe://fairway/fleet", "client auth"},
		{"shop", "fairway-xds-client", "", "proxyless.shop", "spiffe://fairway/proxyless/shop", "client auth"},
	} {
		cert := find[certificate](t, objs, "Certificate", c.ns, c.name)
		s := cert.Spec
		if s.SecretName != c.name || s.CommonName != c.cn || !slices.Equal(s.URIs, []string{c.uri}) || !slices.Contains(s.Usages, c.usage) {
			t.Errorf("Certificate %s/%s: secret %s, CN %s, URIs %v, usages %v; want %s, %s, [%s], %s",
				c.ns, c.name, s.SecretName, s.CommonName, s.URIs, s.Usages, c.name, c.cn, c.uri, c.usage)
		}
		if c.host != "" && !slices.Contains(s.DNSNames, c.host) {
			t.Errorf("fairway's certificate names %v, but the fleet dials %s", s.DNSNames, c.host)
		}
		if c.host == "" && len(s.DNSNames) > 0 {
			t.Errorf("client certificate %s/%s has DNS names %v", c.ns, c.name, s.DNSNames)
		}
		if s.IssuerRef.Kind != "ClusterIssuer" || s.IssuerRef.Name != "corp-ca" || (s.IssuerRef.Group != "" && s.IssuerRef.Group != "cert-manager.io") {
			t.Errorf("Certificate %s/%s issued by %+v, want ClusterIssuer corp-ca", c.ns, c.name, s.IssuerRef)
		}
	}
	if got := names(objs, "Issuer"); len(got) > 0 {
		t.Errorf("an issuer was given, yet the chart makes Issuers %v", got)
	}
	if got := fmt.Sprint(names(objs, "Job"), names(objs, "CronJob")); got != "[] []" {
		t.Errorf("cert-manager issues the certificates, yet certgen runs: %s", got)
	}
}

// TestCertManagerOwnCA: with no issuer given, the chart makes a
// self-signed CA whose Secret is fairway-ca, and issues the rest from it.
func TestCertManagerOwnCA(t *testing.T) {
	objs := render(t, map[string]any{"certificates": map[string]any{"source": "cert-manager"}})
	checkMTLSWiring(t, objs, "fairway-envoy")
	ca := find[certificate](t, objs, "Certificate", namespace, "fairway-ca")
	if !ca.Spec.IsCA || ca.Spec.SecretName != "fairway-ca" || ca.Spec.IssuerRef.Name != "fairway-selfsigned" {
		t.Errorf("Certificate fairway-ca: %+v", ca.Spec)
	}
	issuer := find[struct {
		Spec struct{ CA struct{ SecretName string } }
	}](t, objs, "Issuer", namespace, "fairway-ca")
	if issuer.Spec.CA.SecretName != "fairway-ca" {
		t.Errorf("Issuer fairway-ca signs with Secret %q, want fairway-ca", issuer.Spec.CA.SecretName)
	}
	for _, name := range []string{"fairway-xds-server", "fairway-fleet-client"} {
		c := find[certificate](t, objs, "Certificate", namespace, name)
		if c.Spec.IssuerRef.Kind != "Issuer" || c.Spec.IssuerRef.Name != "fairway-ca" {
			t.Errorf("Certificate %s issued by %+v, want Issuer fairway-ca", name, c.Spec.IssuerRef)
		}
	}
}

// TestNoCertificates: certificates.source=none serves plaintext xDS, which
// serve allows off loopback only with --xds-insecure; with either mTLS
// source the flag must never appear.
func TestNoCertificates(t *testing.T) {
	none := render(t, map[string]any{"certificates": map[string]any{"source": "none"}})
	args := serveArgs(t, none)
	if !slices.Contains(args, "--xds-insecure") {
		t.Errorf("certificates.source none: serve args %v lack --xds-insecure, so serve refuses to start", args)
	}
	for _, flag := range []string{"--xds-tls-cert", "--xds-tls-key", "--xds-tls-client-ca"} {
		if _, ok := arg(args, flag); ok {
			t.Errorf("certificates.source none: serve gets %s", flag)
		}
	}
	for _, source := range []string{"certgen", "cert-manager"} {
		objs := render(t, map[string]any{"certificates": map[string]any{"source": source}})
		if slices.Contains(serveArgs(t, objs), "--xds-insecure") {
			t.Errorf("certificates.source %s: serve gets --xds-insecure beside mTLS", source)
		}
	}
}

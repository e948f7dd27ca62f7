package tests

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/fairwayhq/fairway/source/kube"
)

// secretMounts is where each Secret volume is mounted in a container:
// mount path → Secret name.
func secretMounts(spec corev1.PodSpec, c corev1.Container) map[string]string {
	secrets := map[string]string{}
	for _, v := range spec.Volumes {
		if v.Secret != nil && len(v.Secret.Items) == 0 {
			secrets[v.Name] = v.Secret.SecretName
		}
	}
	out := map[string]string{}
	for _, m := range c.VolumeMounts {
		if name, ok := secrets[m.Name]; ok && m.SubPath == "" {
			out[m.MountPath] = name
		}
	}
	return out
}

// checkFileFromSecret: path is key of Secret secret, as mounted in c.
func checkFileFromSecret(t *testing.T, what string, spec corev1.PodSpec, c corev1.Container, path, key, secret string) {
	t.Helper()
	if filepath.Base(path) != key {
		t.Errorf("%s %q: want the Secret's key %s", what, path, key)
	}
	if got := secretMounts(spec, c)[filepath.Dir(path)]; got != secret {
		t.Errorf("%s %q: %s mounts Secret %q there, want %q", what, path, c.Name, got, secret)
	}
}

// TestInstallXDSOnlyOverMTLS: fairway serves xDS with its certificate and
// requires a client certificate from the CA, all from the Secret certgen
// keeps; the fleet's bootstrap names the client certificate that both its
// init container and its Envoy mount; and certgen's Job and CronJob run
// certgen as its own ServiceAccount in fairway's namespace.
func TestInstallXDSOnlyOverMTLS(t *testing.T) {
	in := readInstall(t)
	fwSpec := in.fairway.Spec.Template.Spec
	fw := container(t, fwSpec, "fairway", false)
	for flag, key := range map[string]string{"--xds-tls-cert": "tls.crt", "--xds-tls-key": "tls.key", "--xds-tls-client-ca": kube.CAKey} {
		checkFileFromSecret(t, "fairway "+flag, fwSpec, fw, argValue(fw.Args, flag, ""), key, kube.ServerSecret)
	}
	if slices.Contains(fw.Args, "--xds-insecure") || argValue(fw.Args, "--xds-insecure", "false") != "false" {
		t.Error("the install serves xDS with --xds-insecure")
	}
	spec := in.fleet.Spec.Template.Spec
	boot := container(t, spec, "bootstrap", true)
	for flag, key := range map[string]string{"--xds-tls-cert": "tls.crt", "--xds-tls-key": "tls.key", "--xds-tls-ca": kube.CAKey} {
		for _, c := range []corev1.Container{boot, container(t, spec, "envoy", false)} {
			checkFileFromSecret(t, "bootstrap "+flag, spec, c, argValue(boot.Args, flag, ""), key, kube.FleetSecret)
		}
	}
	for name, job := range map[string]corev1.PodSpec{"Job": in.certgen.Spec.Template.Spec, "CronJob": in.renew.Spec.JobTemplate.Spec.Template.Spec} {
		if job.ServiceAccountName != "fairway-certgen" || len(job.Containers) != 1 || job.Containers[0].Args[0] != "certgen" {
			t.Errorf("certgen %s: service account %q, containers %+v", name, job.ServiceAccountName, job.Containers)
			continue
		}
		env := job.Containers[0].Env
		if !slices.ContainsFunc(env, func(e corev1.EnvVar) bool {
			return e.Name == "POD_NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace"
		}) {
			t.Errorf("certgen %s does not get its namespace from POD_NAMESPACE", name)
		}
	}
	if in.renew.Spec.ConcurrencyPolicy != "Forbid" {
		t.Errorf("the renewal CronJob's concurrency policy is %q, want Forbid", in.renew.Spec.ConcurrencyPolicy)
	}
}

// TestInstallNetworkPolicy: the policies that select fairway's pods,
// taken together (they add up), isolate them; every rule names its ports (a rule without ports opens all of them); xDS is open
// to the fleet's pods and to namespaces labelled for proxyless clients,
// never to every namespace; health is open to probes and scrapes; and the
// admin port is in no rule.
func TestInstallNetworkPolicy(t *testing.T) {
	in := readInstall(t)
	fw := container(t, in.fairway.Spec.Template.Spec, "fairway", false)
	xdsPort := addrPort(t, "--xds-address", argValue(fw.Args, "--xds-address", ""))
	healthPort := addrPort(t, "--health-address", argValue(fw.Args, "--health-address", ""))
	adminPort := addrPort(t, "--admin-address", argValue(fw.Args, "--admin-address", "127.0.0.1:9090"))
	peers := map[int][]networkingv1.NetworkPolicyPeer{}
	isolated := false
	for _, np := range in.policies {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !sel.Matches(labels.Set(in.fairway.Spec.Template.Labels)) {
			continue
		}
		isolated = isolated || slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
		for i, r := range np.Spec.Ingress {
			if len(r.Ports) == 0 || len(r.From) == 0 {
				t.Errorf("%s rule %d opens every port or every peer: %+v", np.Name, i, r)
			}
			for _, p := range r.Ports {
				peers[p.Port.IntValue()] = append(peers[p.Port.IntValue()], r.From...)
			}
		}
	}
	if !isolated {
		t.Fatalf("no ingress NetworkPolicy selects fairway's pods")
	}
	if _, ok := peers[adminPort]; ok {
		t.Errorf("the admin port %d is open", adminPort)
	}
	if len(peers) != 2 || peers[xdsPort] == nil || peers[healthPort] == nil {
		t.Errorf("open ports %v, want only xDS %d and health %d", slices.Sorted(maps.Keys(peers)), xdsPort, healthPort)
	}
	fleetLabels := labels.Set(in.fleet.Spec.Template.Labels)
	proxyless := labels.Set{"fairway.dev/proxyless": "true"}
	var fromFleet, fromProxyless bool
	for _, p := range peers[xdsPort] {
		switch {
		case p.NamespaceSelector != nil && len(p.NamespaceSelector.MatchLabels)+len(p.NamespaceSelector.MatchExpressions) == 0:
			t.Errorf("xDS is open to every namespace: %+v", p)
		case p.PodSelector != nil && p.NamespaceSelector == nil:
			sel, _ := metav1.LabelSelectorAsSelector(p.PodSelector)
			fromFleet = fromFleet || sel.Matches(fleetLabels) && !sel.Empty()
		case p.NamespaceSelector != nil:
			sel, _ := metav1.LabelSelectorAsSelector(p.NamespaceSelector)
			fromProxyless = fromProxyless || sel.Matches(proxyless)
		case p.IPBlock != nil && p.IPBlock.CIDR == "0.0.0.0/0":
			t.Errorf("xDS is open to every address")
		}
	}
	if !fromFleet || !fromProxyless {
		t.Errorf("xDS open to the fleet's pods: %v; to namespaces labelled %v: %v", fromFleet, proxyless, fromProxyless)
	}
}

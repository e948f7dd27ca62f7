package tests

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/tests/bootstrapfile"
	"github.com/fairwayhq/fairway/translator"
)

const installDir = "../manifests/kubernetes"

// install is the rendered install: the workloads of every file that
// kustomization.yaml lists.
type install struct {
	fleet    *appsv1.DaemonSet
	fairway  *appsv1.Deployment
	certgen  *batchv1.Job
	renew    *batchv1.CronJob
	policies []*networkingv1.NetworkPolicy
}

// readInstall renders manifests/kubernetes as kustomize would for what
// these checks read. The kustomization only sets the namespace, a label
// and image names; it is refused here if it grows patches, which would
// make the files differ from what is applied.
func readInstall(t *testing.T) install {
	t.Helper()
	var k struct {
		Resources []string `json:"resources"`
	}
	data, err := os.ReadFile(filepath.Join(installDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := yaml.Unmarshal(data, &keys); err != nil {
		t.Fatal(err)
	}
	for key := range keys {
		if !slices.Contains([]string{"apiVersion", "kind", "namespace", "labels", "resources", "images"}, key) {
			t.Fatalf("kustomization.yaml has %q: teach readInstall to render it", key)
		}
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	var in install
	for _, file := range k.Resources {
		data, err := os.ReadFile(filepath.Join(installDir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range bytes.Split(data, []byte("\n---\n")) {
			var meta struct{ Kind string }
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			switch meta.Kind {
			case "DaemonSet":
				in.fleet = &appsv1.DaemonSet{}
				err = yaml.UnmarshalStrict(doc, in.fleet)
			case "Deployment":
				in.fairway = &appsv1.Deployment{}
				err = yaml.UnmarshalStrict(doc, in.fairway)
			case "Job":
				in.certgen = &batchv1.Job{}
				err = yaml.UnmarshalStrict(doc, in.certgen)
			case "CronJob":
				in.renew = &batchv1.CronJob{}
				err = yaml.UnmarshalStrict(doc, in.renew)
			case "NetworkPolicy":
				np := &networkingv1.NetworkPolicy{}
				err = yaml.UnmarshalStrict(doc, np)
				in.policies = append(in.policies, np)
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
		}
	}
	if in.fleet == nil || in.fairway == nil || in.certgen == nil || in.renew == nil {
		t.Fatal("the install lacks the fleet DaemonSet, the fairway Deployment, or certgen's Job or CronJob")
	}
	return in
}

// argValue is --name=value in a container's args, or def.
func argValue(args []string, name, def string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return def
}

func addrPort(t *testing.T, what, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s %q: %v", what, addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("%s %q: %v", what, addr, err)
	}
	return port
}

func container(t *testing.T, spec corev1.PodSpec, name string, init bool) corev1.Container {
	t.Helper()
	list := spec.Containers
	if init {
		list = spec.InitContainers
	}
	for _, c := range list {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return corev1.Container{}
}

// fleetBinds is every port the fleet's Envoy is asked to bind: the Ingress
// ports of fairway serve's flags (their defaults when unset) and the
// bootstrap's health and stats listeners.
func fleetBinds(t *testing.T, in install) []int {
	t.Helper()
	serve := container(t, in.fairway.Spec.Template.Spec, "fairway", false).Args
	defaults := translator.Options{}.WithDefaults()
	var ports []int
	for flag, def := range map[string]int32{"--http-port": defaults.HTTPPort, "--https-port": defaults.HTTPSPort} {
		p, err := strconv.Atoi(argValue(serve, flag, strconv.Itoa(int(def))))
		if err != nil {
			t.Fatalf("fairway %s: %v", flag, err)
		}
		ports = append(ports, p)
	}
	boot := container(t, in.fleet.Spec.Template.Spec, "bootstrap", true).Args
	for _, flag := range []string{"--health-address", "--stats-address"} {
		if addr := argValue(boot, flag, bootstrapDefault(flag)); addr != "" {
			ports = append(ports, addrPort(t, "bootstrap "+flag, addr))
		}
	}
	slices.Sort(ports)
	return ports
}

func bootstrapDefault(flag string) string {
	if flag == "--health-address" {
		return "0.0.0.0:19003"
	}
	return "0.0.0.0:19001"
}

// canBindPrivileged says whether a container's process may bind below
// 1024, and why not. Kubernetes gives a non-root process no ambient
// capabilities, and with no_new_privs file capabilities do not apply, so
// only root holding NET_BIND_SERVICE in its bounding set can.
func canBindPrivileged(pod *corev1.PodSecurityContext, sc *corev1.SecurityContext) (bool, string) {
	var uid *int64
	nonRoot := false
	if pod != nil {
		uid = pod.RunAsUser
		nonRoot = pod.RunAsNonRoot != nil && *pod.RunAsNonRoot
	}
	if sc != nil && sc.RunAsUser != nil {
		uid = sc.RunAsUser
	}
	if sc != nil && sc.RunAsNonRoot != nil {
		nonRoot = *sc.RunAsNonRoot
	}
	switch {
	case nonRoot || (uid != nil && *uid != 0):
		return false, "it runs as a non-root user, which gets no ambient capabilities"
	case uid == nil:
		return false, "its user is the image's choice, not the manifest's"
	case sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Add, "NET_BIND_SERVICE"):
		return false, "it is root without NET_BIND_SERVICE"
	}
	return true, ""
}

// TestInstallFleetCanBindItsPorts: the fleet's Envoy is asked to bind
// ports below 1024 (80 and 443), so its user and capabilities must allow
// it; and every container is locked down the same way: no privilege
// escalation, every capability dropped, NET_BIND_SERVICE the only one added
// back, and only where a port needs it.
func TestInstallFleetCanBindItsPorts(t *testing.T) {
	in := readInstall(t)
	binds := fleetBinds(t, in)
	if binds[0] >= 1024 {
		t.Fatalf("the fleet binds %v: nothing below 1024, so this test checks nothing; update it", binds)
	}
	spec := in.fleet.Spec.Template.Spec
	envoyC := container(t, spec, "envoy", false)
	if ok, why := canBindPrivileged(spec.SecurityContext, envoyC.SecurityContext); !ok {
		t.Errorf("the fleet's Envoy binds %v, but cannot bind below 1024: %s", binds, why)
	}
	for _, p := range binds {
		if !slices.ContainsFunc(envoyC.Ports, func(cp corev1.ContainerPort) bool { return int(cp.ContainerPort) == p }) {
			t.Errorf("the fleet's Envoy binds %d but does not declare it (on the host network, the scheduler needs it)", p)
		}
	}
	for _, w := range []struct {
		name string
		spec corev1.PodSpec
	}{{"fleet", spec}, {"fairway", in.fairway.Spec.Template.Spec}, {"certgen", in.certgen.Spec.Template.Spec},
		{"certgen-renew", in.renew.Spec.JobTemplate.Spec.Template.Spec}} {
		for _, c := range append(slices.Clone(w.spec.InitContainers), w.spec.Containers...) {
			checkLockedDown(t, w.name+"/"+c.Name, c, w.name == "fleet" && c.Name == "envoy")
		}
	}
}

func checkLockedDown(t *testing.T, name string, c corev1.Container, bindsPrivileged bool) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.Capabilities == nil ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("%s: want allowPrivilegeEscalation false, a read-only root filesystem and every capability dropped; got %+v", name, sc)
		return
	}
	want := []corev1.Capability(nil)
	if bindsPrivileged {
		want = []corev1.Capability{"NET_BIND_SERVICE"}
	}
	if !slices.Equal(sc.Capabilities.Add, want) {
		t.Errorf("%s: adds capabilities %v, want %v", name, sc.Capabilities.Add, want)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("%s is privileged", name)
	}
}

// TestCanBindPrivileged: the rule above, on the setups that fail with
// EACCES (Contour's) and the one that works.
func TestCanBindPrivileged(t *testing.T) {
	uid := func(u int64) *int64 { return &u }
	yes, no := true, false
	netBind := &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}}
	for _, c := range []struct {
		name string
		pod  *corev1.PodSecurityContext
		sc   *corev1.SecurityContext
		want bool
	}{
		{"non-root with NET_BIND_SERVICE", &corev1.PodSecurityContext{RunAsUser: uid(101), RunAsNonRoot: &yes}, &corev1.SecurityContext{Capabilities: netBind}, false},
		{"runAsNonRoot with no user", &corev1.PodSecurityContext{RunAsNonRoot: &yes}, &corev1.SecurityContext{Capabilities: netBind}, false},
		{"the image's user", nil, &corev1.SecurityContext{Capabilities: netBind}, false},
		{"root with every capability dropped", nil, &corev1.SecurityContext{RunAsUser: uid(0), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}, false},
		{"root over a non-root pod", &corev1.PodSecurityContext{RunAsUser: uid(101), RunAsNonRoot: &yes},
			&corev1.SecurityContext{RunAsUser: uid(0), RunAsNonRoot: &no, Capabilities: netBind}, true},
	} {
		if got, why := canBindPrivileged(c.pod, c.sc); got != c.want {
			t.Errorf("%s: can bind = %v (%s), want %v", c.name, got, why, c.want)
		}
	}
}

// TestInstallAdminEndpoints: neither admin is reachable from the network.
// fairway's admin is on loopback and its probes and scrape use the health
// address; Envoy's admin is a unix socket in a volume of its own, the
// preStop drain speaks to that same socket, and the probe and the scrape
// annotations name the health and stats listeners.
func TestInstallAdminEndpoints(t *testing.T) {
	in := readInstall(t)
	fw := container(t, in.fairway.Spec.Template.Spec, "fairway", false)
	if host, _, err := net.SplitHostPort(argValue(fw.Args, "--admin-address", "127.0.0.1:9090")); err != nil || !net.ParseIP(host).IsLoopback() {
		t.Errorf("fairway --admin-address %q: want loopback", argValue(fw.Args, "--admin-address", ""))
	}
	health := addrPort(t, "fairway --health-address", argValue(fw.Args, "--health-address", ""))
	checkProbesAndScrape(t, "fairway", fw, in.fairway.Spec.Template.Annotations, health, health, "/metrics")

	spec := in.fleet.Spec.Template.Spec
	boot := container(t, spec, "bootstrap", true).Args
	admin := argValue(boot, "--admin-address", "")
	sock, ok := envoy.AdminSocketPath(admin)
	if !ok {
		t.Fatalf("the fleet's --admin-address %q: want a unix socket", admin)
	}
	envoyC := container(t, spec, "envoy", false)
	if !slices.ContainsFunc(envoyC.VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.MountPath == filepath.Dir(sock) && !m.ReadOnly
	}) {
		t.Errorf("no writable volume at %s for the admin socket", filepath.Dir(sock))
	}
	if pre := envoyC.Lifecycle.PreStop.Exec.Command; argValue(pre, "--admin-address", "") != admin {
		t.Errorf("preStop %v does not drain through the admin socket %s", pre, admin)
	}
	checkProbesAndScrape(t, "fleet", envoyC, in.fleet.Spec.Template.Annotations,
		addrPort(t, "--health-address", argValue(boot, "--health-address", "")),
		addrPort(t, "--stats-address", argValue(boot, "--stats-address", "")), envoy.PrometheusPath)
	if p := envoyC.ReadinessProbe.HTTPGet; p.Path != envoy.ReadyPath || p.Host != "" {
		t.Errorf("fleet readiness probe %+v: want %s on the node's address", p, envoy.ReadyPath)
	}
}

// checkProbesAndScrape: every probe hits healthPort, and the prometheus.io
// annotations name metricsPort and path, declared as container ports.
func checkProbesAndScrape(t *testing.T, name string, c corev1.Container, ann map[string]string, healthPort, metricsPort int, path string) {
	t.Helper()
	declared := map[string]int{}
	for _, p := range c.Ports {
		declared[p.Name] = int(p.ContainerPort)
		declared[strconv.Itoa(int(p.ContainerPort))] = int(p.ContainerPort)
	}
	for what, probe := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if probe == nil {
			continue
		}
		if got := declared[probe.HTTPGet.Port.String()]; got != healthPort {
			t.Errorf("%s %s probe port %s is %d, want the health port %d", name, what, probe.HTTPGet.Port.String(), got, healthPort)
		}
	}
	want := map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": strconv.Itoa(metricsPort), "prometheus.io/path": path}
	for k, v := range want {
		if ann[k] != v {
			t.Errorf("%s pod annotation %s = %q, want %q", name, k, ann[k], v)
		}
	}
	if _, ok := declared[strconv.Itoa(metricsPort)]; !ok {
		t.Errorf("%s does not declare the metrics port %d", name, metricsPort)
	}
}

// TestInstallResources: every container asks for CPU and memory and has a
// memory limit, and the fleet's overload manager saturates below the
// Envoy's memory limit, so Envoy sheds load before the kernel kills it.
func TestInstallResources(t *testing.T) {
	in := readInstall(t)
	for _, c := range []corev1.Container{
		container(t, in.fairway.Spec.Template.Spec, "fairway", false),
		container(t, in.fleet.Spec.Template.Spec, "envoy", false),
	} {
		r := c.Resources
		if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() {
			t.Errorf("%s: resources %+v, want CPU and memory requests and a memory limit", c.Name, r)
		}
		if r.Requests.Memory().Cmp(*r.Limits.Memory()) > 0 {
			t.Errorf("%s: memory request over its limit", c.Name)
		}
	}
	limits := container(t, in.fleet.Spec.Template.Spec, "envoy", false).Resources.Limits
	envoyLimit := limits.Memory()
	heap, err := resource.ParseQuantity(argValue(container(t, in.fleet.Spec.Template.Spec, "bootstrap", true).Args, "--max-heap", "1536Mi"))
	if err != nil {
		t.Fatal(err)
	}
	if heap.Cmp(*envoyLimit) >= 0 || heap.Value() < envoyLimit.Value()/2 {
		t.Errorf("--max-heap %s against a memory limit of %s: want between half the limit and the limit", heap.String(), envoyLimit.String())
	}
}

// TestInstallFleetBootstrap: the fleet's init container's own arguments
// make a valid bootstrap, whose admin is the socket the preStop drains
// through and whose health and stats listeners are the ports the pod
// declares, probes and has scraped.
func TestInstallFleetBootstrap(t *testing.T) {
	in := readInstall(t)
	spec := in.fleet.Spec.Template.Spec
	boot := container(t, spec, "bootstrap", true)
	out := filepath.Join(t.TempDir(), "envoy.yaml")
	var args []string
	for _, a := range boot.Args {
		switch {
		case strings.HasPrefix(a, "--out-file="):
			a = "--out-file=" + out
		case strings.HasPrefix(a, "--copy-binary="):
			continue
		}
		args = append(args, strings.ReplaceAll(a, "$(NODE_NAME)", "edge-0"))
	}
	if msg, err := exec.Command(fairwayBin, args...).CombinedOutput(); err != nil {
		t.Fatalf("fairway %v: %v\n%s", args, err, msg)
	}
	b, err := bootstrapfile.Read(out)
	if err != nil {
		t.Fatalf("the fleet's bootstrap: %v", err)
	}
	sock, _ := envoy.AdminSocketPath(argValue(boot.Args, "--admin-address", ""))
	if got := b.GetAdmin().GetAddress().GetPipe().GetPath(); got == "" || got != sock {
		t.Errorf("admin at %v, want the socket %s", b.GetAdmin().GetAddress(), sock)
	}
	envoyC := container(t, spec, "envoy", false)
	declared := map[string]int{}
	for _, p := range envoyC.Ports {
		declared[p.Name] = int(p.ContainerPort)
	}
	for _, l := range b.GetStaticResources().GetListeners() {
		want := map[string]string{envoy.HealthListenerName: "health", envoy.StatsListenerName: "metrics"}[l.GetName()]
		if got := int(l.GetAddress().GetSocketAddress().GetPortValue()); want == "" || declared[want] != got {
			t.Errorf("bootstrap listener %s on %d; the pod declares %v", l.GetName(), got, declared)
		}
	}
	if n := len(b.GetStaticResources().GetListeners()); n != 2 {
		t.Errorf("%d static listeners, want the health and the stats listener", n)
	}
}

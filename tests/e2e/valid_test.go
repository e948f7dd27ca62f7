package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	// Also every extension type fairway's bootstrap names (resource
	// monitors, the health and stats listeners' filters) is registered by
	// the package that builds it.
	"github.com/fairwayhq/fairway/envoy"
)

// TestE2EFixturesValid needs no Envoy and always runs: it holds everything
// the Envoy tests build on to what they assume, so the fixtures cannot rot
// where no Envoy runs. The manifests translate with no Problem and no note
// into the expected listeners, clusters and endpoints; fairway serve
// publishes the same; the edit that TestTCPSurvivesIngressEdit makes
// changes listeners and routes and nothing else; fairway's bootstrap with the
// tests' flags is a valid Envoy bootstrap; the backends answer.
func TestE2EFixturesValid(t *testing.T) {
	t.Parallel()
	fx, tcp := newFixture(t)
	// The subtests run in parallel: each starts a fairway, which costs a
	// second under the race detector.
	t.Run("translate", func(t *testing.T) {
		t.Parallel()
		out, stderr := translate(t, fx, fx.manifests())
		if stderr != "" {
			t.Errorf("translate wrote to stderr (Problems or notes):\n%s", stderr)
		}
		checkTranslation(t, fx, out, secureHost)
	})
	t.Run("translate fallbacks", func(t *testing.T) {
		t.Parallel()
		files := fx.manifests()
		files["ingress-fallback.yaml"], files["ingress-missing.yaml"] = defaultBackendYAML, missingBackendYAML
		out, stderr := translate(t, fx, files)
		want := "problem: Ingress e2e/missing: BackendNotFound: "
		if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
			t.Errorf("translate stderr:\n%s\nwant exactly one line starting %q", stderr, want)
		}
		fallback := namespace + "/fallback/80"
		if _, ok := slices.BinarySearch(names(out.Clusters, nameOf), fallback); !ok {
			t.Errorf("no cluster %s for the default backend", fallback)
		}
	})
	t.Run("serve and edit", func(t *testing.T) {
		t.Parallel()
		checkServeAndEdit(t, fx)
	})
	t.Run("bootstrap", func(t *testing.T) {
		t.Parallel()
		checkBootstrap(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(freePorts(t, 1)[0])))
	})
	t.Run("backends", func(t *testing.T) {
		t.Parallel()
		checkBackends(t, fx, tcp)
	})
}

// translate runs `fairway translate -o json` on the files with the flags
// startFairway gives serve, and returns its output and its stderr.
func translate(t *testing.T, fx *fixture, files map[string]string) (*published, string) {
	t.Helper()
	dir := writeManifestDir(t, files)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(fairwayBin, "translate", "-f", dir, "-o", "json", "--listen-address", "127.0.0.1",
		"--http-port", strconv.Itoa(fx.httpPort), "--https-port", strconv.Itoa(fx.httpsPort))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("fairway translate: %v\n%s", err, stderr.String())
	}
	if bytes.Contains(stdout.Bytes(), []byte(`"0.0.0.0"`)) {
		t.Error("a listener binds every interface; the tests' must bind loopback only")
	}
	var out published
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("translate output: %v", err)
	}
	return &out, stderr.String()
}

// checkTranslation: one listener per Ingress port and LoadBalancer port,
// one cluster per Service port, each with its backend's real address, and
// a route table per TLS host beside http.
func checkTranslation(t *testing.T, fx *fixture, out *published, tlsHosts ...string) {
	t.Helper()
	lb := "tcp-" + strconv.Itoa(fx.lbPort)
	if got, want := names(out.Listeners, nameOf), []string{"http", "https", lb}; !slices.Equal(got, want) {
		t.Errorf("listeners %v, want %v", got, want)
	}
	routes := []string{envoy.HTTPRouteConfig}
	for _, h := range tlsHosts {
		routes = append(routes, envoy.HTTPSHostRouteConfig(h))
	}
	slices.Sort(routes)
	if got, want := names(out.Routes, nameOf), routes; !slices.Equal(got, want) {
		t.Errorf("route tables %v, want %v", got, want)
	}
	if got, want := names(out.Secrets, nameOf), []string{namespace + "/" + tlsSecret}; !slices.Equal(got, want) {
		t.Errorf("secrets %v, want %v", got, want)
	}
	want := map[string]int{fmt.Sprintf("%s/tcp-echo/%d", namespace, fx.lbPort): fx.tcpBackend}
	for name, port := range fx.backends {
		// Only TestIngressFallbacks' default backend names this Service,
		// and a Service no Ingress names gets no cluster.
		if name != "fallback" {
			want[namespace+"/"+name+"/80"] = port
		}
	}
	if got := names(out.Clusters, nameOf); !slices.Equal(got, sortedKeys(want)) {
		t.Errorf("clusters %v, want %v", got, sortedKeys(want))
	}
	if got := endpointAddrs(t, out); !maps.Equal(got, want) {
		t.Errorf("endpoints (cluster -> port on 127.0.0.1) %v, want %v", got, want)
	}
}

// endpointAddrs maps each cluster to its one endpoint's port, and fails the
// test if an assignment is not exactly one endpoint on 127.0.0.1.
func endpointAddrs(t *testing.T, out *published) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, raw := range out.Endpoints {
		cla := &endpointv3.ClusterLoadAssignment{}
		mustOK(t, protojson.Unmarshal(raw, cla))
		eps := cla.GetEndpoints()
		if len(eps) != 1 || len(eps[0].GetLbEndpoints()) != 1 {
			t.Errorf("%s: %s, want one endpoint", cla.GetClusterName(), raw)
			continue
		}
		sa := eps[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
		if sa.GetAddress() != "127.0.0.1" {
			t.Errorf("%s: endpoint address %s, want 127.0.0.1", cla.GetClusterName(), sa.GetAddress())
		}
		got[cla.GetClusterName()] = int(sa.GetPortValue())
	}
	return got
}

// checkServeAndEdit serves the fixtures, checks the publication, makes the
// edit of TestTCPSurvivesIngressEdit and checks which types it changed.
func checkServeAndEdit(t *testing.T, fx *fixture) {
	dir := writeManifestDir(t, fx.manifests())
	f := startFairway(t, dir, fx)
	before, err := f.published()
	mustOK(t, err)
	if len(before.Problems) > 0 {
		t.Fatalf("fairway serve has Problems:%s", describeProblems(before.Problems))
	}
	checkTranslation(t, fx, before, secureHost)
	for _, typ := range []string{"listener", "route", "cluster", "endpoint", "secret"} {
		if before.envoyVersion(typ) == "" {
			t.Errorf("no published %s version in %v", typ, before.Versions)
		}
	}
	writeFile(t, filepath.Join(dir, "ingress-secure.yaml"), secureIngressYAML(secureHost, secureHost2))
	after := f.waitPublished(t, before, changeTimeout)
	if len(after.Problems) > 0 {
		t.Fatalf("the edit caused Problems:%s", describeProblems(after.Problems))
	}
	for _, typ := range []string{"listener", "route", "cluster", "endpoint", "secret"} {
		changed := before.envoyVersion(typ) != after.envoyVersion(typ)
		if want := typ == "listener" || typ == "route"; changed != want {
			t.Errorf("the edit changed the %s version: %v, want %v", typ, changed, want)
		}
	}
	checkTranslation(t, fx, after, secureHost, secureHost2)
}

// checkBootstrap runs `fairway bootstrap` as newStack does, for an xDS
// address, and reads the file as an Envoy v3 Bootstrap, validated field by
// field.
func checkBootstrap(t *testing.T, xds string) {
	admin := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePorts(t, 1)[0]))
	path, _ := writeBootstrap(t, xds, admin)
	data, err := os.ReadFile(path)
	mustOK(t, err)
	js, err := yaml.YAMLToJSON(data)
	mustOK(t, err)
	b := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(js, b); err != nil {
		t.Fatalf("not an Envoy v3 bootstrap: %v\n%s", err, data)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("bootstrap does not validate: %v", err)
	}
	if b.GetNode().GetId() != envoyNodeID {
		t.Errorf("node id %q, want %q", b.GetNode().GetId(), envoyNodeID)
	}
	if got := b.GetAdmin().GetAddress().GetSocketAddress(); net.JoinHostPort(got.GetAddress(), strconv.Itoa(int(got.GetPortValue()))) != admin {
		t.Errorf("admin address %v, want %s", got, admin)
	}
	var xdsEndpoint string
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() == "xds_cluster" {
			sa := c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
			xdsEndpoint = net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
		}
	}
	if xdsEndpoint != xds {
		t.Errorf("xds_cluster points at %q, want fairway's %s", xdsEndpoint, xds)
	}
	if b.GetDynamicResources().GetLdsConfig().GetAds() == nil || b.GetDynamicResources().GetCdsConfig().GetAds() == nil {
		t.Error("LDS and CDS must come over ADS")
	}
}

// checkBackends talks to the backends directly, without Envoy.
func checkBackends(t *testing.T, fx *fixture, tcp *tcpEcho) {
	c := &http.Client{Timeout: 5 * time.Second}
	for _, name := range sortedKeys(fx.backends) {
		resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/some/path", fx.backends[name]))
		mustOK(t, err)
		var e echo
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		mustOK(t, err)
		want := echo{Backend: name, Host: fmt.Sprintf("127.0.0.1:%d", fx.backends[name]), Path: "/some/path"}
		if e != want || resp.Header.Get(backendHeader) != name {
			t.Errorf("backend %s answered %+v (header %q), want %+v", name, e, resp.Header.Get(backendHeader), want)
		}
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.port())), 5*time.Second)
	mustOK(t, err)
	defer conn.Close()
	if err := exchange(conn, "ping\n", 5*time.Second); err != nil {
		t.Error(err)
	}
}

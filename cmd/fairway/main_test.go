package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/translator"
)

const examples = "../../manifests/examples"

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestTranslateJSONShape checks the contract of translate -o json: one JSON
// object with exactly the five arrays, each element the protojson form of
// its Envoy type, valid, and each array sorted by name.
func TestTranslateJSONShape(t *testing.T) {
	code, stdout, stderr := runCLI(t, "translate", "-f", examples, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var doc map[string][]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(stdout))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not one JSON object: %v", err)
	}
	if dec.More() {
		t.Fatal("stdout holds more than one JSON value")
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range doc {
			if !yield(k) {
				return
			}
		}
	})
	if want := []string{"clusters", "endpoints", "listeners", "routes", "secrets"}; !slices.Equal(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	types := map[string]func() proto.Message{
		"listeners": func() proto.Message { return &listenerv3.Listener{} },
		"routes":    func() proto.Message { return &routev3.RouteConfiguration{} },
		"clusters":  func() proto.Message { return &clusterv3.Cluster{} },
		"endpoints": func() proto.Message { return &endpointv3.ClusterLoadAssignment{} },
		"secrets":   func() proto.Message { return &tlsv3.Secret{} },
	}
	var res translator.Result
	for key, newMsg := range types {
		if len(doc[key]) == 0 {
			t.Errorf("%s is empty; the examples have some of every type", key)
		}
		var names []string
		for _, raw := range doc[key] {
			m := newMsg()
			if err := protojson.Unmarshal(raw, m); err != nil {
				t.Fatalf("%s element is not a %T: %v", key, m, err)
			}
			if err := m.(interface{ ValidateAll() error }).ValidateAll(); err != nil {
				t.Errorf("%s element does not validate: %v", key, err)
			}
			names = append(names, nameOf(m))
			collect(&res, m)
		}
		if !slices.IsSorted(names) {
			t.Errorf("%s not sorted by name: %v", key, names)
		}
	}
	// The printed set is consistent: every referenced route, cluster, EDS
	// assignment and secret is there.
	if err := res.Validate(); err != nil {
		t.Errorf("printed resources are not consistent: %v", err)
	}
	if !strings.Contains(stdout, `"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"`) {
		t.Error("Any fields do not carry @type")
	}
	if strings.Contains(stdout, "PRIVATE KEY") || !strings.Contains(stdout, "[redacted]") {
		t.Error("private key is not redacted by default")
	}
	// The Namespace is read now (allowedRoutes selectors read its
	// labels), so it is no longer skipped with a note.
	if strings.Contains(stderr, "problem: ") || strings.Contains(stderr, "Namespace") {
		t.Errorf("stderr = %q, want no problems and the Namespace read", stderr)
	}
}

func collect(res *translator.Result, m proto.Message) {
	switch x := m.(type) {
	case *listenerv3.Listener:
		res.Listeners = append(res.Listeners, x)
	case *routev3.RouteConfiguration:
		res.Routes = append(res.Routes, x)
	case *clusterv3.Cluster:
		res.Clusters = append(res.Clusters, x)
	case *endpointv3.ClusterLoadAssignment:
		res.Endpoints = append(res.Endpoints, x)
	case *tlsv3.Secret:
		res.Secrets = append(res.Secrets, x)
	}
}

func nameOf(m proto.Message) string {
	if cla, ok := m.(*endpointv3.ClusterLoadAssignment); ok {
		return cla.GetClusterName()
	}
	return m.(interface{ GetName() string }).GetName()
}

func TestTranslateShowSecrets(t *testing.T) {
	code, stdout, _ := runCLI(t, "translate", "-f", examples, "-o", "json", "--show-secrets")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var doc struct{ Secrets []*json.RawMessage }
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	s := &tlsv3.Secret{}
	if err := protojson.Unmarshal(*doc.Secrets[0], s); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(s.GetTlsCertificate().GetPrivateKey().GetInlineBytes(), []byte("PRIVATE KEY")) {
		t.Error("--show-secrets did not print the private key")
	}
}

func TestTranslateYAMLIsTheSameData(t *testing.T) {
	_, j, _ := runCLI(t, "translate", "-f", examples, "-o", "json")
	code, y, _ := runCLI(t, "translate", "-f", examples)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	fromYAML, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal([]byte(j), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(fromYAML, &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Error("-o yaml and -o json carry different data")
	}
}

func TestTranslateProblemsOnStderr(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "ing.yaml", `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: fairway}
spec: {controller: fairway.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: web}
spec:
  ingressClassName: fairway
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: missing, port: {number: 80}}}}
`)
	code, stdout, stderr := runCLI(t, "translate", "-f", dir, "-o", "json", "--http-port", "8080")
	if code != 0 {
		t.Fatalf("exit %d with only Problems; want 0", code)
	}
	want := "problem: Ingress web/shop: BackendNotFound: spec.rules[0].http.paths[0].backend.service.name: Service web/missing not found\n"
	if stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	if !strings.Contains(stdout, `"port_value": 8080`) || !strings.Contains(stdout, `"status": 503`) {
		t.Errorf("stdout lacks the http listener on --http-port 8080 or the 503 route:\n%s", stdout)
	}
}

func TestTranslateExitCodes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "broken.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\nkind: Service\nmetadata: {name: [oops\n")
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unparseable", []string{"translate", "-f", dir}, 2, "broken.yaml: document 2: "},
		{"missing path", []string{"translate", "-f", filepath.Join(dir, "nope")}, 2, "no such file"},
		{"no -f", []string{"translate"}, 2, "needs -f"},
		{"bad output", []string{"translate", "-f", examples, "-o", "xml"}, 2, `-o "xml"`},
		{"unknown flag", []string{"translate", "--nope"}, 2, "unknown flag"},
		{"bad lb target", []string{"translate", "-f", examples, "--lb-target", "cloud"}, 2, `lb target "cloud"`},
		{"same ports", []string{"translate", "-f", examples, "--https-port", "80"}, 2, "must differ"},
		{"bad listen address", []string{"translate", "-f", examples, "--listen-address", "eth0"}, 2, `listen address "eth0"`},
		{"zoned listen address", []string{"translate", "-f", examples, "--listen-address", "fe80::1%eth0"}, 2, "must be an IP address"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.name, code, stderr, c.code, c.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "fairway dev commit ") {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTranslateClientAndRedirectFlags: --ssl-redirect, --xff-trusted-hops
// and --proxy-protocol reach the translation, as serve's flags do.
func TestTranslateClientAndRedirectFlags(t *testing.T) {
	code, stdout, stderr := runCLI(t, "translate", "-f", examples, "-o", "json", "--ssl-redirect", "--xff-trusted-hops", "2", "--proxy-protocol")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`"https_redirect": true`, `"xff_num_trusted_hops": 2`, `"envoy.filters.listener.proxy_protocol"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %s", want)
		}
	}
	code, stdout, _ = runCLI(t, "translate", "-f", examples, "-o", "json")
	if code != 0 || strings.Contains(stdout, "https_redirect") || strings.Contains(stdout, "xff_num_trusted_hops") || strings.Contains(stdout, "proxy_protocol") {
		t.Errorf("without the flags: exit %d, and the output has their settings", code)
	}
}

// TestServeRefusesANegativeStreamCap: --max-streams below 0 (0 is no cap)
// is a usage error before anything is bound.
func TestServeRefusesANegativeStreamCap(t *testing.T) {
	code, _, stderr := runCLI(t, "serve", "--manifests", examples, "--max-streams", "-1")
	if code != exitUsage || !strings.Contains(stderr, "--max-streams -1") {
		t.Errorf("serve --max-streams -1: exit %d, stderr %q; want exit %d naming the flag", code, stderr, exitUsage)
	}
}

// TestTranslateProxyless: with --proxyless, translate prints under
// proxyless what gRPC clients get, every Service's as if each were asked
// for (serve builds them on demand), the same in YAML and JSON, and the
// fleet's part as without the flag.
func TestTranslateProxyless(t *testing.T) {
	_, plain, _ := runCLI(t, "translate", "-f", examples, "-o", "json")
	code, j, stderr := runCLI(t, "translate", "-f", examples, "-o", "json", "--proxyless")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(j), &doc); err != nil {
		t.Fatal(err)
	}
	var proxyless map[string][]json.RawMessage
	if err := json.Unmarshal(doc["proxyless"], &proxyless); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc["proxyless"]), `"web.shop.svc.cluster.local:80"`) || len(proxyless["clusters"]) == 0 {
		t.Errorf("no proxyless listener for web.shop, or no clusters: %d listeners", len(proxyless["listeners"]))
	}
	delete(doc, "proxyless")
	var fleet, without any
	fleetJSON, _ := json.Marshal(doc)
	if err := json.Unmarshal(fleetJSON, &fleet); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(plain), &without); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fleet)
	b, _ := json.Marshal(without)
	if !bytes.Equal(a, b) {
		t.Error("--proxyless changed the fleet's resources")
	}
	_, y, _ := runCLI(t, "translate", "-f", examples, "--proxyless")
	fromYAML, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var viaYAML, viaJSON any
	if err := json.Unmarshal(fromYAML, &viaYAML); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(j), &viaJSON); err != nil {
		t.Fatal(err)
	}
	a, _ = json.Marshal(viaYAML)
	b, _ = json.Marshal(viaJSON)
	if !bytes.Equal(a, b) {
		t.Error("--proxyless: -o yaml and -o json carry different data")
	}
}

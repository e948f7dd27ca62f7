package translator

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// The conformance harness: the suite's manifests as the translator's
// Input, the way the suite's applier puts them into a cluster.

const (
	conformanceDir = "testdata/gateway-conformance/"
	// conformanceClass is the suite's default GatewayClass name, given to
	// fairway's controller.
	conformanceClass = "gateway-conformance"
	conformanceInfra = "gateway-conformance-infra"
	conformanceWeb   = "gateway-conformance-web-backend"
	conformanceApp   = "gateway-conformance-app-backend"
)

// conformanceOptions give each Gateway an address of its own, so that the
// suite's Gateways can all use port 80, as the issue asks.
func conformanceOptions() Options {
	return Options{LBAddressPools: []string{"10.9.0.0/24"}}
}

// conformanceInput is the base manifests, then the case's, with the
// suite's GatewayClass and the Secrets its setup creates. Objects get
// generation 1 and creation times in document order, as applying them
// one after another to an API server gives.
func conformanceInput(t *testing.T, manifests ...string) Input {
	t.Helper()
	var in Input
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	stamp := func(m *metav1.ObjectMeta) {
		created = created.Add(time.Second)
		m.CreationTimestamp = metav1.NewTime(created)
		m.Generation = 1
		if m.UID == "" {
			m.UID = types.UID("uid-" + m.Namespace + "-" + m.Name)
		}
	}
	gc := &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: conformanceClass}, Spec: gatewayv1.GatewayClassSpec{ControllerName: DefaultGatewayController}}
	stamp(&gc.ObjectMeta)
	in.GatewayClasses = append(in.GatewayClasses, gc)
	for _, s := range conformanceSecrets(t) {
		stamp(&s.ObjectMeta)
		in.Secrets = append(in.Secrets, s)
	}
	var deps []*appsv1.Deployment
	for _, m := range append([]string{"manifests.yaml"}, manifests...) {
		data, err := os.ReadFile(conformanceDir + m)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("{GATEWAY_CLASS_NAME}"), []byte(conformanceClass))
		data = bytes.ReplaceAll(data, []byte("{GATEWAY_CONTROLLER_NAME}"), []byte(DefaultGatewayController))
		// GatewayStaticAddresses' placeholders are the addresses the
		// suite's runner is given: one in the pool, one in none (the
		// same as TestKubeGatewayConformanceStatus's).
		data = bytes.ReplaceAll(data, []byte("PLACEHOLDER_USABLE_ADDRS"), []byte(confUsableAddress))
		data = bytes.ReplaceAll(data, []byte("PLACEHOLDER_UNUSABLE_ADDRS"), []byte(confUnusableAddress))
		for i, doc := range splitYAML(data) {
			d, err := conformanceDeployment(doc)
			if d != nil {
				deps = append(deps, d)
			}
			if err == nil {
				err = decodeManifest(doc, &in, stamp)
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", m, i+1, err)
			}
		}
	}
	in.EndpointSlices = append(in.EndpointSlices, deploymentSlices(deps, in.Services)...)
	return in
}

// splitYAML cuts a multi-document YAML file at its "---" lines.
func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	var cur []string
	flush := func() {
		if doc := strings.TrimSpace(strings.Join(cur, "\n")); doc != "" {
			docs = append(docs, []byte(doc))
		}
		cur = nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "---") {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return docs
}

// decodeManifest adds one document's object to in; kinds the translator
// does not read (Deployments, ConfigMaps, BackendTLSPolicies) are passed
// over, as the file source does.
func decodeManifest(doc []byte, in *Input, stamp func(*metav1.ObjectMeta)) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	add := func(obj any, meta *metav1.ObjectMeta, appendTo func()) error {
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return fmt.Errorf("%s: %w", tm.Kind, err)
		}
		stamp(meta)
		appendTo()
		return nil
	}
	switch tm.Kind {
	case "Namespace":
		o := &corev1.Namespace{}
		return add(o, &o.ObjectMeta, func() { in.Namespaces = append(in.Namespaces, o) })
	case "Service":
		o := &corev1.Service{}
		return add(o, &o.ObjectMeta, func() { in.Services = append(in.Services, o) })
	case "Secret":
		o := &corev1.Secret{}
		return add(o, &o.ObjectMeta, func() { in.Secrets = append(in.Secrets, o) })
	case "EndpointSlice":
		o := &discoveryv1.EndpointSlice{}
		return add(o, &o.ObjectMeta, func() { in.EndpointSlices = append(in.EndpointSlices, o) })
	case "GatewayClass":
		o := &gatewayv1.GatewayClass{}
		return add(o, &o.ObjectMeta, func() { in.GatewayClasses = append(in.GatewayClasses, o) })
	case "Gateway":
		o := &gatewayv1.Gateway{}
		return add(o, &o.ObjectMeta, func() { in.Gateways = append(in.Gateways, o) })
	case "HTTPRoute":
		o := &gatewayv1.HTTPRoute{}
		return add(o, &o.ObjectMeta, func() { in.HTTPRoutes = append(in.HTTPRoutes, o) })
	case "GRPCRoute":
		o := &gatewayv1.GRPCRoute{}
		return add(o, &o.ObjectMeta, func() { in.GRPCRoutes = append(in.GRPCRoutes, o) })
	case "TLSRoute":
		o := &gatewayv1.TLSRoute{}
		return add(o, &o.ObjectMeta, func() { in.TLSRoutes = append(in.TLSRoutes, o) })
	case "TCPRoute":
		o := &gatewayv1.TCPRoute{}
		return add(o, &o.ObjectMeta, func() { in.TCPRoutes = append(in.TCPRoutes, o) })
	case "UDPRoute":
		o := &gatewayv1.UDPRoute{}
		return add(o, &o.ObjectMeta, func() { in.UDPRoutes = append(in.UDPRoutes, o) })
	case "ReferenceGrant":
		o := &gatewayv1.ReferenceGrant{}
		return add(o, &o.ObjectMeta, func() { in.ReferenceGrants = append(in.ReferenceGrants, o) })
	case "Deployment", "ConfigMap", "BackendTLSPolicy":
		return nil
	}
	return fmt.Errorf("kind %q: not one the harness knows", tm.Kind)
}

// conformanceSecrets are the TLS Secrets the suite's setup creates before
// any test (suite.go), with the names its manifests reference: each a
// certificate for the DNS names the suite gives it, signed by one CA.
func conformanceSecrets(t *testing.T) []*corev1.Secret {
	t.Helper()
	ca := newTestCert(t, nil, "conformance CA", true)
	secret := func(ns, name string, dns ...string) *corev1.Secret {
		c := newTestCert(t, ca, dns[0], false, dns...)
		key, err := x509.MarshalECPrivateKey(c.key)
		if err != nil {
			t.Fatal(err)
		}
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Type:       corev1.SecretTypeTLS,
			Data: map[string][]byte{
				corev1.TLSCertKey:       c.certPEM(),
				corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: key}),
			},
		}
	}
	return []*corev1.Secret{
		secret(conformanceWeb, "certificate", "*"),
		secret(conformanceInfra, "tls-validity-checks-certificate", "*", "*.org", "*.wildcard.org"),
		secret(conformanceInfra, "tls-checks-certificate", "abc.example.com", "other.example.com"),
		secret(conformanceInfra, "tls-passthrough-checks-certificate", "abc.example.com"),
		secret(conformanceApp, "tls-passthrough-checks-certificate", "abc.example.com"),
		secret(conformanceInfra, "tls-terminate-checks-certificate", "tls.example.com"),
	}
}

// TestConformanceManifestsDecode: every copied manifest decodes, strictly,
// into the Input with the base manifests, and each keeps its Gateway API
// objects (a typo in a kind or field would otherwise fail every case
// that uses it for a reason that is not the translator's).
func TestConformanceManifestsDecode(t *testing.T) {
	files, err := filepath.Glob(conformanceDir + "tests/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	base := conformanceInput(t)
	if len(base.Gateways) != 4 || len(base.Namespaces) != 3 {
		t.Fatalf("base manifests: %d Gateways and %d Namespaces, want 4 and 3", len(base.Gateways), len(base.Namespaces))
	}
	for _, f := range files {
		in := conformanceInput(t, strings.TrimPrefix(f, conformanceDir))
		objects := len(in.Gateways) + len(in.HTTPRoutes) + len(in.GRPCRoutes) + len(in.TLSRoutes) + len(in.TCPRoutes) + len(in.UDPRoutes) +
			len(in.ReferenceGrants) + len(in.GatewayClasses) + len(in.Services) + len(in.Secrets)
		before := len(base.Gateways) + len(base.GatewayClasses) + len(base.Services) + len(base.Secrets)
		if objects <= before {
			t.Errorf("%s: decodes to no object of its own", f)
		}
	}
}

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The names the fixtures route by. Every request of the tests carries one
// of these as its Host (or TLS server name); none is resolved by DNS.
const (
	namespace   = "e2e"
	exactHost   = "exact.example.com"
	pathsHost   = "paths.example.com"
	secureHost  = "secure.example.com"
	secureHost2 = "secure2.example.com"
	tlsSecret   = "e2e-tls"
)

// fixture is what the manifests are made from: the ports of the real
// backends, the ports fairway gives the Ingress and LoadBalancer listeners,
// and the certificate of the TLS Secret.
type fixture struct {
	httpPort, httpsPort, lbPort int
	backends                    map[string]int // HTTP echo servers by Service name
	tcpBackend                  int
	certPEM, keyPEM             []byte
}

// manifests are the fixture's files by name. Every Service is named after
// the backend behind it; each has an EndpointSlice with 127.0.0.1 and the
// backend's real port, reached through the named target port "http".
func (f *fixture) manifests() map[string]string {
	return map[string]string{
		"ingressclass.yaml":   ingressClassYAML,
		"services.yaml":       f.servicesYAML(),
		"endpointslices.yaml": f.endpointSlicesYAML(),
		"ingress-hosts.yaml":  hostsIngressYAML,
		"ingress-paths.yaml":  pathsIngressYAML,
		"ingress-secure.yaml": secureIngressYAML(secureHost),
		"secret.yaml":         f.secretYAML(),
	}
}

// The IngressClass is not the default class: every Ingress names it.
const ingressClassYAML = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: fairway
spec:
  controller: fairway.dev/ingress-controller
`

func (f *fixture) servicesYAML() string {
	var b strings.Builder
	for _, name := range sortedKeys(f.backends) {
		fmt.Fprintf(&b, `apiVersion: v1
kind: Service
metadata: {name: %s, namespace: %s}
spec:
  ports: [{name: http, port: 80, targetPort: http}]
---
`, name, namespace)
	}
	fmt.Fprintf(&b, `apiVersion: v1
kind: Service
metadata: {name: tcp-echo, namespace: %s}
spec:
  type: LoadBalancer
  ports: [{name: echo, port: %d, targetPort: echo, protocol: TCP}]
`, namespace, f.lbPort)
	return b.String()
}

func (f *fixture) endpointSlicesYAML() string {
	var b strings.Builder
	slice := func(service, portName string, port int) {
		fmt.Fprintf(&b, `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-e2e
  namespace: %[2]s
  labels: {kubernetes.io/service-name: %[1]s}
addressType: IPv4
ports: [{name: %[3]s, port: %[4]d, protocol: TCP}]
endpoints:
- addresses: [127.0.0.1]
  conditions: {ready: true, serving: true, terminating: false}
---
`, service, namespace, portName, port)
	}
	for _, name := range sortedKeys(f.backends) {
		slice(name, "http", f.backends[name])
	}
	slice("tcp-echo", "echo", f.tcpBackend)
	return b.String()
}

// hostsIngressYAML: an exact host, a single-label wildcard and a rule
// without a host, which lives in the catch-all virtual host. Backends are
// named by port number here and by port name elsewhere: both must resolve.
const hostsIngressYAML = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: hosts, namespace: e2e}
spec:
  ingressClassName: fairway
  rules:
  - host: exact.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: exact-host, port: {number: 80}}}}
  - host: "*.example.com"
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: wildcard-host, port: {number: 80}}}}
  - http:
      paths:
      - {path: /shared, pathType: Prefix, backend: {service: {name: shared, port: {name: http}}}}
`

// pathsIngressYAML: Prefix against Exact, nested prefixes, a rule with a
// trailing slash, an Exact-only path, all on one host.
const pathsIngressYAML = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: paths, namespace: e2e}
spec:
  ingressClassName: fairway
  rules:
  - host: paths.example.com
    http:
      paths:
      - {path: /foo, pathType: Prefix, backend: {service: {name: foo, port: {name: http}}}}
      - {path: /foo/bar, pathType: Prefix, backend: {service: {name: foo-bar, port: {name: http}}}}
      - {path: /foo/bar, pathType: Exact, backend: {service: {name: foo-bar-exact, port: {name: http}}}}
      - {path: /docs/, pathType: Prefix, backend: {service: {name: docs, port: {number: 80}}}}
      - {path: /version, pathType: Exact, backend: {service: {name: version, port: {number: 80}}}}
`

// secureIngressYAML serves the given hosts over HTTPS with the fixture's
// Secret, and over plain HTTP too (fairway does not redirect).
func secureIngressYAML(hosts ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: secure, namespace: e2e}
spec:
  ingressClassName: fairway
  tls:
  - hosts: [%s]
    secretName: %s
  rules:
`, strings.Join(hosts, ", "), tlsSecret)
	for _, h := range hosts {
		fmt.Fprintf(&b, `  - host: %s
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: secure, port: {number: 80}}}}
`, h)
	}
	return b.String()
}

// defaultBackendYAML is an Ingress with only a default backend, which then
// takes every request no rule matches, on every host.
const defaultBackendYAML = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: fallback, namespace: e2e}
spec:
  ingressClassName: fairway
  defaultBackend: {service: {name: fallback, port: {number: 80}}}
`

// missingBackendYAML routes one path to a Service that does not exist: that
// path alone gets a 503 and fairway reports BackendNotFound.
const missingBackendYAML = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: missing, namespace: e2e}
spec:
  ingressClassName: fairway
  rules:
  - host: paths.example.com
    http:
      paths:
      - {path: /missing, pathType: Prefix, backend: {service: {name: absent, port: {number: 80}}}}
`

func (f *fixture) secretYAML() string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: %s, namespace: %s}
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
`, tlsSecret, namespace, base64.StdEncoding.EncodeToString(f.certPEM), base64.StdEncoding.EncodeToString(f.keyPEM))
}

// selfSigned makes an ECDSA P-256 certificate for hosts, valid for a day,
// and returns it and its key as PEM. The test trusts exactly this
// certificate, so a handshake that verifies proves Envoy served it.
func selfSigned(t *testing.T, hosts ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"fairway e2e"}, CommonName: hosts[0]},
		DNSNames:              hosts,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// writeManifests writes files into dir the way an editor saves: to a
// hidden file beside it, then a rename, so fairway never reads half a file.
func writeManifests(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

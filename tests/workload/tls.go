package workload

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// group is the wildcard certificate group of Ingress i. A Secret is read
// from the Ingress's own namespace, so a group holds hosts of one
// namespace: group k lives in namespace k mod Namespaces, and holds that
// namespace's Ingresses in runs of HostsPerSecret.
func (g *generator) group(i int) int {
	n := g.scale.Namespaces
	root := i % g.scale.Services
	return (i/n/g.scale.HostsPerSecret)*n + root%n
}

func secretName(group int) string { return fmt.Sprintf("wildcard-g%d", group) }

// wildcardSecrets is one kubernetes.io/tls Secret per group the Ingresses
// use, sorted by group.
func (g *generator) wildcardSecrets() []*corev1.Secret {
	var groups []int
	seen := map[int]bool{}
	for i := range g.scale.Ingresses {
		if k := g.group(i); !seen[k] {
			seen[k] = true
			groups = append(groups, k)
		}
	}
	slices.Sort(groups)
	issuer := newIssuer()
	out := make([]*corev1.Secret, 0, len(groups))
	for _, k := range groups {
		cert, key := issuer.wildcard(fmt.Sprintf("*.g%d.example.com", k))
		out = append(out, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: secretName(k), Namespace: g.namespace(k), CreationTimestamp: created(k)},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key},
		})
	}
	return out
}

// AddedTLSHost is a new Ingress beside orig, a TLS Ingress of the
// workload: the n-th host added to orig's wildcard group, served by the
// group's Secret, with orig's paths. It is what a team deploying one more
// site does, and what the benchmarks add to measure a TLS host's cost.
func AddedTLSHost(orig *networkingv1.Ingress, n int) *networkingv1.Ingress {
	ing := orig.DeepCopy()
	_, domain, _ := strings.Cut(orig.Spec.Rules[0].Host, ".")
	host := fmt.Sprintf("added-%d.%s", n, domain)
	ing.Name = fmt.Sprintf("%s-added-%d", orig.Name, n)
	ing.CreationTimestamp = metav1.NewTime(orig.CreationTimestamp.AddDate(1, 0, 0).Add(time.Duration(n) * time.Second))
	ing.Spec.Rules[0].Host = host
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: orig.Spec.TLS[0].SecretName}}
	return ing
}

// issuer makes certificates that are the same on every run, so that the
// sizes a benchmark reports do not move between runs. The leaf keys are
// ECDSA P-256 (a key type Envoy serves, so fairway's checks accept them)
// drawn from a seeded generator; the issuer signs with Ed25519, whose
// signatures are deterministic, where ECDSA's are not. Nothing verifies
// the chain: fairway checks that the key matches the certificate and
// that Envoy can load it.
type issuer struct {
	rng  *rand.Rand
	key  ed25519.PrivateKey
	cert *x509.Certificate
	n    int64
}

func newIssuer() *issuer {
	rng := rand.New(rand.NewChaCha8([32]byte{'f', 'a', 'i', 'r', 'w', 'a', 'y'}))
	var seed [ed25519.SeedSize]byte
	fill(rng, seed[:])
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "workload CA"},
		NotBefore: epoch, NotAfter: epoch.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}
	return &issuer{rng: rng, key: ed25519.NewKeyFromSeed(seed[:]), cert: ca, n: 1}
}

// wildcard is a PEM certificate and PEM key for name.
func (is *issuer) wildcard(name string) (certPEM, keyPEM []byte) {
	key := is.leafKey()
	is.n++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(is.n), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: epoch, NotAfter: epoch.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(nil, tmpl, is.cert, &key.PublicKey, is.key)
	if err != nil {
		panic(fmt.Sprintf("workload certificate %s: %v", name, err))
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		panic(fmt.Sprintf("workload key %s: %v", name, err))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// leafKey draws scalars until one is a valid P-256 private key (all but
// about 2^-32 of them are).
func (is *issuer) leafKey() *ecdsa.PrivateKey {
	for {
		var d [32]byte
		fill(is.rng, d[:])
		if key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:]); err == nil {
			return key
		}
	}
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

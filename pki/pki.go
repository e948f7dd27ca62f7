// Package pki makes the certificates that secure xDS between fairway, its
// Envoy fleet and proxyless gRPC clients: one CA, a serving certificate for
// fairway, and client certificates whose URI SAN is the holder's identity.
// It is pure crypto/x509: no Kubernetes, no files, and the time is passed
// in, so that renewal decisions are testable and `fairway certgen` (or any
// other caller) owns where the keys live.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"slices"
	"time"
)

// Backdate is how far before "now" a certificate's validity starts, so a
// peer whose clock runs a little behind does not reject a fresh one.
const Backdate = 5 * time.Minute

// Usage says which side of a TLS handshake a leaf certificate is for.
type Usage int

const (
	// ServerAuth is fairway's serving certificate.
	ServerAuth Usage = iota
	// ClientAuth is a fleet Envoy's or a proxyless client's certificate.
	ClientAuth
)

func (u Usage) extKeyUsage() x509.ExtKeyUsage {
	if u == ServerAuth {
		return x509.ExtKeyUsageServerAuth
	}
	return x509.ExtKeyUsageClientAuth
}

// Leaf is what a leaf certificate must say: who it names and what for. A
// certificate that says anything else is re-issued.
type Leaf struct {
	CommonName string
	DNSNames   []string
	// IPs name a server reached by address rather than by name (tests on
	// loopback); certgen's certificates have none.
	IPs   []net.IP
	URIs  []string
	Usage Usage
}

// KeyPair is a certificate with its private key, parsed and in PEM.
type KeyPair struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// NewCA makes a self-signed CA with an ECDSA P-256 key (small, fast, and
// accepted by Envoy, grpc-go and grpc-js alike), valid from now for
// validity. It may sign only leaf certificates (path length 0).
func NewCA(commonName string, validity time.Duration, now time.Time) (*KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl, err := template(commonName, now, now.Add(validity))
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.MaxPathLenZero = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	return sign(tmpl, tmpl, key, key)
}

// Issue signs a new leaf certificate for l with a fresh key. Its validity
// never outlasts the CA's, so a leaf is never trusted by a chain that has
// already expired.
func (ca *KeyPair) Issue(l Leaf, validity time.Duration, now time.Time) (*KeyPair, error) {
	if !ca.Cert.IsCA {
		return nil, errors.New("pki: the signer is not a CA")
	}
	uris, err := parseURIs(l.URIs)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl, err := template(l.CommonName, now, notAfter)
	if err != nil {
		return nil, err
	}
	tmpl.DNSNames = slices.Clone(l.DNSNames)
	tmpl.IPAddresses = slices.Clone(l.IPs)
	tmpl.URIs = uris
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{l.Usage.extKeyUsage()}
	tmpl.BasicConstraintsValid = true
	return sign(tmpl, ca.Cert, key, ca.Key)
}

func template(cn string, now, notAfter time.Time) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-Backdate).UTC(),
		NotAfter:     notAfter.UTC(),
	}, nil
}

func sign(tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) (*KeyPair, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

func parseURIs(in []string) ([]*url.URL, error) {
	out := make([]*url.URL, 0, len(in))
	for _, s := range in {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			return nil, fmt.Errorf("pki: URI SAN %q is not an absolute URI", s)
		}
		out = append(out, u)
	}
	return out, nil
}

// ParseKeyPair reads a PEM certificate (the first one) and its ECDSA
// private key (PKCS#8 or SEC 1), and checks that they belong together.
func ParseKeyPair(certPEM, keyPEM []byte) (*KeyPair, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("pki: the key is %T, want ECDSA", pair.PrivateKey)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return &KeyPair{Cert: cert, Key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

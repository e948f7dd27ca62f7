package translator

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/annotations"
	"github.com/fairwayhq/fairway/translator/policy"
)

// The keys of a proxy-ssl-secret: the CAs the backend's certificate must
// chain to, and the certificate and key presented to the backend.
const (
	backendCAKey   = "ca.crt"
	backendCertKey = corev1.TLSCertKey
	backendKeyKey  = corev1.TLSPrivateKeyKey
)

// proxylessDenied is a route's plain cluster when proxyless clients must
// not reach its backend: they would speak to the pods in the clear,
// without the verification its Ingress asked for. It holds a NUL, which
// no cluster name does.
const proxylessDenied = "\x00denied"

// backendSecretState ties proxy-ssl-secret Secrets to the Ingresses that
// name them, which are checked again when the Secret changes, and to the
// clusters that use them (clusterState.tlsSecrets), whose SDS secrets
// are published from it.
type backendSecretState struct {
	readers secretReaders
	// published is the object each published Secret was built from.
	published map[nsName]*corev1.Secret
}

func newBackendSecretState() backendSecretState {
	return backendSecretState{readers: newSecretReaders(), published: map[nsName]*corev1.Secret{}}
}

// backendSecretChanged checks again the Ingresses whose proxy-ssl-secret
// is the Secret: one that became unusable must stop being served, and one
// that became usable is served again.
func (e *Engine) backendSecretChanged(k nsName) { e.reparse(&e.backendSecrets.readers, k) }

// checkBackendTLS checks the Secret of a freshly parsed Ingress's
// proxy-ssl-secret. Its Ingress is not served when the Secret is in
// another namespace, missing, or holds nothing usable: ingress-nginx
// denies such a location too, and serving it would send the traffic to
// a backend nobody verified.
func (e *Engine) checkBackendTLS(k nsName, st *ingressState) {
	s := &e.backendSecrets
	s.readers.set(k, nsName{}, false)
	// A canary's backend follows its main Ingress's annotations, its own
	// are ignored (IgnoredOnCanary): its Secret guards nothing.
	if st == nil || !st.served || st.policy == nil || st.policy.Upstream.TLS.Secret == "" || st.isCanary() {
		return
	}
	bt := st.policy.Upstream.TLS
	sk := backendSecretKey(bt)
	field := "metadata.annotations[" + annotations.WrittenKey(st.obj.Annotations, "proxy-ssl-secret") + "]"
	ps := problems(st.problems)
	defer func() { st.problems = ps }()
	if sk.namespace != k.namespace {
		ps.add(st.ref, InvalidAnnotation, "%s: Secret %s is in another namespace, which ingress-nginx refuses too; the Ingress is not served", field, bt.Secret)
		st.served = false
		return
	}
	s.readers.set(k, sk, true)
	if reason, err := checkBackendSecret(e.idx.secrets[sk], bt); err != nil {
		ps.add(st.ref, reason, "%s: Secret %s %v; the Ingress is not served, since its backend cannot be secured as asked", field, bt.Secret, err)
		st.served = false
	}
}

func backendSecretKey(bt policy.BackendTLS) nsName {
	ns, name, _ := strings.Cut(bt.Secret, "/")
	return nsName{ns, name}
}

// checkBackendSecret says what is wrong with a proxy-ssl-secret: it must
// exist, hold a CA bundle when verification is on, and whatever it holds
// of ca.crt, tls.crt and tls.key must load in Envoy.
func checkBackendSecret(s *corev1.Secret, bt policy.BackendTLS) (Reason, error) {
	if s == nil {
		return SecretNotFound, errors.New("is not found")
	}
	ca, cert, key := s.Data[backendCAKey], s.Data[backendCertKey], s.Data[backendKeyKey]
	_, hasKey := s.Data[backendKeyKey]
	switch {
	case hasKey && len(key) == 0 && s.Type == corev1.SecretTypeOpaque:
		return SecretInvalid, fmt.Errorf("has an empty data[%s]: fairway keeps no private key of an Opaque Secret in its cache, so a certificate to show the backend must be in a kubernetes.io/tls Secret", backendKeyKey)
	case bt.Verify && len(ca) == 0:
		return SecretInvalid, fmt.Errorf("has no data[%s], the CA to verify the backend against", backendCAKey)
	case len(ca) == 0 && len(cert) == 0 && len(key) == 0:
		return SecretInvalid, fmt.Errorf("holds neither data[%s] nor data[%s] and data[%s]", backendCAKey, backendCertKey, backendKeyKey)
	case (len(cert) == 0) != (len(key) == 0):
		return SecretInvalid, fmt.Errorf("needs both data[%s] and data[%s] to present a certificate, or neither", backendCertKey, backendKeyKey)
	}
	if len(ca) > 0 {
		if err := checkCABundle(ca); err != nil {
			return SecretInvalid, fmt.Errorf("data[%s]: %v", backendCAKey, err)
		}
	}
	if len(cert) > 0 {
		pair, err := tls.X509KeyPair(cert, key)
		if err == nil {
			err = checkEnvoyKey(pair.Certificate[0])
		}
		if err != nil {
			return SecretInvalid, fmt.Errorf("data[%s]: %v", backendCertKey, err)
		}
	}
	return "", nil
}

// checkCABundle accepts PEM holding only certificates, at least one, each
// of which parses: Envoy rejects a trusted CA file it cannot load whole.
func checkCABundle(b []byte) error {
	n := 0
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("holds a PEM %q block; want only CERTIFICATE", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("certificate %d: %v", n+1, err)
		}
		n++
	}
	if n == 0 || strings.TrimSpace(string(b)) != "" {
		return errors.New("is not a PEM bundle of certificates")
	}
	return nil
}

// backendTLS settles what the TLS of a route's backend checks and
// presents, from its policy and the Secret (checked with the Ingress),
// and notes the Secret as the cluster's. Backends spoken to in the clear
// ignore proxy-ssl-*, as nginx does, with a Problem.
func (t *translation) backendTLS(ref ObjectRef, field fmt.Stringer, pol *policy.Route, k *clusterKey) {
	if pol == nil || pol.Upstream.TLS.Secret == "" {
		return
	}
	bt := pol.Upstream.TLS
	if !k.up.TLS {
		t.problems.add(ref, InvalidAnnotation, "%s: the backend is spoken to in the clear, so proxy-ssl-* is ignored for it; set backend-protocol HTTPS or GRPCS to use TLS", field)
		return
	}
	sk := backendSecretKey(bt)
	v := envoy.UpstreamTLS{Ciphers: bt.Ciphers, MinVersion: envoyTLSVersion(bt.MinVersion), MaxVersion: envoyTLSVersion(bt.MaxVersion)}
	if bt.Verify {
		// nginx's depth counts the CAs between the certificate and the
		// trusted one, Envoy's counts the trusted one too.
		v.CASecret, v.SubjectAltName, v.MaxVerifyDepth = envoy.UpstreamCASecretName(sk.namespace, sk.name), bt.Name, max(bt.VerifyDepth, 1)+1
	}
	// Only the client certificate depends on what the Secret holds: the
	// CA is asked for, and were the Secret gone (it cannot be, the
	// Ingress is checked again when it goes), the cluster would name a
	// CA that is not published, and the snapshot would not be published.
	if s := t.idx.secrets[sk]; s != nil && len(s.Data[backendCertKey]) > 0 {
		v.CertSecret = envoy.UpstreamCertSecretName(sk.namespace, sk.name)
	}
	if bt.ServerName {
		v.SNI = bt.Name
	}
	// A key holds only what changes the cluster: with nothing to verify,
	// present or set, the cluster is the plain TLS one, and two routes to
	// it must give equal keys (the first user's key is the cluster's, and
	// a Secret counted through one key but not the other would be
	// published or not by the order the routes were met in).
	if v == (envoy.UpstreamTLS{}) {
		return
	}
	k.up.Verify = &v
	if v.CASecret != "" || v.CertSecret != "" {
		k.tlsSecret = &sk
	}
}

func envoyTLSVersion(v policy.TLSVersion) envoy.TLSVersion {
	switch v {
	case policy.TLSv1:
		return envoy.TLSv1_0
	case policy.TLSv1_1:
		return envoy.TLSv1_1
	case policy.TLSv1_2:
		return envoy.TLSv1_2
	case policy.TLSv1_3:
		return envoy.TLSv1_3
	}
	return envoy.TLSAuto
}

// publishBackendSecrets puts the SDS secrets of the Secrets that clusters
// use, built again only when the object changed, and removes those no
// cluster uses any more.
func (e *Engine) publishBackendSecrets() error {
	s := &e.backendSecrets
	for sk, obj := range s.published {
		if e.clusters.tlsSecrets[sk] == 0 || e.idx.secrets[sk] != obj {
			e.envoy.remove(KindSecret, envoy.UpstreamCASecretName(sk.namespace, sk.name))
			e.envoy.remove(KindSecret, envoy.UpstreamCertSecretName(sk.namespace, sk.name))
			delete(s.published, sk)
		}
	}
	for sk := range e.clusters.tlsSecrets {
		obj := e.idx.secrets[sk]
		if _, done := s.published[sk]; done || obj == nil {
			continue
		}
		if ca := obj.Data[backendCAKey]; len(ca) > 0 {
			name := envoy.UpstreamCASecretName(sk.namespace, sk.name)
			r, err := encode(name, envoy.ValidationContextSecret(name, ca), nil)
			if err != nil {
				return err
			}
			e.envoy.put(KindSecret, r)
		}
		if cert := obj.Data[backendCertKey]; len(cert) > 0 {
			name := envoy.UpstreamCertSecretName(sk.namespace, sk.name)
			r, err := encode(name, envoy.TLSSecret(name, cert, obj.Data[backendKeyKey]), nil)
			if err != nil {
				return err
			}
			e.envoy.put(KindSecret, r)
		}
		s.published[sk] = obj
	}
	return nil
}

package translator

import (
	"crypto/x509"
	"encoding/pem"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// TestNginxE2EAuthTLS ports ingress-nginx's e2e cases for client
// certificates (test/e2e/annotations/authtls.go) to fairway: one Secret
// named after the host holds the server's certificate and key and the CA
// (its CreateIngressMASecret), used by spec.tls and auth-tls-secret
// alike. Where nginx answers a client without a certificate with 400, or
// redirects it to auth-tls-error-page with 302, Envoy refuses its
// handshake; the rows say so.
func TestNginxE2EAuthTLS(t *testing.T) {
	const host, ns = "authtls.foo.com", "authtls"
	c := newClients(t)
	server := issue(t, host, c.ca, false)
	keyDER, err := x509.MarshalECPrivateKey(server.key)
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: host, Namespace: ns},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       server.certPEM(),
			corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
			caCertKey:               c.ca.certPEM(),
		},
	}
	class := "fairway"
	for _, tc := range []struct {
		source           string
		annotations      map[string]string
		refusedWithout   bool // a client without a certificate
		verifyHeader     string
		passesClientCert bool
	}{
		{
			source:         `should set valid auth-tls-secret: without a certificate nginx answers 400, Envoy refuses the handshake; with one, 200`,
			annotations:    map[string]string{"nginx.ingress.kubernetes.io/auth-tls-secret": ns + "/" + host},
			refusedWithout: true, verifyHeader: "SUCCESS",
		},
		{
			source: `should set valid auth-tls-secret, sslVerify to off, and sslVerifyDepth to 2: 200 without a certificate`,
			annotations: map[string]string{
				"nginx.ingress.kubernetes.io/auth-tls-secret":        ns + "/" + host,
				"nginx.ingress.kubernetes.io/auth-tls-verify-client": "off",
				"nginx.ingress.kubernetes.io/auth-tls-verify-depth":  "2",
			},
			verifyHeader: "NONE",
		},
		{
			source: `should set valid auth-tls-secret, pass certificate to upstream, and error page: nginx's 302 to the page is Envoy's refused handshake; with a certificate, 200 and ssl-client-cert`,
			annotations: map[string]string{
				"nginx.ingress.kubernetes.io/auth-tls-secret":                       ns + "/" + host,
				"nginx.ingress.kubernetes.io/auth-tls-error-page":                   "http://" + host + "/error",
				"nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream": "true",
			},
			refusedWithout: true, verifyHeader: "SUCCESS", passesClientCert: true,
		},
	} {
		ing := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: host, Namespace: ns, Annotations: tc.annotations},
			Spec: networkingv1.IngressSpec{
				IngressClassName: &class,
				TLS:              []networkingv1.IngressTLS{tlsEntry(host, host)},
				Rules:            []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{echoPath()}}}}},
			},
		}
		in := Input{
			IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "fairway"}, Spec: networkingv1.IngressClassSpec{Controller: "fairway.dev/ingress-controller"}}},
			Services:       []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: ns}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}},
			Secrets:        []*corev1.Secret{secret},
			Ingresses:      []*networkingv1.Ingress{ing},
		}
		res := Translate(in, Options{})
		if res.err != nil {
			t.Fatal(res.err)
		}
		caSent := false
		for _, s := range res.Secrets {
			caSent = caSent || s.GetName() == envoy.CASecretName(ns, host)
		}
		if caSent != tc.refusedWithout { // every case but "off" asks for a certificate
			t.Errorf("%s: the CA secret sent %v, want %v", tc.source, caSent, tc.refusedWithout)
		}
		without := connect(t, res, request{authority: host, path: "/"})
		if without.handshakeRefused != tc.refusedWithout {
			t.Errorf("%s: without a certificate: refused %v, want %v", tc.source, without.handshakeRefused, tc.refusedWithout)
		}
		with := connect(t, res, request{authority: host, path: "/"}, c.good.cert)
		if with.handshakeRefused || with.cluster != ns+"/echo/80" {
			t.Errorf("%s: with a certificate: %+v", tc.source, with)
			continue
		}
		if got := with.upstreamHeaders[envoy.ClientVerifyHeader]; got != tc.verifyHeader {
			t.Errorf("%s: ssl-client-verify %q, want %q", tc.source, got, tc.verifyHeader)
		}
		if _, got := with.upstreamHeaders[envoy.ClientCertHeader]; got != tc.passesClientCert {
			t.Errorf("%s: ssl-client-cert sent %v, want %v", tc.source, got, tc.passesClientCert)
		}
	}
}

func echoPath() networkingv1.HTTPIngressPath {
	prefix := networkingv1.PathTypePrefix
	return networkingv1.HTTPIngressPath{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "echo", Port: networkingv1.ServiceBackendPort{Number: 80}}}}
}

package translator

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fairwayhq/fairway/envoy"
)

func (c *testCA) keyPEM(t *testing.T) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(c.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func (c *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.cert)
	return p
}

// presenting is a backend presenting leaf and then the intermediates.
func presenting(leaf *testCA, intermediates ...*testCA) tlsBackend {
	chain := [][]byte{leaf.cert.Raw}
	for _, i := range intermediates {
		chain = append(chain, i.cert.Raw)
	}
	return tlsBackend{cert: tls.Certificate{Certificate: chain, PrivateKey: leaf.key}}
}

// proxySSLInput is one HTTPS-backend Ingress for secure.example.com with
// the proxy-ssl-* annotations given (without prefix), and the Secret
// default/backend-tls holding data.
func proxySSLInput(annotations map[string]string, data map[string][]byte) Input {
	ann := map[string]string{annotationPrefix + "backend-protocol": "HTTPS", annotationPrefix + "proxy-ssl-secret": "default/backend-tls"}
	for k, v := range annotations {
		ann[annotationPrefix+"proxy-ssl-"+k] = v
	}
	prefix := networkingv1.PathTypePrefix
	class := "fairway"
	return Input{
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: class}, Spec: networkingv1.IngressClassSpec{Controller: "fairway.dev/ingress-controller"}}},
		Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 443}}}}},
		Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "backend-tls", Namespace: "default"}, Data: data}},
		Ingresses: []*networkingv1.Ingress{{
			ObjectMeta: metav1.ObjectMeta{Name: "secure", Namespace: "default", Annotations: ann},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
				Host: "secure.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &prefix,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 443}}},
				}}}},
			}}},
		}},
	}
}

// TestProxySSLOutcomes follows a request for an Ingress with proxy-ssl-*
// to its cluster, then the cluster's TLS handshake to a backend with real
// certificates: a backend certificate from the Secret's CA with the
// right name is accepted, a wrong CA, a wrong name or too deep a chain is
// refused (the request gets 503, as from Envoy), and with verification
// off any certificate is accepted. SNI, the client certificate, the
// protocol bounds and the cipher list reach the backend as asked.
func TestProxySSLOutcomes(t *testing.T) {
	ca, other := newTestCert(t, nil, "backend CA", true), newTestCert(t, nil, "another CA", true)
	inter := newTestCert(t, ca, "intermediate", true)
	inter2 := newTestCert(t, inter, "intermediate 2", true)
	const name = "web.default.svc"
	good := newTestCert(t, ca, "web", false, name)
	strange := newTestCert(t, other, "web", false, name)
	misnamed := newTestCert(t, ca, "web", false, "db.default.svc")
	wildcard := newTestCert(t, ca, "web", false, "*.default.svc")
	viaOne := newTestCert(t, inter, "web", false, name)
	viaTwo := newTestCert(t, inter2, "web", false, name)
	edge := newTestCert(t, ca, "edge", false)
	caOnly := map[string][]byte{"ca.crt": ca.certPEM()}
	withCert := map[string][]byte{"ca.crt": ca.certPEM(), "tls.crt": edge.certPEM(), "tls.key": edge.keyPEM(t)}
	verify := map[string]string{"verify": "on", "name": name}
	cases := []struct {
		name    string
		ann     map[string]string
		data    map[string][]byte
		backend tlsBackend
		status  int
		check   func(upstreamOutcome) bool
	}{
		{"the CA's certificate with the name", verify, caOnly, presenting(good), 0, nil},
		{"another CA's certificate", verify, caOnly, presenting(strange), 503, nil},
		{"another name", verify, caOnly, presenting(misnamed), 503, nil},
		{"a wildcard covering the name", verify, caOnly, presenting(wildcard), 0, nil},
		{"no name: the chain only", map[string]string{"verify": "on"}, caOnly, presenting(misnamed), 0, nil},
		{"verification off", map[string]string{"verify": "off", "name": name}, caOnly, presenting(strange), 0, nil},
		{"one intermediate, depth 1", verify, caOnly, presenting(viaOne, inter), 0, nil},
		{"two intermediates, depth 1", verify, caOnly, presenting(viaTwo, inter2, inter), 503, nil},
		{"two intermediates, depth 2", map[string]string{"verify": "on", "name": name, "verify-depth": "2"}, caOnly, presenting(viaTwo, inter2, inter), 0, nil},
		{"no SNI by default", verify, caOnly, presenting(good), 0, func(o upstreamOutcome) bool { return o.sni == "" }},
		{"SNI with server-name on", map[string]string{"verify": "on", "name": name, "server-name": "on"}, caOnly, presenting(good), 0,
			func(o upstreamOutcome) bool { return o.sni == name }},
		{"TLS 1.2 by default", verify, caOnly, presenting(good), 0, func(o upstreamOutcome) bool { return o.version == tls.VersionTLS12 }},
		{"TLS 1.3 when asked", map[string]string{"verify": "on", "name": name, "protocols": "TLSv1.3"}, caOnly, presenting(good), 0,
			func(o upstreamOutcome) bool { return o.version == tls.VersionTLS13 }},
		{"the cipher asked for", map[string]string{"ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384"}, caOnly, presenting(good), 0,
			func(o upstreamOutcome) bool { return o.cipher == tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 }},
		{"a cipher the backend lacks", map[string]string{"ciphers": "ECDHE-RSA-AES128-GCM-SHA256"}, caOnly, presenting(good), 503, nil},
		{"the client certificate", verify, withCert, tlsBackend{cert: presenting(good).cert, clientCA: ca.pool()}, 0,
			func(o upstreamOutcome) bool { return o.clientCert }},
		{"no client certificate for a backend that wants one", verify, caOnly, tlsBackend{cert: presenting(good).cert, clientCA: ca.pool()}, 503, nil},
	}
	for _, c := range cases {
		res := Translate(proxySSLInput(c.ann, c.data), Options{})
		out := evaluate(t, routeConfig(res, envoy.HTTPRouteConfig), request{authority: "secure.example.com", path: "/"})
		if out.status != 0 {
			t.Fatalf("%s: the route answers %d itself; problems %v", c.name, out.status, res.Problems)
		}
		got := connectUpstream(t, res, out.cluster, c.backend)
		if got.status != c.status || (c.check != nil && !c.check(got)) {
			t.Errorf("%s: %+v, want status %d", c.name, got, c.status)
		}
	}
}

// TestProxySSLSecretLifecycle: the Secret of proxy-ssl-secret is read
// with its Ingress, and its changes reach the Ingress. Deleted, the
// Ingress stops being served and its cluster and SDS secrets go; back,
// all return; rotated, only the SDS secret changes, not the cluster;
// stripped of ca.crt while verification is on, the Ingress stops being
// served again. At every step the engine that saw the changes one by one
// equals a from-scratch translation.
func TestProxySSLSecretLifecycle(t *testing.T) {
	ca, rotated := newTestCert(t, nil, "backend CA", true), newTestCert(t, nil, "backend CA 2", true)
	in := proxySSLInput(map[string]string{"verify": "on", "name": "web.default.svc"}, map[string][]byte{"ca.crt": ca.certPEM()})
	secret := in.Secrets[0]
	caName := envoy.UpstreamCASecretName("default", "backend-tls")
	e := NewEngine(Options{})
	e.Sync(in)
	step := func(label string, in Input, served bool) Output {
		t.Helper()
		out := e.Output()
		cold := NewEngine(Options{})
		cold.Sync(in)
		if diff := compareOutputs(out, cold.Output()); diff != "" {
			t.Fatalf("%s: incremental and from-scratch differ: %s", label, diff)
		}
		res := out.Result()
		got := evaluate(t, routeConfig(res, envoy.HTTPRouteConfig), request{authority: "secure.example.com", path: "/"})
		if (got.status == 0) != served || (out.Envoy.Get(KindSecret, caName) != nil) != served {
			t.Fatalf("%s: outcome %+v, CA secret published %v; want served %v; problems %v", label, got, out.Envoy.Get(KindSecret, caName) != nil, served, res.Problems)
		}
		return out
	}
	first := step("the Secret", in, true)
	cluster := first.Result().Clusters[0].GetName()
	clusterBytes, caBytes := first.Envoy.Get(KindCluster, cluster).Bytes, first.Envoy.Get(KindSecret, caName).Bytes

	if err := e.Delete(secret); err != nil {
		t.Fatal(err)
	}
	in.Secrets = nil
	step("the Secret deleted", in, false)

	if err := e.Upsert(secret); err != nil {
		t.Fatal(err)
	}
	in.Secrets = []*corev1.Secret{secret}
	step("the Secret back", in, true)

	next := secret.DeepCopy()
	next.Data["ca.crt"] = rotated.certPEM()
	if err := e.Upsert(next); err != nil {
		t.Fatal(err)
	}
	in.Secrets = []*corev1.Secret{next}
	out := step("the CA rotated", in, true)
	if got := out.Envoy.Get(KindCluster, cluster); got == nil || string(got.Bytes) != string(clusterBytes) {
		t.Errorf("the CA rotated: the cluster changed")
	}
	if string(out.Envoy.Get(KindSecret, caName).Bytes) == string(caBytes) {
		t.Errorf("the CA rotated: the SDS secret did not change")
	}

	stripped := next.DeepCopy()
	delete(stripped.Data, "ca.crt")
	stripped.Data["tls.crt"], stripped.Data["tls.key"] = ca.certPEM(), ca.keyPEM(t)
	if err := e.Upsert(stripped); err != nil {
		t.Fatal(err)
	}
	in.Secrets = []*corev1.Secret{stripped}
	step("ca.crt removed", in, false)
}

// TestProxySSLProxyless: a proxyless gRPC client dials the pods itself
// over the plain cluster, which cannot verify the backend; where the
// Ingress asks for verification it gets 503 rather than an unverified
// connection, while the fleet's route keeps the verifying cluster. An
// HTTPS backend without verification keeps the plain cluster, as
// before.
func TestProxySSLProxyless(t *testing.T) {
	ca := newTestCert(t, nil, "backend CA", true)
	for _, c := range []struct {
		verify, want string
	}{
		{"on", "503"},
		{"off", "default/web/443"},
	} {
		in := proxySSLInput(map[string]string{"verify": c.verify}, map[string][]byte{"ca.crt": ca.certPEM()})
		res := Translate(in, Options{Proxyless: true})
		fleet := pick(t, routeConfig(res, envoy.HTTPRouteConfig), "secure.example.com", "/")
		if got := pick(t, proxylessRoutes(t, res, "secure.example.com"), "secure.example.com", "/"); got != c.want {
			t.Errorf("verify %s: proxyless %q, want %q (fleet %q)", c.verify, got, c.want, fleet)
		}
		if !strings.HasPrefix(fleet, "default/web/443/tls") {
			t.Errorf("verify %s: the fleet's route names %q, want the TLS cluster", c.verify, fleet)
		}
	}
}

// TestProxySSLCanary: a canary's requests follow its main Ingress's
// annotations, as in ingress-nginx. The canary's backend is verified as
// the main Ingress asks; the canary's own proxy-ssl-secret, even one
// that names no Secret, is ignored and does not keep it from being
// served.
func TestProxySSLCanary(t *testing.T) {
	ca := newTestCert(t, nil, "backend CA", true)
	in := proxySSLInput(map[string]string{"verify": "on"}, map[string][]byte{"ca.crt": ca.certPEM()})
	canary := in.Ingresses[0].DeepCopy()
	canary.Name = "secure-canary"
	canary.CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	in.Ingresses[0].CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	canary.Annotations = map[string]string{
		annotationPrefix + "canary": "true", annotationPrefix + "canary-by-header": "X-Canary",
		annotationPrefix + "proxy-ssl-secret": "default/absent", annotationPrefix + "proxy-ssl-verify": "on",
	}
	canary.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "web-canary"
	in.Services = append(in.Services, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web-canary", Namespace: "default"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 443}}}})
	in.Ingresses = append(in.Ingresses, canary)
	res := Translate(in, Options{})
	out := evaluate(t, routeConfig(res, envoy.HTTPRouteConfig), request{authority: "secure.example.com", path: "/", headers: map[string]string{"X-Canary": "always"}})
	if out.status != 0 || !strings.HasPrefix(out.cluster, "default/web-canary/443/tls/proxy-ssl-") {
		t.Fatalf("the canary's request: %+v, want the canary's verifying cluster; problems %v", out, res.Problems)
	}
	strange := newTestCert(t, newTestCert(t, nil, "another CA", true), "web", false, "web.default.svc")
	if got := connectUpstream(t, res, out.cluster, presenting(strange)); got.status != 503 {
		t.Errorf("the canary's backend with another CA's certificate: %+v, want 503", got)
	}
	for _, p := range res.Problems {
		if p.Reason == SecretNotFound {
			t.Errorf("the canary's own Secret was read: %v", p)
		}
	}
}

package translatortest

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Poison is one oversized object with what it needs to be served, the
// shapes issue 13 names: each must be translated in bounded time or refused
// without holding up the rest. The translator's limit tests and the
// black-box test against `fairway serve --manifests` both use them, so the
// figures in the README come from the same objects the tests hold.
type Poison struct {
	Name    string
	Ingress *networkingv1.Ingress
	Secrets []*corev1.Secret // what spec.tls names, if anything
}

// PoisonClass is the IngressClass the poison Ingresses name: the default
// controller's.
func PoisonClass() *networkingv1.IngressClass {
	return &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "fairway"},
		Spec:       networkingv1.IngressClassSpec{Controller: "fairway.dev/ingress-controller"},
	}
}

// PoisonBackend is the Service every poison path sends to.
func PoisonBackend(ns string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}
}

// HugeAnnotation is an Ingress with one annotation of size bytes: beyond
// what the API server stores, but a file source has no such cap.
func HugeAnnotation(ns string, size int) Poison {
	ing := poisonIngress(ns, "huge-annotation", 1)
	ing.Annotations = map[string]string{"example.com/blob": strings.Repeat("x", size)}
	return Poison{Name: "annotation", Ingress: ing}
}

// ManyPaths is an Ingress with n Prefix paths on one host.
func ManyPaths(ns string, n int) Poison {
	return Poison{Name: "paths", Ingress: poisonIngress(ns, "many-paths", n)}
}

// ManyTLSHosts is an Ingress with n hosts, each a rule of one path and all
// in one spec.tls entry with a valid Secret (cert is a PEM cert/key pair).
func ManyTLSHosts(ns string, n int, cert [2][]byte) Poison {
	ing := poisonIngress(ns, "many-tls-hosts", 0)
	tls := networkingv1.IngressTLS{SecretName: "many-tls-hosts"}
	for i := range n {
		host := fmt.Sprintf("h%d.tls.example.com", i)
		tls.Hosts = append(tls.Hosts, host)
		ing.Spec.Rules = append(ing.Spec.Rules, poisonRule(host, 1))
	}
	ing.Spec.TLS = []networkingv1.IngressTLS{tls}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "many-tls-hosts"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: cert[0], corev1.TLSPrivateKeyKey: cert[1]},
	}
	return Poison{Name: "tls-hosts", Ingress: ing, Secrets: []*corev1.Secret{secret}}
}

// poisonIngress has one rule for poison.example.com with paths paths, or
// no rule when paths is 0.
func poisonIngress(ns, name string, paths int) *networkingv1.Ingress {
	class := "fairway"
	ing := &networkingv1.Ingress{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name,
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		},
		Spec: networkingv1.IngressSpec{IngressClassName: &class},
	}
	if paths > 0 {
		ing.Spec.Rules = []networkingv1.IngressRule{poisonRule(name+".example.com", paths)}
	}
	return ing
}

func poisonRule(host string, paths int) networkingv1.IngressRule {
	rule := networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}}
	prefix := networkingv1.PathTypePrefix
	for i := range paths {
		rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{
			Path: fmt.Sprintf("/p%d", i), PathType: &prefix,
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80},
			}},
		})
	}
	return rule
}

package translator

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const routingInput = `
ingressClasses:
- metadata: {name: fairway}
  spec: {controller: fairway.dev/ingress-controller}
services:
- {metadata: {name: exact, namespace: default}, spec: {ports: [{port: 80}]}}
- {metadata: {name: exact-api, namespace: default}, spec: {ports: [{port: 80}]}}
- {metadata: {name: exact-api-v1, namespace: default}, spec: {ports: [{port: 80}]}}
- {metadata: {name: wild, namespace: default}, spec: {ports: [{port: 80}]}}
- {metadata: {name: hostless, namespace: default}, spec: {ports: [{port: 80}]}}
- {metadata: {name: default, namespace: default}, spec: {ports: [{port: 80}]}}
- {metadata: {name: newer, namespace: default}, spec: {ports: [{port: 80}]}}
ingresses:
- metadata: {name: main, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}
  spec:
    ingressClassName: fairway
    defaultBackend: {service: {name: default, port: {number: 80}}}
    rules:
    - host: foo.com
      http:
        paths:
        - {path: /, pathType: Prefix, backend: {service: {name: exact, port: {number: 80}}}}
        - {path: /api/, pathType: Prefix, backend: {service: {name: exact-api, port: {number: 80}}}}
        - {path: /api, pathType: Exact, backend: {service: {name: exact-api-v1, port: {number: 80}}}}
        - {path: /API/v1, pathType: Prefix, backend: {service: {name: exact-api-v1, port: {number: 80}}}}
        - {path: /broken, pathType: Prefix, backend: {service: {name: gone, port: {number: 80}}}}
    - host: "*.foo.com"
      http: {paths: [{path: /app, pathType: Prefix, backend: {service: {name: wild, port: {number: 80}}}}]}
    - http: {paths: [{path: /shared, pathType: Prefix, backend: {service: {name: hostless, port: {number: 80}}}}]}
- metadata: {name: newer, namespace: default, creationTimestamp: "2026-02-01T00:00:00Z"}
  spec:
    ingressClassName: fairway
    rules:
    - host: foo.com
      http: {paths: [{path: /api, pathType: Prefix, backend: {service: {name: newer, port: {number: 80}}}}]}
    - host: bar.com
      http: {paths: [{path: /only, pathType: ImplementationSpecific, backend: {service: {name: newer, port: {number: 80}}}}]}
`

// TestRequestRouting pins each Ingress rule as requests and the backend
// they reach, through the route table fairway emits.
func TestRequestRouting(t *testing.T) {
	var in goldenInput
	if err := yaml.UnmarshalStrict([]byte(routingInput), &in); err != nil {
		t.Fatal(err)
	}
	res := Translate(in.Input, in.Options)
	rc := res.Routes[0]
	const (
		exact, exactAPI, exactAPIv1 = "default/exact/80", "default/exact-api/80", "default/exact-api-v1/80"
		wild, hostless, def, newer  = "default/wild/80", "default/hostless/80", "default/default/80", "default/newer/80"
	)
	cases := []struct{ rule, host, path, want string }{
		{"exact host", "foo.com", "/x", exact},
		{"host is case-insensitive", "FOO.Com", "/x", exact},
		{"host ignores the port", "foo.com:8080", "/x", exact},
		{"prefix is element-wise", "foo.com", "/api/users", exactAPI},
		{"prefix ignores the rule's trailing slash", "foo.com", "/api/", exactAPI},
		{"prefix does not match a longer element", "foo.com", "/apis", exact},
		{"exact beats prefix at equal length", "foo.com", "/api", exactAPIv1},
		{"paths are case-sensitive", "foo.com", "/api/V1", exactAPI},
		{"longest path wins", "foo.com", "/API/v1/x", exactAPIv1},
		{"the oldest Ingress keeps a duplicate path", "foo.com", "/api/x", exactAPI},
		{"a missing backend is a 503", "foo.com", "/broken/x", "503"},
		{"wildcard takes one label", "a.foo.com", "/app", wild},
		{"wildcard is case-insensitive", "A.FOO.com:443", "/app/x", wild},
		{"wildcard's unmatched path goes to the default backend", "a.foo.com", "/shared", def},
		{"a deeper name is not the wildcard's: host-less rules", "a.b.foo.com", "/shared", hostless},
		{"a deeper name is not the wildcard's: default backend", "a.b.foo.com", "/app", def},
		{"host-less rules serve unknown hosts", "other.org", "/shared/x", hostless},
		{"named hosts do not fall through to host-less rules", "bar.com", "/shared", def},
		{"unmatched paths of a named host get the default backend", "bar.com", "/nope", def},
		{"ImplementationSpecific is Prefix", "bar.com", "/only/more", newer},
		{"the apex is not the wildcard", "foo.com", "/app", exact},
	}
	for _, c := range cases {
		if got := pick(t, rc, c.host, c.path); got != c.want {
			t.Errorf("%s: %s%s went to %s, want %s", c.rule, c.host, c.path, got, c.want)
		}
	}
}

// TestRequestRoutingWithoutDefault: with no default backend and no
// host-less rule, what matches nothing is a 404, including a deeper name
// under a wildcard.
func TestRequestRoutingWithoutDefault(t *testing.T) {
	class, prefix := "fairway", networkingv1.PathTypePrefix
	in := Input{
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: class}, Spec: networkingv1.IngressClassSpec{Controller: DefaultIngressController}}},
		Ingresses: []*networkingv1.Ingress{{
			ObjectMeta: metav1.ObjectMeta{Name: "i", Namespace: "default"},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
				Host: "*.foo.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/a", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "s", Port: networkingv1.ServiceBackendPort{Number: 80}}},
				}}}},
			}}},
		}},
	}
	rc := Translate(in, Options{}).Routes[0]
	for _, c := range []struct{ host, path, want string }{
		{"x.foo.com", "/a", "503"}, // the Service is missing
		{"x.foo.com", "/b", "404"},
		{"y.x.foo.com", "/a", "404"},
		{"foo.com", "/a", "404"},
	} {
		if got := pick(t, rc, c.host, c.path); got != c.want {
			t.Errorf("%s%s went to %s, want %s", c.host, c.path, got, c.want)
		}
	}
}

package translator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// universe generates random objects from a small space, so that random
// changes collide: duplicate paths, port conflicts, shared Secrets, missing
// backends, equal timestamps.
type universe struct {
	r     *mrand.Rand
	certs [2][2][]byte // two valid cert/key pairs
	gen   int
}

var (
	uNamespaces = []string{"a", "b"}
	uServices   = []string{"web", "api", "db", "dns", "ext"}
	uIngresses  = []string{"i1", "i2", "i3", "i4", "i5", "i6"}
	uHosts      = []string{"", "x.com", "y.com", "*.w.com", "p.w.com", "*.q.w.com"}
	uPaths      = []string{"/", "/a", "/a/", "/a/b", "/b", "/ab"}
	uSecrets    = []string{"s1", "s2", "s3"}
	uNodes      = []string{"n1", "n2", "n3"}
)

func (u *universe) pick(s []string) string { return s[u.r.IntN(len(s))] }

func (u *universe) meta(ns, name string) metav1.ObjectMeta {
	u.gen++
	return metav1.ObjectMeta{
		Namespace: ns, Name: name,
		CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1+u.r.IntN(3), 0, 0, 0, 0, time.UTC)),
		ResourceVersion:   fmt.Sprint(u.gen),
	}
}

func (u *universe) service(ns, name string) *corev1.Service {
	svc := &corev1.Service{ObjectMeta: u.meta(ns, name)}
	switch u.r.IntN(6) {
	case 0, 1:
		svc.Spec.Type = corev1.ServiceTypeLoadBalancer
		if u.r.IntN(4) == 0 {
			class := u.pick([]string{"fairway.dev/lb", "other"})
			svc.Spec.LoadBalancerClass = &class
		}
		if u.r.IntN(3) == 0 {
			svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}
	case 2:
		svc.Spec.Type = corev1.ServiceTypeExternalName
		svc.Spec.ExternalName = "example.org"
		return svc
	}
	for _, port := range []int32{80, 443, 5432, 53} {
		if u.r.IntN(2) == 0 {
			continue
		}
		sp := corev1.ServicePort{Name: fmt.Sprint("p", port), Port: port, TargetPort: intstr.FromString("t")}
		if port == 53 && u.r.IntN(2) == 0 {
			sp.Protocol = corev1.ProtocolUDP
		}
		if u.r.IntN(3) > 0 {
			sp.NodePort = 30000 + port
		}
		if u.r.IntN(3) == 0 { // gRPC servers: pods shared across Services share listeners
			sp.AppProtocol = new(GRPCAppProtocol)
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	return svc
}

func (u *universe) slice(ns, svc string, n int) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  u.meta(ns, fmt.Sprint(svc, "-", n)),
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	es.Labels = map[string]string{discoveryv1.LabelServiceName: svc}
	for _, port := range []int32{80, 443, 5432, 53} {
		name, p, proto := fmt.Sprint("p", port), 8000+port+int32(n), corev1.ProtocolTCP
		if port == 53 && u.r.IntN(2) == 0 {
			proto = corev1.ProtocolUDP
		}
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &name, Port: &p, Protocol: &proto})
	}
	for range u.r.IntN(4) {
		ready, serving, terminating := u.r.IntN(3) > 0, u.r.IntN(2) == 0, u.r.IntN(3) == 0
		node, zone := u.pick(uNodes), u.pick([]string{"", "z1", "z2"})
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("10.0.%d.%d", u.r.IntN(3), u.r.IntN(4))},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
			NodeName:   &node, Zone: &zone,
		})
	}
	return es
}

func (u *universe) backend() networkingv1.IngressBackend {
	port := networkingv1.ServiceBackendPort{Number: []int32{80, 443, 53, 8080}[u.r.IntN(4)]}
	if u.r.IntN(3) == 0 {
		port = networkingv1.ServiceBackendPort{Name: u.pick([]string{"p80", "p5432", "nope"})}
	}
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: u.pick(uServices), Port: port}}
}

func (u *universe) ingress(ns, name string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: u.meta(ns, name)}
	switch u.r.IntN(5) {
	case 0:
	case 1:
		ing.Annotations = map[string]string{legacyClassAnnotation: "fairway"}
	case 2:
		c := "other"
		ing.Spec.IngressClassName = &c
	default:
		c := "fairway"
		ing.Spec.IngressClassName = &c
	}
	if u.r.IntN(4) == 0 {
		b := u.backend()
		ing.Spec.DefaultBackend = &b
	}
	types := []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific}
	for range u.r.IntN(3) {
		rule := networkingv1.IngressRule{Host: u.pick(uHosts), IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}}
		for range 1 + u.r.IntN(3) {
			pt := types[u.r.IntN(len(types))]
			rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{Path: u.pick(uPaths), PathType: &pt, Backend: u.backend()})
		}
		ing.Spec.Rules = append(ing.Spec.Rules, rule)
	}
	for range u.r.IntN(2) {
		tls := networkingv1.IngressTLS{SecretName: u.pick(uSecrets)}
		for range u.r.IntN(3) {
			if h := u.pick(uHosts); h != "" {
				tls.Hosts = append(tls.Hosts, h)
			}
		}
		ing.Spec.TLS = append(ing.Spec.TLS, tls)
	}
	return ing
}

func (u *universe) secret(ns, name string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: u.meta(ns, name), Type: corev1.SecretTypeTLS}
	pair := u.certs[u.r.IntN(2)]
	s.Data = map[string][]byte{corev1.TLSCertKey: pair[0], corev1.TLSPrivateKeyKey: pair[1]}
	if u.r.IntN(5) == 0 {
		s.Data[corev1.TLSPrivateKeyKey] = u.certs[1-u.r.IntN(2)][1][:20] // broken
	}
	return s
}

func (u *universe) node(name string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: u.meta("", name)}
	status := corev1.ConditionTrue
	if u.r.IntN(4) == 0 {
		status = corev1.ConditionFalse
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("192.168.0.%d", 1+u.r.IntN(9))}}
	return n
}

func (u *universe) class(name string) *networkingv1.IngressClass {
	c := &networkingv1.IngressClass{ObjectMeta: u.meta("", name), Spec: networkingv1.IngressClassSpec{Controller: DefaultIngressController}}
	if name == "other" {
		c.Spec.Controller = "example.com/other"
	}
	if u.r.IntN(2) == 0 {
		c.Annotations = map[string]string{defaultClassAnnotation: "true"}
	}
	return c
}

// mutate adds, replaces or removes one random object, and returns it.
func (u *universe) mutate(in *Input) (obj any, remove bool) {
	ns := u.pick(uNamespaces)
	remove = u.r.IntN(4) == 0
	switch u.r.IntN(7) {
	case 0, 1:
		o := u.ingress(ns, u.pick(uIngresses))
		in.Ingresses, obj = upsert(in.Ingresses, o, remove), o
	case 2:
		o := u.service(ns, u.pick(uServices))
		in.Services, obj = upsert(in.Services, o, remove), o
	case 3:
		o := u.slice(ns, u.pick(uServices), u.r.IntN(2))
		in.EndpointSlices, obj = upsert(in.EndpointSlices, o, remove), o
	case 4:
		o := u.secret(ns, u.pick(uSecrets))
		in.Secrets, obj = upsert(in.Secrets, o, remove), o
	case 5:
		o := u.node(u.pick(uNodes))
		in.Nodes, obj = upsert(in.Nodes, o, remove), o
	default:
		o := u.class(u.pick([]string{"fairway", "other"}))
		in.IngressClasses, obj = upsert(in.IngressClasses, o, remove), o
	}
	return obj, remove
}

// upsert replaces the object with o's namespace and name by o, or removes
// it, keeping the others (and their pointers) as they are.
func upsert[T any, PT interface {
	*T
	metav1.Object
}](objs []PT, o PT, remove bool) []PT {
	out := slices.DeleteFunc(slices.Clone(objs), func(x PT) bool {
		return x.GetNamespace() == o.GetNamespace() && x.GetName() == o.GetName()
	})
	if !remove {
		out = append(out, o)
	}
	return out
}

func testCertPair(t *testing.T, name string) [2][]byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return [2][]byte{pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})}
}

// TestIncrementalEqualsFromScratch is the guarantee that makes the
// incremental engine safe: after every one of many random adds, updates
// and deletes, an engine that has seen them all, as events (Upsert,
// Delete) or as whole states (Sync), gives byte-identical resources, and
// the same Problems and admissions, as a from-scratch Translate of the
// state at that point.
func TestIncrementalEqualsFromScratch(t *testing.T) {
	seeds, steps := 300, 40
	if testing.Short() {
		seeds = 60
	}
	certs := [2][2][]byte{testCertPair(t, "x.com"), testCertPair(t, "y.com")}
	for seed := range seeds {
		r := mrand.New(mrand.NewPCG(uint64(seed), 7))
		u := &universe{r: r, certs: certs}
		opts := Options{Proxyless: r.IntN(2) == 0}
		if r.IntN(3) == 0 {
			opts.LBTarget = LBTargetNodes
		}
		if r.IntN(3) == 0 {
			opts.LBClass = "fairway.dev/lb"
		}
		var in Input
		e := NewEngine(opts)
		events := seed%2 == 0
		for step := range steps {
			for range 1 + r.IntN(3) {
				obj, remove := u.mutate(&in)
				if !events {
					continue
				}
				var err error
				if remove {
					err = e.Delete(obj)
				} else {
					err = e.Upsert(obj)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !events {
				e.Sync(in)
			}
			warm := e.Output()
			if warm.Err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, warm.Err)
			}
			for _, set := range []*ResourceSet{warm.Envoy, warm.Proxyless} {
				if fast, slow := set.Check(), set.checkAll(); (fast == nil) != (slow == nil) {
					t.Fatalf("seed %d step %d: counted check %v, full check %v", seed, step, fast, slow)
				}
			}
			cold := NewEngine(opts)
			cold.Sync(in)
			if diff := compareOutputs(warm, cold.Output()); diff != "" {
				t.Fatalf("seed %d step %d: incremental differs from scratch:\n%s", seed, step, diff)
			}
		}
	}
}

func compareOutputs(warm, cold Output) string {
	for _, set := range []struct {
		name string
		w, c *ResourceSet
	}{{"envoy", warm.Envoy, cold.Envoy}, {"proxyless", warm.Proxyless, cold.Proxyless}} {
		for k := range NumKinds {
			w, c := set.w.Sorted(k), set.c.Sorted(k)
			if len(w) != len(c) {
				return fmt.Sprintf("%s %s: %v vs %v", set.name, k, names(w), names(c))
			}
			for i := range w {
				if w[i].Name != c[i].Name || string(w[i].Bytes) != string(c[i].Bytes) {
					return fmt.Sprintf("%s %s %q: bytes differ", set.name, k, w[i].Name)
				}
			}
		}
	}
	if d := cmp.Diff(cold.Problems, warm.Problems); d != "" {
		return "problems (-scratch +incremental):\n" + d
	}
	if d := cmp.Diff(cold.Admitted(), warm.Admitted()); d != "" {
		return "admitted (-scratch +incremental):\n" + d
	}
	return ""
}

func names(rs []*Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// Package translatortest holds what tests of more than one package use to
// drive the translator: a generator of random Kubernetes objects.
package translatortest

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

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator"
)

// Universe generates random objects from a small space, so that random
// changes collide: duplicate paths, port conflicts, shared Secrets, missing
// backends, equal timestamps. The translator's incremental property test
// and the xDS make-before-break property test both walk it.
type Universe struct {
	r     *mrand.Rand
	certs [2][2][]byte // two valid cert/key pairs
	gen   int
	// ar, when set (WithAddressing), draws the Services' address fields;
	// a source of its own keeps every seed's other objects as they were.
	ar *mrand.Rand
}

// NewUniverse walks the space with r; certs are two valid cert/key pairs
// (PEM) that Secrets use, sometimes broken.
func NewUniverse(r *mrand.Rand, certs [2][2][]byte) *Universe {
	return &Universe{r: r, certs: certs}
}

var (
	uNamespaces = []string{"a", "b"}
	uServices   = []string{"web", "api", "db", "dns", "ext"}
	uIngresses  = []string{"i1", "i2", "i3", "i4", "i5", "i6"}
	uHosts      = []string{"", "x.com", "y.com", "*.w.com", "p.w.com", "*.q.w.com"}
	uPaths      = []string{"/", "/a", "/a/", "/a/b", "/b", "/ab", "/a(/|$)(.*)", "/.well-known/acme-challenge/t"}
	uSecrets    = []string{"s1", "s2", "s3"}
	uNodes      = []string{"n1", "n2", "n3"}
)

func (u *Universe) pick(s []string) string { return s[u.r.IntN(len(s))] }

func (u *Universe) meta(ns, name string) metav1.ObjectMeta {
	u.gen++
	return metav1.ObjectMeta{
		Namespace: ns, Name: name,
		CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1+u.r.IntN(3), 0, 0, 0, 0, time.UTC)),
		ResourceVersion:   fmt.Sprint(u.gen),
	}
}

func (u *Universe) service(ns, name string) *corev1.Service {
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
		u.layer4Settings(svc)
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
			sp.AppProtocol = new(translator.GRPCAppProtocol)
		} else if u.r.IntN(4) == 0 { // other upstream protocols: variant clusters
			sp.AppProtocol = new(u.pick([]string{"kubernetes.io/h2c", "https", "kubernetes.io/wss", "example.com/custom"}))
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	u.address(svc)
	return svc
}

func (u *Universe) slice(ns, svc string, n int) *discoveryv1.EndpointSlice {
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

func (u *Universe) backend() networkingv1.IngressBackend {
	port := networkingv1.ServiceBackendPort{Number: []int32{80, 443, 53, 8080}[u.r.IntN(4)]}
	if u.r.IntN(3) == 0 {
		port = networkingv1.ServiceBackendPort{Name: u.pick([]string{"p80", "p5432", "nope"})}
	}
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: u.pick(uServices), Port: port}}
}

func (u *Universe) ingress(ns, name string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: u.meta(ns, name)}
	switch u.r.IntN(5) {
	case 0:
	case 1:
		ing.Annotations = map[string]string{"kubernetes.io/ingress.class": "fairway"}
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
	u.annotate(ing)
	types := []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific}
	for range u.r.IntN(3) {
		rule := networkingv1.IngressRule{Host: u.pick(uHosts), IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}}
		for range 1 + u.r.IntN(3) {
			pt := types[u.r.IntN(len(types))]
			rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{Path: u.pick(uPaths), PathType: &pt, Backend: u.backend()})
		}
		ing.Spec.Rules = append(ing.Spec.Rules, rule)
	}
	u.annotatePaths(ing)
	for range u.r.IntN(2) {
		tls := networkingv1.IngressTLS{SecretName: u.pick(uSecrets)}
		for range u.r.IntN(3) {
			if h := u.pick(uHosts); h != "" {
				tls.Hosts = append(tls.Hosts, h)
			}
		}
		ing.Spec.TLS = append(ing.Spec.TLS, tls)
	}
	u.tlsRedirect(ing)
	u.passthrough(ing)
	u.clientCert(ing)
	u.basicAuth(ing)
	return ing
}

// basicAuth asks now and then for a password from one of the auth
// Secrets, as auth-file or auth-map, which the annotations' own draw
// pairs too rarely. Like clientCert it draws nothing from r.
func (u *Universe) basicAuth(ing *networkingv1.Ingress) {
	if u.gen%7 != 3 {
		return
	}
	if ing.Annotations == nil {
		ing.Annotations = map[string]string{}
	}
	ing.Annotations["nginx.ingress.kubernetes.io/auth-type"] = "basic"
	ing.Annotations["nginx.ingress.kubernetes.io/auth-secret"] = uAuthSecrets[u.gen/7%len(uAuthSecrets)]
	if u.gen%2 == 0 {
		ing.Annotations["nginx.ingress.kubernetes.io/auth-secret-type"] = "auth-map"
	}
}

// passthrough makes one Ingress in six a passthrough one whose rules'
// first paths are "/", so that its hosts are passed through (or contested)
// often enough for the engine's property test to follow their changes;
// the annotations' own draw reaches it too rarely for that.
func (u *Universe) passthrough(ing *networkingv1.Ingress) {
	if u.r.IntN(6) != 0 {
		return
	}
	if ing.Annotations == nil {
		ing.Annotations = map[string]string{}
	}
	ing.Annotations["nginx.ingress.kubernetes.io/ssl-passthrough"] = "true"
	for _, rule := range ing.Spec.Rules {
		rule.HTTP.Paths[0].Path = "/"
	}
}

// clientCert asks now and then for client certificates, with a CA from
// one of the Secrets, which holds one two times in three. It draws
// nothing from r (the choice follows the generation counter), so every
// seed's other objects stay as they were.
func (u *Universe) clientCert(ing *networkingv1.Ingress) {
	if u.gen%5 != 0 {
		return
	}
	if ing.Annotations == nil {
		ing.Annotations = map[string]string{}
	}
	ca := uSecrets[u.gen/5%len(uSecrets)]
	if len(ing.Spec.TLS) > 0 && u.gen%10 != 0 { // most often the Secret of its own certificate, as ingress-nginx's e2e does
		ca = ing.Spec.TLS[0].SecretName
	}
	ing.Annotations["nginx.ingress.kubernetes.io/auth-tls-secret"] = ing.Namespace + "/" + ca
	modes := []string{"on", "optional", "optional_no_ca", "off"}
	ing.Annotations["nginx.ingress.kubernetes.io/auth-tls-verify-client"] = modes[u.gen/15%len(modes)]
}

// tlsRedirect sets the plain-HTTP annotations now and then: a redirect
// plan follows both the Ingress and the certificates of its hosts.
func (u *Universe) tlsRedirect(ing *networkingv1.Ingress) {
	key, value := "", ""
	switch u.r.IntN(6) {
	case 0:
		key, value = "nginx.ingress.kubernetes.io/ssl-redirect", "true"
	case 1:
		key, value = "nginx.ingress.kubernetes.io/ssl-redirect", "false"
	case 2:
		key, value = "fairway.dev/force-ssl-redirect", "true"
	default:
		return
	}
	if ing.Annotations == nil {
		ing.Annotations = map[string]string{}
	}
	ing.Annotations[key] = value
}

// uAuthSecrets are the Opaque Secrets of basic-auth users.
var uAuthSecrets = []string{"u1", "u2"}

// authUsers makes s an Opaque Secret of basic-auth users, as auth-file
// (key auth) or auth-map (a key per user), now and then with a user in a
// format Envoy cannot check (bcrypt), which blocks its Ingresses. Its
// choices follow the generation counter, and s was drawn as a TLS Secret
// is, so every seed's draws stay as they were.
func (u *Universe) authUsers(s *corev1.Secret) {
	s.Type = corev1.SecretTypeOpaque
	hash := "{SHA}" + []string{"qUqP5cyxm6YcTAhz05Hph5gvu9M=", "W6ph5Mm5Pz8GgiULbPgzG37mj9g="}[u.gen%2]
	if u.gen%5 == 0 {
		hash = "$2y$05$abcdefghijklmnopqrstuu5qfXsMLbz1oU8ivQvd3F/O3iK5y2Pn2"
	}
	s.Data = map[string][]byte{"auth": []byte("alice:" + hash + "\n"), "bob": []byte(hash)}
}

func (u *Universe) secret(ns, name string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: u.meta(ns, name), Type: corev1.SecretTypeTLS}
	pair := u.certs[u.r.IntN(2)]
	// The certificate is its own CA for proxy-ssl-secret, which reads
	// ca.crt; the https listener ignores it.
	s.Data = map[string][]byte{corev1.TLSCertKey: pair[0], corev1.TLSPrivateKeyKey: pair[1], "ca.crt": pair[0]}
	if u.r.IntN(5) == 0 {
		s.Data[corev1.TLSPrivateKeyKey] = u.certs[1-u.r.IntN(2)][1][:20] // broken
	}
	if u.gen%3 != 0 { // a CA for client certificates (clientCert), no draw
		s.Data["ca.crt"] = pair[0]
	}
	if slices.Contains(uAuthSecrets, name) {
		u.authUsers(s)
	}
	return s
}

func (u *Universe) node(name string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: u.meta("", name)}
	status := corev1.ConditionTrue
	if u.r.IntN(4) == 0 {
		status = corev1.ConditionFalse
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("192.168.0.%d", 1+u.r.IntN(9))}}
	return n
}

func (u *Universe) class(name string) *networkingv1.IngressClass {
	c := &networkingv1.IngressClass{ObjectMeta: u.meta("", name), Spec: networkingv1.IngressClassSpec{Controller: translator.DefaultIngressController}}
	if name == "other" {
		c.Spec.Controller = "example.com/other"
	}
	if u.r.IntN(2) == 0 {
		c.Annotations = map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}
	}
	return c
}

// Mutate adds, replaces or removes one random object in in, and returns
// it, and whether it was removed.
func (u *Universe) Mutate(in *translator.Input) (obj any, remove bool) {
	ns := u.pick(uNamespaces)
	remove = u.r.IntN(4) == 0
	switch u.r.IntN(7) {
	case 0, 1:
		o := u.ingress(ns, u.pick(uIngresses))
		in.Ingresses, obj = upsert(in.Ingresses, o, remove), o
	case 2:
		name := u.pick(uServices)
		o := u.service(ns, name)
		if old := u.restatus(in.Services, ns, name); old != nil && !remove {
			o = old
		}
		in.Services, obj = upsert(in.Services, o, remove), o
	case 3:
		o := u.slice(ns, u.pick(uServices), u.r.IntN(2))
		in.EndpointSlices, obj = upsert(in.EndpointSlices, o, remove), o
	case 4:
		name := u.pick(uSecrets)
		if i := slices.Index(uSecrets, name); u.gen%3 == 1 && i < len(uAuthSecrets) { // an auth Secret now and then (no draw)
			name = uAuthSecrets[i]
		}
		o := u.secret(ns, name)
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

// CertPair makes a self-signed ECDSA P-256 certificate and key for name,
// as PEM.
func CertPair(name string) ([2][]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return [2][]byte{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return [2][]byte{}, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return [2][]byte{}, err
	}
	return [2][]byte{pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})}, nil
}

// MustCertPair is CertPair for tests: a failure ends the test.
func MustCertPair(tb testing.TB, name string) [2][]byte {
	tb.Helper()
	pair, err := CertPair(name)
	if err != nil {
		tb.Fatal(err)
	}
	return pair
}

// uAnnotations are keys the Ingress front end reads, each with good and
// malformed values, plus refused and unknown ones: the engine's property
// test and the soak then cover every outcome of an annotation (honoured,
// ignored, refused, blocking) and its changes.
var uAnnotations = []struct {
	key    string
	values []string
}{
	{"use-regex", []string{"true", "false", "maybe"}},
	{"rewrite-target", []string{"/", "/$1", "/x/$2", "$9"}},
	{"app-root", []string{"/app", "app"}},
	{"x-forwarded-prefix", []string{"/pre"}},
	{"upstream-vhost", []string{"internal.example.com", "bad host!"}},
	{"permanent-redirect", []string{"https://example.org/x", "::bad"}},
	{"permanent-redirect-code", []string{"308", "200"}},
	{"temporal-redirect", []string{"https://example.org/t?q=1"}},
	{"from-to-www-redirect", []string{"true"}},
	{"server-alias", []string{"alias.example.com", "x.com,y.com", "bad_host"}},
	{"ssl-redirect", []string{"true", "false"}},
	{"force-ssl-redirect", []string{"true", "yes"}},
	{"backend-protocol", []string{"GRPC", "HTTPS", "H2C", "GRPCS", "HTTP", "FCGI"}},
	{"load-balance", []string{"ewma", "round_robin", "random"}},
	{"proxy-connect-timeout", []string{"5", "10s", "0", "x"}},
	{"proxy-read-timeout", []string{"120", "-1"}},
	{"proxy-send-timeout", []string{"30"}},
	{"proxy-body-size", []string{"0", "1m", "8k", "huge"}},
	{"proxy-next-upstream-tries", []string{"3", "0", "-2"}},
	{"whitelist-source-range", []string{"10.0.0.0/8", "10.1.2.3, 2001:db8::/32", "10.0.0.0/33"}},
	{"denylist-source-range", []string{"192.168.0.0/16"}},
	{"enable-cors", []string{"true", "false"}},
	{"cors-allow-origin", []string{"https://a.com", "*"}},
	{"cors-max-age", []string{"600", "x"}},
	{"canary", []string{"true", "true", "false", "yes"}},
	{"canary-weight", []string{"0", "30", "100", "150"}},
	{"canary-by-header", []string{"X-Canary", "x_bad"}},
	{"canary-by-cookie", []string{"canary"}},
	{"ssl-passthrough", []string{"true", "true", "false", "on"}},
	{"limit-rps", []string{"10", "0", "ten"}},
	{"limit-rpm", []string{"60"}},
	{"limit-burst-multiplier", []string{"2", "-1"}},
	{"limit-allowlist", []string{"10.0.0.0/8", "bogus, 10.1.2.3"}},
	{"limit-connections", []string{"5"}},
	{"proxy-ssl-secret", []string{"s1", "s2", "s3", "a/s1", "nope"}},
	{"proxy-ssl-verify", []string{"on", "off", "yes"}},
	{"proxy-ssl-name", []string{"web.a.svc", "bad_name"}},
	{"configuration-snippet", []string{"return 200;"}},
	{"auth-url", []string{"http://auth.example.com", "http://api.a.svc.cluster.local/auth", "https://web.b.svc:443/check", "http://db.a.svc:8080/x", "http://api.b:80/y", "ftp://x"}},
	{"no-such-annotation", []string{"1"}},
}

// annotate gives half the Ingresses up to three annotations, under either
// prefix, sometimes under both.
func (u *Universe) annotate(ing *networkingv1.Ingress) {
	if u.r.IntN(2) == 0 {
		return
	}
	for range 1 + u.r.IntN(3) {
		a := uAnnotations[u.r.IntN(len(uAnnotations))]
		if ing.Annotations == nil {
			ing.Annotations = map[string]string{}
		}
		prefix := u.pick([]string{"nginx.ingress.kubernetes.io/", "fairway.dev/"})
		ing.Annotations[prefix+a.key] = u.pick(a.values)
		if v := ing.Annotations[prefix+a.key]; a.key == "proxy-ssl-secret" {
			// A Secret of the Ingress's own namespace (but "a/s1", which
			// is another's for b's Ingresses, and the malformed "nope"),
			// with a TLS backend, which alone uses it (a later
			// backend-protocol may still make it plain).
			if slices.Contains(uSecrets, v) {
				ing.Annotations[prefix+a.key] = ing.Namespace + "/" + v
			}
			ing.Annotations[prefix+"backend-protocol"] = "HTTPS"
		}
	}
}

// DemandName is a name a proxyless client may subscribe to: one of a
// Service port's targets or its cluster name, an Ingress host of the
// universe (a wildcard or the empty one included, which name nothing), a
// Gateway hostname on a listener port (<host>:<port>), or a name that is
// none of these. It draws from r, not the universe's own
// source, so that drawing demands leaves the objects of a seed as they were.
func DemandName(r *mrand.Rand) string {
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	ns, svc := pick(uNamespaces), pick(uServices)
	port := []int32{80, 443, 53, 8080, 5432}[r.IntN(5)]
	switch r.IntN(5) {
	case 0:
		return translator.ProxylessTargets(ns, svc, port)[r.IntN(3)]
	case 3:
		return translator.GatewayAPIName(pick(gwHosts), []int32{80, 443}[r.IntN(2)])
	case 1:
		return envoy.ClusterName(ns, svc, port, false)
	case 2:
		return pick(uHosts)
	}
	return pick([]string{"nope:80", "a/b", "x.y.z:80", "web.a.svc.cluster.local:x", envoy.GRPCServerListenerPrefix + "10.0.0.1:80"})
}

// layer4Settings gives a LoadBalancer Service some of its own layer-4
// settings: source ranges (valid, or malformed, which closes it),
// affinity, node port allocation, a health check port and fairway.dev/
// annotations, so that changing them is held to a from-scratch
// translation. They come from a source of their own, seeded by the
// generation, so the universe's other objects stay as they were.
func (u *Universe) layer4Settings(svc *corev1.Service) {
	r := mrand.New(mrand.NewPCG(uint64(u.gen), 13))
	switch r.IntN(5) {
	case 0:
		svc.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/8", "2001:db8::1/32"}
	case 1:
		svc.Annotations = map[string]string{corev1.AnnotationLoadBalancerSourceRangesKey: "192.0.2.0/24,not-a-cidr"}
	case 2:
		svc.Annotations = map[string]string{corev1.AnnotationLoadBalancerSourceRangesKey: "192.0.2.0/24"}
	}
	if r.IntN(3) == 0 {
		svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	}
	if r.IntN(4) == 0 {
		svc.Spec.AllocateLoadBalancerNodePorts = new(false)
	}
	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal && r.IntN(2) == 0 {
		svc.Spec.HealthCheckNodePort = 31999
	}
	for _, kv := range [][2]string{
		{"fairway.dev/proxy-protocol", u.pickFrom(r, "v1", "v2", "v9")},
		{"fairway.dev/health-check", "tcp"},
		{"fairway.dev/health-check-interval", u.pickFrom(r, "5s", "10s", "never")},
		{"fairway.dev/max-connections", u.pickFrom(r, "100", "0")},
		{"fairway.dev/tcp-idle-timeout", "10m"},
		{"fairway.dev/unknown", "x"},
	} {
		if r.IntN(4) == 0 {
			if svc.Annotations == nil {
				svc.Annotations = map[string]string{}
			}
			svc.Annotations[kv[0]] = kv[1]
		}
	}
}

func (u *Universe) pickFrom(r *mrand.Rand, s ...string) string { return s[r.IntN(len(s))] }

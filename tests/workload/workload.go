// Package workload generates synthetic clusters of the shape the benchmarks
// and load tests measure: many Services with EndpointSlices, an Ingress per
// host with two Prefix paths, and LoadBalancer Services on distinct ports.
// The TLS scales give every Ingress a certificate, as most real clusters
// do (see tls.go).
package workload

import (
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/fairwayhq/fairway/translator"
)

// Scale sizes a workload.
type Scale struct {
	Name string
	// Services are ClusterIP Services behind the Ingresses.
	Services int
	// Ingresses each have one host, h<i>.example.com, with "/" and "/api".
	Ingresses int
	// HTTPRoutes each have one host, r<i>.example.com, with "/" and
	// "/api", on one shared Gateway (gateway.go).
	HTTPRoutes int
	// EndpointsPerService ready endpoints per Service, on unique IPs.
	EndpointsPerService int
	// LoadBalancers are LoadBalancer Services on distinct ports.
	LoadBalancers int
	Namespaces    int
	// HostsPerSecret, when set, gives every Ingress a spec.tls entry: the
	// hosts of a namespace are grouped by this many, and each group shares
	// one wildcard certificate, *.g<k>.example.com, as clusters that buy
	// or issue wildcard certificates per team do. The hosts are then
	// h<i>.g<k>.example.com.
	HostsPerSecret int
	// SSLRedirect is how such a cluster runs fairway: --ssl-redirect
	// (translator Options.SSLRedirect), so plain HTTP to a TLS host is a 308.
	SSLRedirect bool
}

var (
	// Small is 1k Services and Ingresses.
	Small = Scale{Name: "small", Services: 1000, Ingresses: 1000, EndpointsPerService: 10, LoadBalancers: 50, Namespaces: 50}
	// Large is 10k Services and Ingresses with 100k endpoints.
	Large = Scale{Name: "large", Services: 10000, Ingresses: 10000, EndpointsPerService: 10, LoadBalancers: 500, Namespaces: 50}
	// LargeTLS is Large with a certificate on every Ingress: 100 wildcard
	// Secrets of 100 hosts each, served with --ssl-redirect.
	LargeTLS = Large.WithTLS()
	// Huge is ten times Large: 100k Services and Ingresses, 1M endpoints
	// (make bench SCALE=huge; it needs a few GB).
	Huge = Scale{Name: "huge", Services: 100000, Ingresses: 100000, EndpointsPerService: 10, LoadBalancers: 5000, Namespaces: 500}
	// HugeTLS is Huge with a certificate on every Ingress (1,000 Secrets).
	HugeTLS = Huge.WithTLS()
)

// tlsGroup is how many hosts share a wildcard certificate in the TLS
// scales: a team's or a product's hosts under one name.
const tlsGroup = 100

// WithTLS is the scale with every Ingress under a shared wildcard
// certificate, run with --ssl-redirect.
func (s Scale) WithTLS() Scale {
	s.Name += "-tls"
	s.HostsPerSecret, s.SSLRedirect = tlsGroup, true
	return s
}

// IngressClass is the class every generated Ingress uses.
const IngressClass = "fairway"

// lbBasePort is the first LoadBalancer port; they count up from there.
const lbBasePort = 10000

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Generate builds the workload. It is deterministic: the same Scale gives
// the same objects.
func Generate(s Scale) translator.Input {
	if s.Namespaces < 1 {
		s.Namespaces = 1
	}
	g := &generator{scale: s, nextIP: netip.MustParseAddr("10.0.0.1")}
	in := translator.Input{
		IngressClasses: []*networkingv1.IngressClass{{
			ObjectMeta: metav1.ObjectMeta{Name: IngressClass},
			Spec:       networkingv1.IngressClassSpec{Controller: translator.DefaultIngressController},
		}},
	}
	for i := range s.Services {
		svc := g.service(fmt.Sprintf("svc-%d", i), g.namespace(i), corev1.ServiceTypeClusterIP, 80, i)
		in.Services = append(in.Services, svc)
		in.EndpointSlices = append(in.EndpointSlices, g.slice(svc))
	}
	for k := range s.LoadBalancers {
		svc := g.service(fmt.Sprintf("lb-%d", k), g.namespace(k), corev1.ServiceTypeLoadBalancer, int32(lbBasePort+k), s.Services+k)
		in.Services = append(in.Services, svc)
		in.EndpointSlices = append(in.EndpointSlices, g.slice(svc))
	}
	for i := range s.Ingresses {
		in.Ingresses = append(in.Ingresses, g.ingress(i))
	}
	if s.HostsPerSecret > 0 {
		in.Secrets = g.wildcardSecrets()
	}
	if s.HTTPRoutes > 0 {
		g.gatewayObjects(&in)
	}
	return in
}

type generator struct {
	scale  Scale
	nextIP netip.Addr
}

func (g *generator) namespace(i int) string { return fmt.Sprintf("ns-%d", i%g.scale.Namespaces) }

func created(i int) metav1.Time { return metav1.NewTime(epoch.Add(time.Duration(i) * time.Second)) }

func (g *generator) service(name, ns string, typ corev1.ServiceType, port int32, age int) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: created(age)},
		Spec: corev1.ServiceSpec{
			Type:     typ,
			Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{
				Name: "http", Port: port, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080),
			}},
		},
	}
}

// slice is the Service's one EndpointSlice with ready endpoints on fresh IPs.
func (g *generator) slice(svc *corev1.Service) *discoveryv1.EndpointSlice {
	ready, name, proto, port := true, "http", corev1.ProtocolTCP, int32(8080)
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: svc.Name + "-abcde", Namespace: svc.Namespace,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Protocol: &proto, Port: &port}},
	}
	for range g.scale.EndpointsPerService {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{g.nextIP.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
		})
		g.nextIP = g.nextIP.Next()
	}
	return es
}

// ingress i routes h<i>.example.com: "/" to Service i mod S and "/api" to
// another Service of the same namespace.
func (g *generator) ingress(i int) *networkingv1.Ingress {
	s := g.scale.Services
	root := i % s
	api := (root + g.scale.Namespaces) % s
	class, prefix := IngressClass, networkingv1.PathTypePrefix
	path := func(p string, svc int) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, PathType: &prefix, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: fmt.Sprintf("svc-%d", svc), Port: networkingv1.ServiceBackendPort{Name: "http"}},
		}}
	}
	host := fmt.Sprintf("h%d.example.com", i)
	if g.scale.HostsPerSecret > 0 {
		host = fmt.Sprintf("h%d.g%d.example.com", i, g.group(i))
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ing-%d", i), Namespace: g.namespace(root), CreationTimestamp: created(i)},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			Rules: []networkingv1.IngressRule{{
				Host: host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{path("/", root), path("/api", api)},
				}},
			}},
		},
	}
	if g.scale.HostsPerSecret > 0 {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: secretName(g.group(i))}}
	}
	return ing
}

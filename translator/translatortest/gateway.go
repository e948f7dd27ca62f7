package translatortest

import (
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator"
)

// GatewayWalk walks the Gateway API's objects beside a Universe: two
// Gateways whose listeners share the Universe's ports and hosts (so they
// meet its Ingresses on the http table and its Services' port claims),
// routes of every kind onto them, ReferenceGrants and Namespaces, and
// UDP Services of its own with their EndpointSlices for UDPRoutes. It draws
// from a source of its own and stamps objects with a counter of its own,
// so a seed's Universe objects stay as they were without it.
type GatewayWalk struct {
	r   *mrand.Rand
	gen int
	// extra, when set, draws the Gateways' spec.addresses and the
	// backendRefs' filters, apart from r so that r's walk stays the one
	// the other checks' coverage was measured on.
	extra *mrand.Rand
}

// NewGatewayWalk walks with r.
func NewGatewayWalk(r *mrand.Rand) *GatewayWalk { return &GatewayWalk{r: r} }

// WithExtras also gives some Gateways spec.addresses and some
// backendRefs header filters, drawn from x.
func (w *GatewayWalk) WithExtras(x *mrand.Rand) *GatewayWalk {
	w.extra = x
	return w
}

var (
	gwGateways = []string{"g1", "g2"}
	gwRoutes   = []string{"r1", "r2", "r3"}
	gwHosts    = []string{"x.com", "y.com", "*.w.com", "p.w.com"}
	gwPaths    = []string{"/", "/a", "/a/b", "/b"}
	// gwUDPServices are the walk's own UDP Services, named apart from the
	// Universe's, so that UDPRoutes often have two backends to split.
	gwUDPServices = []string{"udp1", "udp2"}
)

func (w *GatewayWalk) pick(s []string) string { return s[w.r.IntN(len(s))] }

func (w *GatewayWalk) meta(ns, name string) metav1.ObjectMeta {
	w.gen++
	return metav1.ObjectMeta{
		Namespace: ns, Name: name, Generation: int64(1 + w.r.IntN(3)),
		CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1+w.r.IntN(3), 0, 0, 0, 0, time.UTC)),
		ResourceVersion:   fmt.Sprint("g", w.gen),
	}
}

// Mutate adds, replaces or removes one random Gateway API object (or
// Namespace) in in, and returns it, and whether it was removed.
func (w *GatewayWalk) Mutate(in *translator.Input) (obj any, remove bool) {
	ns := w.pick(uNamespaces)
	remove = w.r.IntN(5) == 0
	switch w.r.IntN(13) {
	case 0:
		o := &gatewayv1.GatewayClass{ObjectMeta: w.meta("", "fairway"), Spec: gatewayv1.GatewayClassSpec{ControllerName: translator.DefaultGatewayController}}
		in.GatewayClasses, obj = upsert(in.GatewayClasses, o, remove), o
	case 1, 2:
		o := w.gateway(ns, w.pick(gwGateways))
		in.Gateways, obj = upsert(in.Gateways, o, remove), o
	case 3, 4:
		o := w.httpRoute(ns, w.pick(gwRoutes))
		in.HTTPRoutes, obj = upsert(in.HTTPRoutes, o, remove), o
	case 5:
		o := w.grpcRoute(ns, "gr")
		in.GRPCRoutes, obj = upsert(in.GRPCRoutes, o, remove), o
	case 6:
		o := w.tcpRoute(ns, "t")
		in.TCPRoutes, obj = upsert(in.TCPRoutes, o, remove), o
	case 8:
		o := w.udpRoute(ns, "u")
		in.UDPRoutes, obj = upsert(in.UDPRoutes, o, remove), o
	case 9, 10:
		name := w.pick(gwUDPServices)
		if w.r.IntN(2) == 0 {
			o := w.udpService(ns, name)
			in.Services, obj = upsert(in.Services, o, remove), o
		} else {
			o := w.udpSlice(ns, name)
			in.EndpointSlices, obj = upsert(in.EndpointSlices, o, remove), o
		}
	case 12:
		o := w.tlsRoute(ns, "tls")
		in.TLSRoutes, obj = upsert(in.TLSRoutes, o, remove), o
	case 7:
		o := &gatewayv1.ReferenceGrant{ObjectMeta: w.meta(ns, "grant"), Spec: gatewayv1.ReferenceGrantSpec{
			From: []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: gatewayv1.Namespace(w.pick(uNamespaces))}},
			To:   []gatewayv1.ReferenceGrantTo{{Kind: "Service"}, {Kind: "Secret"}},
		}}
		in.ReferenceGrants, obj = upsert(in.ReferenceGrants, o, remove), o
	default:
		o := &corev1.Namespace{ObjectMeta: w.meta("", ns)}
		o.Labels = map[string]string{"team": w.pick([]string{"shop", "ops"})}
		in.Namespaces, obj = upsert(in.Namespaces, o, remove), o
	}
	return obj, remove
}

// gateway has an HTTP listener on the Ingress http port (80), sometimes
// an HTTPS one on 443 with a Universe Secret, and TCP and UDP ones on
// ports the Universe's LoadBalancer Services also claim.
func (w *GatewayWalk) gateway(ns, name string) *gatewayv1.Gateway {
	all := gatewayv1.NamespacesFromAll
	gw := &gatewayv1.Gateway{ObjectMeta: w.meta(ns, name), Spec: gatewayv1.GatewaySpec{GatewayClassName: "fairway"}}
	listener := func(name string, port int32, proto gatewayv1.ProtocolType) gatewayv1.Listener {
		l := gatewayv1.Listener{Name: gatewayv1.SectionName(name), Port: port, Protocol: proto}
		if w.r.IntN(2) == 0 {
			l.AllowedRoutes = &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &all}}
		}
		if proto != gatewayv1.TCPProtocolType && proto != gatewayv1.UDPProtocolType && w.r.IntN(2) == 0 {
			h := gatewayv1.Hostname(w.pick(gwHosts))
			l.Hostname = &h
		}
		return l
	}
	gw.Spec.Listeners = append(gw.Spec.Listeners, listener("http", 80, gatewayv1.HTTPProtocolType))
	if w.r.IntN(2) == 0 {
		l := listener("https", 443, gatewayv1.HTTPSProtocolType)
		mode := gatewayv1.TLSModeTerminate
		l.TLS = &gatewayv1.ListenerTLSConfig{Mode: &mode, CertificateRefs: []gatewayv1.SecretObjectReference{{Name: gatewayv1.ObjectName(w.pick(uSecrets))}}}
		gw.Spec.Listeners = append(gw.Spec.Listeners, l)
	}
	if w.r.IntN(2) == 0 { // a TLS listener on the https port too: its names contend with the Ingresses'
		l := listener("tls", 443, gatewayv1.TLSProtocolType)
		mode := []gatewayv1.TLSModeType{gatewayv1.TLSModePassthrough, gatewayv1.TLSModeTerminate}[w.r.IntN(2)]
		l.TLS = &gatewayv1.ListenerTLSConfig{Mode: &mode}
		if mode == gatewayv1.TLSModeTerminate {
			l.TLS.CertificateRefs = []gatewayv1.SecretObjectReference{{Name: gatewayv1.ObjectName(w.pick(uSecrets))}}
		}
		gw.Spec.Listeners = append(gw.Spec.Listeners, l)
	}
	if w.r.IntN(2) == 0 {
		gw.Spec.Listeners = append(gw.Spec.Listeners, listener("pg", 5432, gatewayv1.TCPProtocolType))
	}
	if w.r.IntN(2) == 0 {
		gw.Spec.Listeners = append(gw.Spec.Listeners, listener("dns", 53, gatewayv1.UDPProtocolType))
	}
	gw.Spec.Addresses = w.addresses()
	return gw
}

// addresses are a Gateway's spec.addresses, on some Gateways: an address
// the pools (AddressPools) hold or not, one without a value, a
// Hostname, or two addresses, so that the allocation's every outcome
// meets the Services' and the other Gateways' changes.
func (w *GatewayWalk) addresses() []gatewayv1.GatewaySpecAddress {
	if w.extra == nil {
		return nil
	}
	ip, host := gatewayv1.IPAddressType, gatewayv1.HostnameAddressType
	switch w.extra.IntN(8) {
	case 0:
		return []gatewayv1.GatewaySpecAddress{{Type: &ip, Value: uAddresses[w.extra.IntN(6)]}}
	case 1:
		return []gatewayv1.GatewaySpecAddress{{Type: &ip}}
	case 2:
		return []gatewayv1.GatewaySpecAddress{{Type: &host, Value: "gw.example.com"}}
	case 3:
		return []gatewayv1.GatewaySpecAddress{{Value: "192.0.2.1"}, {Value: "192.0.2.3"}}
	}
	return nil
}

func (w *GatewayWalk) parentRef() gatewayv1.ParentReference {
	ns := gatewayv1.Namespace(w.pick(uNamespaces))
	return gatewayv1.ParentReference{Name: gatewayv1.ObjectName(w.pick(gwGateways)), Namespace: &ns}
}

func (w *GatewayWalk) backendRef() gatewayv1.BackendRef {
	port := gatewayv1.PortNumber([]int32{80, 443, 5432}[w.r.IntN(3)])
	ref := gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(w.pick(uServices)), Port: &port}}
	if w.r.IntN(4) == 0 {
		ns := gatewayv1.Namespace(w.pick(uNamespaces))
		ref.Namespace = &ns
	}
	if w.r.IntN(3) == 0 {
		weight := int32(w.r.IntN(3))
		ref.Weight = &weight
	}
	return ref
}

// backendFilters are a backendRef's own header filters, on some.
func (w *GatewayWalk) backendFilters() []gatewayv1.HTTPRouteFilter {
	if w.extra == nil || w.extra.IntN(4) != 0 {
		return nil
	}
	return []gatewayv1.HTTPRouteFilter{{Type: gatewayv1.HTTPRouteFilterRequestHeaderModifier,
		RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{Set: []gatewayv1.HTTPHeader{{Name: "x-backend", Value: gwHosts[w.extra.IntN(len(gwHosts))]}}}}}
}

func (w *GatewayWalk) httpRoute(ns, name string) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{ObjectMeta: w.meta(ns, name)}
	r.Spec.ParentRefs = []gatewayv1.ParentReference{w.parentRef()}
	for range w.r.IntN(3) {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gatewayv1.Hostname(w.pick(gwHosts)))
	}
	for range 1 + w.r.IntN(2) {
		typ := []gatewayv1.PathMatchType{gatewayv1.PathMatchPathPrefix, gatewayv1.PathMatchExact}[w.r.IntN(2)]
		path := w.pick(gwPaths)
		rule := gatewayv1.HTTPRouteRule{Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &typ, Value: &path}}}}
		if w.r.IntN(3) == 0 {
			rule.Matches[0].Headers = []gatewayv1.HTTPHeaderMatch{{Name: "x-env", Value: "canary"}}
		}
		switch w.r.IntN(4) {
		case 0:
			code := 301
			rule.Filters = []gatewayv1.HTTPRouteFilter{{Type: gatewayv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gatewayv1.HTTPRequestRedirectFilter{StatusCode: &code}}}
		default:
			for range 1 + w.r.IntN(2) {
				rule.BackendRefs = append(rule.BackendRefs, gatewayv1.HTTPBackendRef{BackendRef: w.backendRef(), Filters: w.backendFilters()})
			}
		}
		r.Spec.Rules = append(r.Spec.Rules, rule)
	}
	return r
}

func (w *GatewayWalk) grpcRoute(ns, name string) *gatewayv1.GRPCRoute {
	r := &gatewayv1.GRPCRoute{ObjectMeta: w.meta(ns, name)}
	r.Spec.ParentRefs = []gatewayv1.ParentReference{w.parentRef()}
	r.Spec.Hostnames = []gatewayv1.Hostname{gatewayv1.Hostname(w.pick(gwHosts))}
	svc := "shop.Cart"
	r.Spec.Rules = []gatewayv1.GRPCRouteRule{{
		Matches:     []gatewayv1.GRPCRouteMatch{{Method: &gatewayv1.GRPCMethodMatch{Service: &svc}}},
		BackendRefs: []gatewayv1.GRPCBackendRef{{BackendRef: w.backendRef()}},
	}}
	return r
}

// tlsRoute names some of the walk's hosts (none: the listener's), which
// the Universe's TLS and passthrough Ingresses ask for too.
func (w *GatewayWalk) tlsRoute(ns, name string) *gatewayv1.TLSRoute {
	r := &gatewayv1.TLSRoute{ObjectMeta: w.meta(ns, name)}
	r.Spec.ParentRefs = []gatewayv1.ParentReference{w.parentRef()}
	for range w.r.IntN(3) {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gatewayv1.Hostname(w.pick(gwHosts)))
	}
	r.Spec.Rules = []gatewayv1.TLSRouteRule{{BackendRefs: []gatewayv1.BackendRef{w.backendRef()}}}
	if w.r.IntN(3) == 0 {
		r.Spec.Rules[0].BackendRefs = append(r.Spec.Rules[0].BackendRefs, w.backendRef())
	}
	return r
}

func (w *GatewayWalk) tcpRoute(ns, name string) *gatewayv1.TCPRoute {
	r := &gatewayv1.TCPRoute{ObjectMeta: w.meta(ns, name)}
	r.Spec.ParentRefs = []gatewayv1.ParentReference{w.parentRef()}
	r.Spec.Rules = []gatewayv1.TCPRouteRule{{BackendRefs: []gatewayv1.BackendRef{w.backendRef()}}}
	return r
}

// udpRoute sends to some of the Universe's port-53 backends,
// weighted at random, so that it is sometimes one Service port's cluster
// and sometimes a split of several, whose endpoints change with theirs.
func (w *GatewayWalk) udpRoute(ns, name string) *gatewayv1.UDPRoute {
	r := &gatewayv1.UDPRoute{ObjectMeta: w.meta(ns, name)}
	r.Spec.ParentRefs = []gatewayv1.ParentReference{w.parentRef()}
	r.Spec.ParentRefs[0].Namespace = nil // its own namespace's Gateways, which admit it by default
	rule := gatewayv1.UDPRouteRule{}
	// Distinct Services of its own namespace (no ReferenceGrant admits a
	// UDPRoute): the walk's UDP ones, and the Universe's, which have a
	// UDP port 53 now and then.
	names := append(slices.Clone(gwUDPServices), uServices...)
	w.r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for _, name := range names[:1+w.r.IntN(5)] {
		ref := w.backendRef()
		port := gatewayv1.PortNumber(53)
		ref.Name, ref.Port, ref.Namespace = gatewayv1.ObjectName(name), &port, nil
		rule.BackendRefs = append(rule.BackendRefs, ref)
	}
	r.Spec.Rules = []gatewayv1.UDPRouteRule{rule}
	return r
}

// udpService is one of the walk's UDP Services: port 53, to a named
// target port that its slices resolve.
func (w *GatewayWalk) udpService(ns, name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: w.meta(ns, name), Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")},
	}}}
}

// udpSlice is an EndpointSlice of a walk's UDP Service: zero to three
// endpoints in random zones, ready or not.
func (w *GatewayWalk) udpSlice(ns, svc string) *discoveryv1.EndpointSlice {
	name, proto, port := "dns", corev1.ProtocolUDP, int32(5300+w.r.IntN(2))
	es := &discoveryv1.EndpointSlice{ObjectMeta: w.meta(ns, svc+"-udp"), AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: &name, Protocol: &proto, Port: &port}}}
	es.Labels = map[string]string{discoveryv1.LabelServiceName: svc}
	for range w.r.IntN(4) {
		ready, zone := w.r.IntN(4) > 0, w.pick([]string{"", "z1", "z2"})
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("10.53.%d.%d", w.r.IntN(2), w.r.IntN(4))},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready}, Zone: &zone,
		})
	}
	return es
}

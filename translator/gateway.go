package translator

import (
	"cmp"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// gatewayObjects are the Gateway API objects the engine holds, and the
// Namespaces whose labels allowedRoutes selectors read.
type gatewayObjects struct {
	classes    map[string]*gatewayv1.GatewayClass
	gateways   map[nsName]*gatewayv1.Gateway
	http       map[nsName]*gatewayv1.HTTPRoute
	grpc       map[nsName]*gatewayv1.GRPCRoute
	tls        map[nsName]*gatewayv1.TLSRoute
	tcp        map[nsName]*gatewayv1.TCPRoute
	udp        map[nsName]*gatewayv1.UDPRoute
	grants     map[nsName]*gatewayv1.ReferenceGrant
	namespaces map[string]*corev1.Namespace
}

func newGatewayObjects() gatewayObjects {
	return gatewayObjects{
		classes: map[string]*gatewayv1.GatewayClass{}, gateways: map[nsName]*gatewayv1.Gateway{},
		http: map[nsName]*gatewayv1.HTTPRoute{}, grpc: map[nsName]*gatewayv1.GRPCRoute{},
		tls: map[nsName]*gatewayv1.TLSRoute{}, tcp: map[nsName]*gatewayv1.TCPRoute{},
		udp: map[nsName]*gatewayv1.UDPRoute{}, grants: map[nsName]*gatewayv1.ReferenceGrant{},
		namespaces: map[string]*corev1.Namespace{},
	}
}

// syncGateways brings the Gateway API objects to in's. Any change makes
// the front end resolve again: its work grows with the Gateway API
// objects alone, which a cluster has far fewer of than Services.
func (e *Engine) syncGateways(in Input) {
	g := &e.gw.objs
	mark := func() { e.dirty.gateway = true }
	syncNamed(g.classes, in.GatewayClasses, func(string, *gatewayv1.GatewayClass, *gatewayv1.GatewayClass) { mark() })
	syncObjects(g.gateways, in.Gateways, func(nsName, *gatewayv1.Gateway, *gatewayv1.Gateway) { mark() })
	syncObjects(g.http, in.HTTPRoutes, func(nsName, *gatewayv1.HTTPRoute, *gatewayv1.HTTPRoute) { mark() })
	syncObjects(g.grpc, in.GRPCRoutes, func(nsName, *gatewayv1.GRPCRoute, *gatewayv1.GRPCRoute) { mark() })
	syncObjects(g.tls, in.TLSRoutes, func(nsName, *gatewayv1.TLSRoute, *gatewayv1.TLSRoute) { mark() })
	syncObjects(g.tcp, in.TCPRoutes, func(nsName, *gatewayv1.TCPRoute, *gatewayv1.TCPRoute) { mark() })
	syncObjects(g.udp, in.UDPRoutes, func(nsName, *gatewayv1.UDPRoute, *gatewayv1.UDPRoute) { mark() })
	syncObjects(g.grants, in.ReferenceGrants, func(nsName, *gatewayv1.ReferenceGrant, *gatewayv1.ReferenceGrant) { mark() })
	syncNamed(g.namespaces, in.Namespaces, func(string, *corev1.Namespace, *corev1.Namespace) { mark() })
}

// applyGateway is Upsert and Delete for the Gateway API kinds and
// Namespaces; false for any other kind.
func (e *Engine) applyGateway(obj any, remove bool) bool {
	g := &e.gw.objs
	changed := false
	note := func(k nsName, _, _ any) { changed = true }
	switch o := obj.(type) {
	case *gatewayv1.GatewayClass:
		changed = applyNamed(g.classes, o, remove)
	case *corev1.Namespace:
		changed = applyNamed(g.namespaces, o, remove)
	case *gatewayv1.Gateway:
		applyObject(g.gateways, o, remove, func(k nsName, a, b *gatewayv1.Gateway) { note(k, a, b) })
	case *gatewayv1.HTTPRoute:
		applyObject(g.http, o, remove, func(k nsName, a, b *gatewayv1.HTTPRoute) { note(k, a, b) })
	case *gatewayv1.GRPCRoute:
		applyObject(g.grpc, o, remove, func(k nsName, a, b *gatewayv1.GRPCRoute) { note(k, a, b) })
	case *gatewayv1.TLSRoute:
		applyObject(g.tls, o, remove, func(k nsName, a, b *gatewayv1.TLSRoute) { note(k, a, b) })
	case *gatewayv1.TCPRoute:
		applyObject(g.tcp, o, remove, func(k nsName, a, b *gatewayv1.TCPRoute) { note(k, a, b) })
	case *gatewayv1.UDPRoute:
		applyObject(g.udp, o, remove, func(k nsName, a, b *gatewayv1.UDPRoute) { note(k, a, b) })
	case *gatewayv1.ReferenceGrant:
		applyObject(g.grants, o, remove, func(k nsName, a, b *gatewayv1.ReferenceGrant) { note(k, a, b) })
	default:
		return false
	}
	if changed {
		e.dirty.gateway = true
	}
	return true
}

// gatewayReads reports whether the Gateway API front end reads Services
// and Secrets at all: only while fairway has a Gateway. A Service or
// Secret change then resolves the Gateways again.
func (e *Engine) gatewayReads() bool { return len(e.gw.objs.gateways) > 0 }

// resolveGateways runs the front end over the Gateway API objects.
func (e *Engine) resolveGateways() *gatewayapi.Model {
	g := &e.gw.objs
	in := gatewayapi.Input{
		GatewayClasses:  sortedNamed(g.classes),
		Gateways:        sortedObjects(g.gateways),
		HTTPRoutes:      sortedObjects(g.http),
		GRPCRoutes:      sortedObjects(g.grpc),
		TLSRoutes:       sortedObjects(g.tls),
		TCPRoutes:       sortedObjects(g.tcp),
		UDPRoutes:       sortedObjects(g.udp),
		ReferenceGrants: sortedObjects(g.grants),
		Namespaces:      sortedNamed(g.namespaces),
	}
	// The front end looks Services and Secrets up in the engine's
	// indexes: listing and sorting thousands of them on every change
	// would cost more than the change.
	in.LookupService = func(k types.NamespacedName) *corev1.Service { return e.idx.services[nsName{k.Namespace, k.Name}] }
	in.LookupSecret = func(k types.NamespacedName) *corev1.Secret { return e.idx.secrets[nsName{k.Namespace, k.Name}] }
	pools, _ := parseAddressPools(e.opts.LBAddressPools)
	return e.gw.resolver.Resolve(in, gatewayapi.Options{
		ControllerName:   e.opts.GatewayController,
		Dedicated:        len(pools) > 0,
		CertificateError: e.certificateError,
	})
}

// certificateError is why a Secret cannot be a listener's certificate,
// by the check the Ingress certificates pass (Envoy's key types).
func (e *Engine) certificateError(s *corev1.Secret) error {
	if c := checkSecret(s, s.Namespace, s.Name); c.err != nil {
		return c.err
	}
	return nil
}

// sortedObjects lists a kind's objects by namespace/name, so the front
// end reads the same input in the same order every time.
func sortedObjects[T any, PT interface {
	*T
	metav1.Object
}](m map[nsName]PT) []PT {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b nsName) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
	})
	out := make([]PT, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// sortedNamed lists cluster-scoped objects by name.
func sortedNamed[T any](m map[string]*T) []*T {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]*T, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

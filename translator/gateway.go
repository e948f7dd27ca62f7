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
	order      gatewayOrder
}

// gatewayOrder lists the namespaced kinds by namespace/name, kept in
// order as objects change, so that a change of one of 10k HTTPRoutes
// does not sort them all for the front end.
type gatewayOrder struct {
	gateways objectOrder[gatewayv1.Gateway, *gatewayv1.Gateway]
	http     objectOrder[gatewayv1.HTTPRoute, *gatewayv1.HTTPRoute]
	grpc     objectOrder[gatewayv1.GRPCRoute, *gatewayv1.GRPCRoute]
	tls      objectOrder[gatewayv1.TLSRoute, *gatewayv1.TLSRoute]
	tcp      objectOrder[gatewayv1.TCPRoute, *gatewayv1.TCPRoute]
	udp      objectOrder[gatewayv1.UDPRoute, *gatewayv1.UDPRoute]
	grants   objectOrder[gatewayv1.ReferenceGrant, *gatewayv1.ReferenceGrant]
}

// objectOrder is one kind's objects by namespace/name. Its list is
// replaced, never changed in place, so a list handed to the front end
// stays as it was. A few changes between two reads are applied one by
// one (each a copy of the list); more, as a Sync of a whole cluster
// brings, make the list stale, and the next read sorts the kind's map
// once.
type objectOrder[T any, PT interface {
	*T
	metav1.Object
}] struct {
	list    []PT
	stale   bool
	changes int
}

// orderedChanges is how many changes between two reads are applied one
// by one before the list is sorted anew instead: each costs a copy of
// the list, a sort about log2(n) of them.
const orderedChanges = 16

// note is a change callback that keeps the order and then calls then.
func (o *objectOrder[T, PT]) note(then func()) func(nsName, PT, PT) {
	return func(k nsName, _, obj PT) {
		then()
		if o.stale {
			return
		}
		if o.changes++; o.changes > orderedChanges {
			o.list, o.stale = nil, true
			return
		}
		i, found := slices.BinarySearchFunc(o.list, k, func(x PT, k nsName) int {
			return cmp.Or(cmp.Compare(x.GetNamespace(), k.namespace), cmp.Compare(x.GetName(), k.name))
		})
		switch {
		case obj != nil && found:
			o.list = slices.Clone(o.list)
			o.list[i] = obj
		case obj != nil:
			o.list = slices.Insert(slices.Clip(o.list), i, obj)
		case found:
			o.list = slices.Delete(slices.Clone(o.list), i, i+1)
		}
	}
}

// sorted is the kind's objects in order; m is the kind's map.
func (o *objectOrder[T, PT]) sorted(m map[nsName]PT) []PT {
	if o.stale {
		o.list, o.stale = sortedObjects(m), false
	}
	o.changes = 0
	return o.list
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
// the front end resolve again; its Resolver redoes only what the change
// touches.
func (e *Engine) syncGateways(in Input) {
	g := &e.gw.objs
	mark := func() { e.dirty.gateway = true }
	syncNamed(g.classes, in.GatewayClasses, func(string, *gatewayv1.GatewayClass, *gatewayv1.GatewayClass) { mark() })
	syncObjects(g.gateways, in.Gateways, g.order.gateways.note(mark))
	syncObjects(g.http, in.HTTPRoutes, g.order.http.note(mark))
	syncObjects(g.grpc, in.GRPCRoutes, g.order.grpc.note(mark))
	syncObjects(g.tls, in.TLSRoutes, g.order.tls.note(mark))
	syncObjects(g.tcp, in.TCPRoutes, g.order.tcp.note(mark))
	syncObjects(g.udp, in.UDPRoutes, g.order.udp.note(mark))
	syncObjects(g.grants, in.ReferenceGrants, g.order.grants.note(mark))
	syncNamed(g.namespaces, in.Namespaces, func(string, *corev1.Namespace, *corev1.Namespace) { mark() })
}

// applyGateway is Upsert and Delete for the Gateway API kinds and
// Namespaces; false for any other kind.
func (e *Engine) applyGateway(obj any, remove bool) bool {
	g := &e.gw.objs
	changed := false
	note := func() { changed = true }
	switch o := obj.(type) {
	case *gatewayv1.GatewayClass:
		changed = applyNamed(g.classes, o, remove)
	case *corev1.Namespace:
		changed = applyNamed(g.namespaces, o, remove)
	case *gatewayv1.Gateway:
		applyObject(g.gateways, o, remove, g.order.gateways.note(note))
	case *gatewayv1.HTTPRoute:
		applyObject(g.http, o, remove, g.order.http.note(note))
	case *gatewayv1.GRPCRoute:
		applyObject(g.grpc, o, remove, g.order.grpc.note(note))
	case *gatewayv1.TLSRoute:
		applyObject(g.tls, o, remove, g.order.tls.note(note))
	case *gatewayv1.TCPRoute:
		applyObject(g.tcp, o, remove, g.order.tcp.note(note))
	case *gatewayv1.UDPRoute:
		applyObject(g.udp, o, remove, g.order.udp.note(note))
	case *gatewayv1.ReferenceGrant:
		applyObject(g.grants, o, remove, g.order.grants.note(note))
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
		Gateways:        g.order.gateways.sorted(g.gateways),
		HTTPRoutes:      g.order.http.sorted(g.http),
		GRPCRoutes:      g.order.grpc.sorted(g.grpc),
		TLSRoutes:       g.order.tls.sorted(g.tls),
		TCPRoutes:       g.order.tcp.sorted(g.tcp),
		UDPRoutes:       g.order.udp.sorted(g.udp),
		ReferenceGrants: g.order.grants.sorted(g.grants),
		Namespaces:      sortedNamed(g.namespaces),
	}
	// The front end looks Services and Secrets up in the engine's
	// indexes: listing and sorting thousands of them on every change
	// would cost more than the change.
	in.LookupService = func(k types.NamespacedName) *corev1.Service { return e.idx.services[nsName{k.Namespace, k.Name}] }
	in.LookupSecret = func(k types.NamespacedName) *corev1.Secret { return e.idx.secrets[nsName{k.Namespace, k.Name}] }
	in.ChangedServices = e.gw.takeChangedServices()
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

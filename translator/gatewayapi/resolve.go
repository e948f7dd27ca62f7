package gatewayapi

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Input is what the front end reads.
type Input struct {
	GatewayClasses  []*gatewayv1.GatewayClass   `json:"gatewayClasses,omitempty"`
	Gateways        []*gatewayv1.Gateway        `json:"gateways,omitempty"`
	HTTPRoutes      []*gatewayv1.HTTPRoute      `json:"httpRoutes,omitempty"`
	GRPCRoutes      []*gatewayv1.GRPCRoute      `json:"grpcRoutes,omitempty"`
	TLSRoutes       []*gatewayv1.TLSRoute       `json:"tlsRoutes,omitempty"`
	TCPRoutes       []*gatewayv1.TCPRoute       `json:"tcpRoutes,omitempty"`
	UDPRoutes       []*gatewayv1.UDPRoute       `json:"udpRoutes,omitempty"`
	ReferenceGrants []*gatewayv1.ReferenceGrant `json:"referenceGrants,omitempty"`
	Namespaces      []*corev1.Namespace         `json:"namespaces,omitempty"`
	Services        []*corev1.Service           `json:"services,omitempty"`
	Secrets         []*corev1.Secret            `json:"secrets,omitempty"`
	// LookupService and LookupSecret, when set, stand for Services and
	// Secrets: the engine's indexes, which it need not list and sort for
	// every resolve.
	LookupService func(types.NamespacedName) *corev1.Service `json:"-"`
	LookupSecret  func(types.NamespacedName) *corev1.Secret  `json:"-"`
	// ChangedServices, when not nil, holds every Service that may look
	// up differently than in the same Resolver's previous call. The
	// Resolver then checks the Services its kept routes read against
	// these alone: looking up every read of 10k routes on every change
	// costs more than the change. Nil: any Service may have changed.
	ChangedServices map[types.NamespacedName]bool `json:"-"`
}

// Options are the front end's settings.
type Options struct {
	// ControllerName is fairway's controllerName: the GatewayClasses that
	// name it are fairway's.
	ControllerName string `json:"controllerName,omitempty"`
	// Dedicated: the address pool is on, every Gateway gets an address of
	// its own, so listeners of different Gateways never conflict.
	Dedicated bool `json:"dedicated,omitempty"`
	// CertificateError says why a Secret cannot serve as a listener's
	// certificate; nil means it can. Nil func: a kubernetes.io/tls Secret
	// with non-empty tls.crt and tls.key is usable.
	CertificateError func(*corev1.Secret) error `json:"-"`
}

// The API group of the Gateway API's kinds, as parentRefs, allowedRoutes
// kinds and ReferenceGrants name it.
const groupName = gatewayv1.GroupName

// Route kinds, as the Gateway API spells them.
const (
	kindHTTPRoute = "HTTPRoute"
	kindGRPCRoute = "GRPCRoute"
	kindTLSRoute  = "TLSRoute"
	kindTCPRoute  = "TCPRoute"
	kindUDPRoute  = "UDPRoute"
	kindGateway   = "Gateway"
)

// resolver holds the indexes one Resolve builds and what it has decided
// so far; it lives for one call.
type resolver struct {
	in         Input
	opts       Options
	grants     grants
	services   map[types.NamespacedName]*corev1.Service
	secrets    map[types.NamespacedName]*corev1.Secret
	namespaces map[string]*corev1.Namespace
	// gateways are fairway's Gateways (of an accepted class of fairway's),
	// oldest first, then namespace/name.
	gateways []*gateway
	byName   map[types.NamespacedName]*gateway
	routes   []RouteStatus
	// memo is the Resolver whose memory this resolve reuses (nil: from
	// scratch), and reads the Services the route being lowered looked up.
	memo        *Resolver
	reads       []serviceRead
	secretReads []secretRead
	// gone are the memo's HTTPRules this resolve dropped, fresh those it
	// made, by listener, and sorted each listener's rules in order.
	gone   map[*HTTPRule]bool
	fresh  map[*listener][]*HTTPRule
	sorted map[listenerKey][]*HTTPRule
}

// Resolve decides what fairway's Gateways serve and what status every
// Gateway API object of fairway's should carry. It is pure and
// deterministic: the same Input gives the same Model, whatever the order
// of its slices.
func Resolve(in Input, opts Options) *Model {
	return newResolver(in, opts).run()
}

func newResolver(in Input, opts Options) *resolver {
	r := &resolver{
		in:         in,
		opts:       opts,
		grants:     indexGrants(in.ReferenceGrants),
		namespaces: map[string]*corev1.Namespace{},
		byName:     map[types.NamespacedName]*gateway{},
		routes:     make([]RouteStatus, 0, len(in.HTTPRoutes)+len(in.GRPCRoutes)+len(in.TLSRoutes)+len(in.TCPRoutes)+len(in.UDPRoutes)),
	}
	if in.LookupService == nil {
		r.services = index(in.Services)
	}
	if in.LookupSecret == nil {
		r.secrets = index(in.Secrets)
	}
	for _, ns := range in.Namespaces {
		r.namespaces[ns.Name] = ns
	}
	return r
}

func (r *resolver) run() *Model {
	classes, accepted := resolveClasses(r.in.GatewayClasses, r.opts.ControllerName)
	if !r.reuseStage() {
		r.resolveGateways(accepted)
		r.keepStage()
	}
	r.attachRoutes()
	r.sweep()
	m := r.model(classes)
	if r.memo != nil {
		r.memo.sorted = r.sorted
	}
	return m
}

// model gathers the listeners and the status once every route has
// attached, so that attachedRoutes counts are final.
func (r *resolver) model(classes []GatewayClassStatus) *Model {
	m := &Model{Status: Status{GatewayClasses: classes}}
	for _, gw := range r.gateways {
		m.Status.Gateways = append(m.Status.Gateways, gw.status())
		for _, l := range gw.listeners {
			if l.model != nil {
				l.model.HTTP = r.sortRules(l)
				slices.SortFunc(l.model.Streams, compareStreams)
				m.Listeners = append(m.Listeners, l.model)
			}
		}
	}
	slices.SortFunc(m.Status.Gateways, func(a, b GatewayStatus) int {
		return compareNames(a.Namespace, a.Name, b.Namespace, b.Name)
	})
	if len(r.routes) > 0 {
		m.Status.Routes = r.routes
	}
	slices.SortFunc(m.Status.Routes, func(a, b RouteStatus) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return compareNames(a.Namespace, a.Name, b.Namespace, b.Name)
	})
	return m
}

func index[T metav1.Object](objs []T) map[types.NamespacedName]T {
	m := make(map[types.NamespacedName]T, len(objs))
	for _, o := range objs {
		m[types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}] = o
	}
	return m
}

// objectOf names a Gateway API object for the Model.
func objectOf(kind string, o metav1.Object) Object {
	return Object{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName(), Created: o.GetCreationTimestamp().Time}
}

// compareAge orders objects oldest first, then by namespace/name: the
// order in which conflicts are won and ties of precedence broken.
func compareAge(a, b Object) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return compareNames(a.Namespace, a.Name, b.Namespace, b.Name)
}

func compareNames(ans, aname, bns, bname string) int {
	if c := strings.Compare(ans, bns); c != 0 {
		return c
	}
	return strings.Compare(aname, bname)
}

// condition builds a condition without a lastTransitionTime: the status
// writer stamps the time when the status changes.
func condition(typ string, ok bool, reason, msg string, generation int64) metav1.Condition {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: generation}
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// compareStreams orders a listener's stream routes oldest first, then by
// kind and namespace/name: the order in which the back end gives a TLS
// hostname, or a TCP or UDP port, to the first route that asks for it.
func compareStreams(a, b *StreamRoute) int {
	if c := compareAge(a.Route, b.Route); c != 0 {
		return c
	}
	return strings.Compare(a.Route.Kind, b.Route.Kind)
}

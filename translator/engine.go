package translator

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// Engine is the incremental translator. It keeps every object's parse and
// every resource's encoding, and on each Sync recomputes only what the
// changed objects touch: an Ingress its hosts, an EndpointSlice its
// Service's endpoints. Translate is a cold Engine, so the incremental and
// the from-scratch results come from the same code, and a property test
// holds them byte-identical.
//
// Objects are never modified once given: a changed object is a new
// pointer, as informers and the file source deliver them. That identity is
// how Sync finds what changed.
type Engine struct {
	opts Options
	// logs are the listeners' access log formats, from opts once.
	logs envoy.AccessLogs
	idx  *index

	ingresses map[nsName]*ingressState
	classes   map[string]*networkingv1.IngressClass
	nodes     map[string]*corev1.Node
	slices    map[nsName]*discoveryv1.EndpointSlice
	ours      classSelection

	hosts       map[string]*hostState
	hostOrder   []string // sorted, "" (the catch-all) first; nil when stale
	hostPos     map[string]int
	hostStates  []*hostState // e.hosts in hostOrder
	httpTable   routeTable
	https       map[string]*chainTable     // TLS host ("" the default chain) -> its table
	landed      map[string]bool            // TLS hosts whose table has a landing virtual host
	httpsStale  bool                       // the chains changed: every https table is composed again
	contrib     map[string][]*ingressState // host -> the served Ingresses with rules for it
	passHosts   map[string]*passRoute      // hosts passed through (passthrough.go)
	redirecting map[string]bool            // hosts with a redirect plan (sslredirect.go)
	svcHosts    map[nsName][]string        // Service -> hosts whose routes name it
	defaults    defaultState
	claims      claimsState
	tls         tlsState
	clusters    clusterState
	proxyless   map[nsName]*proxylessState
	demand      demandState
	servers     serverListeners
	envoy, grpc *ResourceSet

	// secretChecks keeps each Secret's validation while the object stays
	// the same: parsing a key pair costs more than a host's translation.
	secretChecks map[nsName]secretMemo
	// authSecretReaders are the Ingresses whose basic authentication
	// reads each Secret (route_basicauth.go).
	authSecretReaders secretReaders

	// backendSecrets are the Secrets of proxy-ssl-secret (proxyssl.go).
	backendSecrets backendSecretState

	// gw is the Gateway API's part (gatewaystate.go).
	gw gatewayState

	// problemSlots holds the Problems of the pieces that have any.
	problemSlots map[slot][]Problem

	// redirectHosts is the http table's shared redirect virtual host
	// (redirecttable.go).
	redirectHosts redirectHosts
	// httpScratch are composeRouteConfigs' lists, reused across changes.
	httpScratch struct {
		parts        []*Resource
		redirectOnly []string
	}

	dirty dirtySet
	err   error

	// perPathPlain keeps every redirecting host's plain side per path, as
	// before the compact forms: for the test that holds both to the same
	// answers.
	perPathPlain bool
}

// dirtySet is what the next Output must recompute.
type dirtySet struct {
	defaults, claims, tls bool
	// gateway: a Gateway API object, or a Service or Secret while there
	// are Gateways, changed (gateway.go).
	gateway  bool
	hosts    map[string]bool
	services map[nsName]bool // endpoints and proxyless resources
	apiHosts map[string]bool // hosts whose proxyless demand changed
}

func cleanDirty() dirtySet {
	return dirtySet{hosts: map[string]bool{}, services: map[nsName]bool{}, apiHosts: map[string]bool{}}
}

// NewEngine creates an empty engine.
func NewEngine(opts Options) *Engine {
	e := &Engine{
		opts:         opts.WithDefaults(),
		idx:          newIndex(Input{}),
		ingresses:    map[nsName]*ingressState{},
		classes:      map[string]*networkingv1.IngressClass{},
		nodes:        map[string]*corev1.Node{},
		slices:       map[nsName]*discoveryv1.EndpointSlice{},
		hosts:        map[string]*hostState{},
		contrib:      map[string][]*ingressState{},
		passHosts:    map[string]*passRoute{},
		svcHosts:     map[nsName][]string{},
		proxyless:    map[nsName]*proxylessState{},
		demand:       newDemandState(),
		servers:      serverListeners{},
		problemSlots: map[slot][]Problem{},
		envoy:        newResourceSet(),
		grpc:         newResourceSet(),
	}
	e.logs = e.opts.accessLogs()
	e.clusters.init()
	e.httpTable.name = envoy.HTTPRouteConfig
	e.https, e.landed = map[string]*chainTable{}, map[string]bool{}
	e.claims.specs = map[string]listenerSpec{}
	e.secretChecks = map[nsName]secretMemo{}
	e.backendSecrets = newBackendSecretState()
	e.authSecretReaders = newSecretReaders()
	e.gw = newGatewayState()
	// The first Output builds what depends on no particular object.
	e.dirty = cleanDirty()
	e.dirty.defaults, e.dirty.claims, e.dirty.tls, e.dirty.hosts[""] = true, true, true, true
	return e
}

// Sync makes in the engine's state, noting what changed since the last
// Sync. It is cheap: pointer comparisons, and a parse of changed Ingresses.
func (e *Engine) Sync(in Input) {
	syncObjects(e.idx.services, in.Services, e.serviceChanged)
	syncObjects(e.slices, in.EndpointSlices, e.sliceChanged)
	syncObjects(e.idx.secrets, in.Secrets, e.secretChanged)
	classes := false
	syncNamed(e.classes, in.IngressClasses, func(string, *networkingv1.IngressClass, *networkingv1.IngressClass) { classes = true })
	if classes {
		e.classesChanged()
	}
	current := make(map[nsName]*networkingv1.Ingress, len(e.ingresses))
	for _, st := range e.ingresses {
		current[keyOf(&st.obj.ObjectMeta)] = st.obj
	}
	syncObjects(current, in.Ingresses, e.ingressChanged)
	nodes := false
	syncNamed(e.nodes, in.Nodes, func(string, *corev1.Node, *corev1.Node) { nodes = true })
	if nodes {
		e.nodesChanged()
	}
	e.syncGateways(in)
}

// Upsert adds or replaces one object: the event form of Sync, for sources
// that know what changed (informers). It costs what the object touches,
// not the size of the cluster.
func (e *Engine) Upsert(obj any) error { return e.apply(obj, false) }

// Delete removes one object; only its kind, namespace and name matter.
func (e *Engine) Delete(obj any) error { return e.apply(obj, true) }

func (e *Engine) apply(obj any, remove bool) error {
	switch o := obj.(type) {
	case *corev1.Service:
		applyObject(e.idx.services, o, remove, e.serviceChanged)
	case *discoveryv1.EndpointSlice:
		applyObject(e.slices, o, remove, e.sliceChanged)
	case *corev1.Secret:
		applyObject(e.idx.secrets, o, remove, e.secretChanged)
	case *networkingv1.Ingress:
		k := keyOf(&o.ObjectMeta)
		var old *networkingv1.Ingress
		if st := e.ingresses[k]; st != nil {
			old = st.obj
		}
		if remove && old != nil {
			e.ingressChanged(k, old, nil)
		} else if !remove && old != o {
			e.ingressChanged(k, old, o)
		}
	case *networkingv1.IngressClass:
		if applyNamed(e.classes, o, remove) {
			e.classesChanged()
		}
	case *corev1.Node:
		if applyNamed(e.nodes, o, remove) {
			e.nodesChanged()
		}
	default:
		if e.applyGateway(obj, remove) {
			return nil
		}
		return fmt.Errorf("translator: cannot apply %T", obj)
	}
	return nil
}

func applyObject[T any, PT interface {
	*T
	metav1.Object
}](cur map[nsName]PT, o PT, remove bool, changed func(nsName, PT, PT)) {
	k := nsName{o.GetNamespace(), o.GetName()}
	old, ok := cur[k]
	switch {
	case remove && ok:
		delete(cur, k)
		changed(k, old, nil)
	case !remove && old != o:
		cur[k] = o
		changed(k, old, o)
	}
}

func applyNamed[T any, PT interface {
	*T
	metav1.Object
}](cur map[string]PT, o PT, remove bool) bool {
	old, ok := cur[o.GetName()]
	switch {
	case remove && ok:
		delete(cur, o.GetName())
		return true
	case !remove && old != o:
		cur[o.GetName()] = o
		return true
	}
	return false
}

// syncObjects brings cur to objs, calling changed(key, old, new) for every
// added (old nil), replaced or removed (new nil) object.
func syncObjects[T any, PT interface {
	*T
	metav1.Object
}](cur map[nsName]PT, objs []PT, changed func(nsName, PT, PT)) {
	var seen map[nsName]bool
	if len(cur) > 0 { // else nothing can have gone
		seen = make(map[nsName]bool, len(objs))
	}
	for _, o := range objs {
		if o == nil {
			continue
		}
		k := nsName{o.GetNamespace(), o.GetName()}
		if seen != nil {
			seen[k] = true
		}
		if old := cur[k]; old != o {
			cur[k] = o
			changed(k, old, o)
		}
	}
	if seen == nil {
		return
	}
	for k, old := range cur {
		if !seen[k] {
			delete(cur, k)
			changed(k, old, nil)
		}
	}
}

// syncNamed is syncObjects for cluster-scoped objects.
func syncNamed[T any, PT interface {
	*T
	metav1.Object
}](cur map[string]PT, objs []PT, changed func(string, PT, PT)) {
	seen := make(map[string]bool, len(objs))
	for _, o := range objs {
		if o == nil {
			continue
		}
		seen[o.GetName()] = true
		if old := cur[o.GetName()]; old != o {
			cur[o.GetName()] = o
			changed(o.GetName(), old, o)
		}
	}
	for k, old := range cur {
		if !seen[k] {
			delete(cur, k)
			changed(k, old, nil)
		}
	}
}

// classesChanged decides again which Ingresses fairway serves, and the
// http claim, which fairway's oldest IngressClass dates.
func (e *Engine) classesChanged() {
	e.ours = selectClasses(e.classes, e.opts.IngressController)
	e.dirty.claims = true
	for k, st := range e.ingresses {
		if st.ours != e.ours.serves(st.obj) {
			e.ingressChanged(k, st.obj, st.obj)
		}
	}
}

func (e *Engine) serviceChanged(k nsName, old, svc *corev1.Service) {
	for _, host := range e.svcHosts[k] {
		e.dirty.hosts[host] = true
	}
	if e.defaults.service == k || (e.defaults.authService == k && k.name != "") {
		e.dirty.defaults = true
	}
	if (old != nil && old.Spec.Type == corev1.ServiceTypeLoadBalancer) || (svc != nil && svc.Spec.Type == corev1.ServiceTypeLoadBalancer) {
		e.dirty.claims = true
	}
	e.dirty.services[k] = true
	e.noteServers(k, svc)
	e.gw.serviceChanged(k)
	e.gw.gatewayReadsChanged()
	if e.gatewayReads() {
		e.dirty.gateway = true
	}
}

func (e *Engine) sliceChanged(k nsName, old, es *discoveryv1.EndpointSlice) {
	for _, s := range []*discoveryv1.EndpointSlice{old, es} {
		if s == nil || s.Labels[discoveryv1.LabelServiceName] == "" {
			continue
		}
		svc := nsName{s.Namespace, s.Labels[discoveryv1.LabelServiceName]}
		list := slices.DeleteFunc(e.idx.slices[svc], func(x *discoveryv1.EndpointSlice) bool { return keyOf(&x.ObjectMeta) == k })
		if s == es {
			list = append(list, es)
			slices.SortFunc(list, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
		}
		if len(list) == 0 {
			delete(e.idx.slices, svc)
		} else {
			e.idx.slices[svc] = list
		}
		e.dirty.services[svc] = true
	}
}

func (e *Engine) nodesChanged() {
	e.idx.nodes = e.idx.nodes[:0]
	for _, n := range e.nodes {
		e.idx.nodes = append(e.idx.nodes, n)
	}
	slices.SortFunc(e.idx.nodes, func(a, b *corev1.Node) int { return cmp.Compare(a.Name, b.Name) })
	if e.opts.LBTarget == LBTargetNodes {
		for k := range e.claims.lbServices {
			e.dirty.services[k] = true
		}
	}
}

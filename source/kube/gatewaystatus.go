package kube

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// GatewayStatusWriter makes the status of fairway's Gateway API objects
// what the translator says: GatewayClasses' and Gateways' status, and
// fairway's entries in routes' status.parents. As the Ingress status
// writer, only the leader writes, and it writes only what differs from
// the informers' caches, so a new leader's first pass over a cluster
// whose status is right costs no request.
//
// The translator gives conditions without lastTransitionTime (it has no
// clock). Here a condition keeps the time of the cached one of its type
// while its status is the same, and gets the time of the write when its
// status changes or it is new.
//
// A route's parents of other controllers are kept as they are; fairway's
// own (controllerName is fairway's) are replaced by the translator's, so
// a parent that no longer names one of fairway's Gateways loses its entry.
// GatewayClasses and Gateways that are not fairway's are never written.
type GatewayStatusWriter struct {
	client     gatewayclient.Interface
	src        *Source
	addrs      *Addresses // nil: status.addresses only as the translator gives them
	controller gatewayv1.GatewayController
	log        hclog.Logger
	metrics    *Metrics
	kick       chan struct{}
	// now stamps a condition's transition; the clock is here, never in the
	// translator.
	now func() metav1.Time

	mu   sync.Mutex
	want *gatewayapi.Status // nil until the first round
	// wantSeen are the informers whose objects want's round saw: a kind
	// watched since (CRDs installed mid-run) is not compared against a
	// round that did not know its objects.
	wantSeen map[string]cache.SharedIndexInformer
	term     context.Context
	// seen is wantSeen for the pass being written, and hooked the
	// informers whose changes kick the writer; Run's goroutine only.
	seen   map[string]cache.SharedIndexInformer
	hooked map[string]bool
	// awaiting: per object, the cached resourceVersion a write was last
	// made against, until the cache moves past it.
	awaiting map[objectKey]string
}

// NewGatewayStatusWriter writes the status of the Gateway API objects of
// controller (Options.GatewayController). addrs, when set, gives a
// Gateway without addresses of its own (no address pool) the fleet's.
func NewGatewayStatusWriter(client gatewayclient.Interface, src *Source, addrs *Addresses, controller string, metrics *Metrics, log hclog.Logger) *GatewayStatusWriter {
	return &GatewayStatusWriter{
		client: client, src: src, addrs: addrs, controller: gatewayv1.GatewayController(controller),
		log: log, metrics: metrics, kick: make(chan struct{}, 1), now: metav1.Now, awaiting: map[objectKey]string{},
		hooked: map[string]bool{},
	}
}

// Observe records the status the last published round computed. It is
// called on the loop's goroutine after the round's Sync, so the source's
// informers are those whose objects the round saw.
func (w *GatewayStatusWriter) Observe(st gatewayapi.Status) {
	seen := map[string]cache.SharedIndexInformer{}
	for _, k := range gatewayKinds {
		if inf := w.src.Informer(k.kind); inf != nil {
			seen[k.kind] = inf
		}
	}
	w.mu.Lock()
	w.want, w.wantSeen = &st, seen
	w.mu.Unlock()
	w.Kick()
}

// Kick asks for a reconcile.
func (w *GatewayStatusWriter) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Lead starts the writes for a leadership term; they stop when it ends.
func (w *GatewayStatusWriter) Lead(term context.Context) {
	w.mu.Lock()
	w.term = term
	w.mu.Unlock()
	w.Kick()
}

// Run reconciles after every kick until ctx ends. It must start after the
// source's Start, which finds the installed kinds: someone else's write
// to one of their status is seen and corrected.
func (w *GatewayStatusWriter) Run(ctx context.Context) error {
	if err := w.hook(); err != nil {
		return err
	}
	if w.addrs != nil {
		if err := w.addrs.Notify(w.Kick); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.kick:
		}
		if err := w.hook(); err != nil {
			return err
		}
		w.reconcile()
	}
}

// hook makes every change of a watched kind's objects kick the writer,
// for the kinds watched at start and those watched since.
func (w *GatewayStatusWriter) hook() error {
	kick := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.Kick() },
		UpdateFunc: func(any, any) { w.Kick() },
	}
	for _, k := range gatewayKinds {
		if inf := w.src.Informer(k.kind); inf != nil && k.kind != KindReferenceGrant && !w.hooked[k.kind] {
			if _, err := inf.AddEventHandler(kick); err != nil {
				return err
			}
			w.hooked[k.kind] = true
		}
	}
	return nil
}

// reconcile writes every object whose status differs from the wanted one.
func (w *GatewayStatusWriter) reconcile() {
	w.mu.Lock()
	want, term, seen := w.want, w.term, w.wantSeen
	w.mu.Unlock()
	if term == nil || term.Err() != nil || want == nil {
		return
	}
	w.seen = seen
	failed := 0
	for _, c := range want.GatewayClasses {
		if w.failed(w.gatewayClass(term, c)) {
			failed++
		}
	}
	for _, g := range want.Gateways {
		if w.failed(w.gateway(term, g)) {
			failed++
		}
	}
	routes := make(map[objectKey][]gatewayv1.RouteParentStatus, len(want.Routes))
	for _, r := range want.Routes {
		routes[objectKey{r.Kind, r.Namespace, r.Name}] = r.Parents
	}
	for _, rk := range routeKinds {
		if term.Err() != nil {
			return
		}
		failed += w.routes(term, rk, routes)
	}
	w.pruneAwaiting()
	if failed > 0 {
		time.AfterFunc(statusRetry, w.Kick)
	}
}

// gatewayClass writes one GatewayClass's status when it differs.
func (w *GatewayStatusWriter) gatewayClass(term context.Context, want gatewayapi.GatewayClassStatus) error {
	cached, ok := w.cached(KindGatewayClass, "", want.Name).(*gatewayv1.GatewayClass)
	if !ok {
		return nil
	}
	next := *want.Status.DeepCopy()
	next.Conditions = w.stamp(next.Conditions, cached.Status.Conditions)
	if equality.Semantic.DeepEqual(cached.Status, next) {
		return nil
	}
	obj := cached.DeepCopy()
	obj.Status = next
	return w.update(term, KindGatewayClass, &cached.ObjectMeta, func(ctx context.Context) (string, error) {
		return resourceVersion(w.client.GatewayV1().GatewayClasses().UpdateStatus(ctx, obj, metav1.UpdateOptions{}))
	})
}

// gateway writes one Gateway's status when it differs.
func (w *GatewayStatusWriter) gateway(term context.Context, want gatewayapi.GatewayStatus) error {
	cached, ok := w.cached(KindGateway, want.Namespace, want.Name).(*gatewayv1.Gateway)
	if !ok {
		return nil
	}
	next := *want.Status.DeepCopy()
	if w.addrs != nil {
		gatewayapi.OnFleet(&next, cached.Spec.Addresses, gatewayAddresses(w.addrs.Current()))
	}
	gatewayStatusDefaults(&next)
	next.Conditions = w.stamp(next.Conditions, cached.Status.Conditions)
	for i := range next.Listeners {
		l := &next.Listeners[i]
		var old []metav1.Condition
		for _, c := range cached.Status.Listeners {
			if c.Name == l.Name {
				old = c.Conditions
			}
		}
		l.Conditions = w.stamp(l.Conditions, old)
	}
	if equality.Semantic.DeepEqual(cached.Status, next) {
		return nil
	}
	obj := cached.DeepCopy()
	obj.Status = next
	return w.update(term, KindGateway, &cached.ObjectMeta, func(ctx context.Context) (string, error) {
		return resourceVersion(w.client.GatewayV1().Gateways(obj.Namespace).UpdateStatus(ctx, obj, metav1.UpdateOptions{}))
	})
}

// resourceVersion is an UpdateStatus's result as update wants it.
func resourceVersion[T metav1.Object](obj T, err error) (string, error) {
	if err != nil {
		return "", err
	}
	return obj.GetResourceVersion(), nil
}

// gatewayAddresses are the fleet's addresses as a Gateway's status lists
// them.
func gatewayAddresses(addrs []Address) []gatewayv1.GatewayStatusAddress {
	out := make([]gatewayv1.GatewayStatusAddress, 0, len(addrs))
	for _, a := range addrs {
		typ, value := gatewayv1.IPAddressType, a.IP
		if a.IP == "" {
			typ, value = gatewayv1.HostnameAddressType, a.Hostname
		}
		out = append(out, gatewayv1.GatewayStatusAddress{Type: &typ, Value: value})
	}
	return out
}

// routes writes the status.parents of every cached route of one kind
// whose entries of fairway's differ from want's; it returns the writes
// that failed.
func (w *GatewayStatusWriter) routes(term context.Context, rk routeKind, want map[objectKey][]gatewayv1.RouteParentStatus) int {
	inf := w.seen[rk.kind]
	if inf == nil {
		return 0
	}
	failed := 0
	for _, obj := range inf.GetStore().List() {
		m, ok := obj.(metav1.Object)
		if !ok || term.Err() != nil {
			continue
		}
		current := rk.parents(obj)
		next := w.mergeParents(current, want[objectKey{rk.kind, m.GetNamespace(), m.GetName()}])
		next, dropped := capParents(next)
		if equality.Semantic.DeepEqual(current, next) {
			continue
		}
		if dropped > 0 {
			w.log.Warn("a route's status.parents would pass the CRD's 32 entries; fairway's last entries are left out",
				"kind", rk.kind, "namespace", m.GetNamespace(), "name", m.GetName(), "left_out", dropped)
		}
		err := w.update(term, rk.kind, metaOf(m), func(ctx context.Context) (string, error) {
			return rk.update(ctx, w.client, obj, next)
		})
		if w.failed(err) {
			failed++
		}
	}
	return failed
}

// metaOf is what update needs of an object's metadata.
func metaOf(m metav1.Object) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Namespace: m.GetNamespace(), Name: m.GetName(), ResourceVersion: m.GetResourceVersion()}
}

// mergeParents keeps the entries of other controllers in their order and
// puts fairway's wanted ones after them, each condition stamped against
// the cached entry of fairway's for the same parentRef. An empty list is
// empty, not nil: the CRD requires status.parents once there is a status.
func (w *GatewayStatusWriter) mergeParents(current, want []gatewayv1.RouteParentStatus) []gatewayv1.RouteParentStatus {
	out := []gatewayv1.RouteParentStatus{}
	for _, p := range current {
		if p.ControllerName != w.controller {
			out = append(out, p)
		}
	}
	for _, p := range want {
		p = *p.DeepCopy()
		p.ControllerName = w.controller
		parentRefDefaults(&p.ParentRef)
		var old []metav1.Condition
		for _, c := range current {
			if c.ControllerName == w.controller && equality.Semantic.DeepEqual(c.ParentRef, p.ParentRef) {
				old = c.Conditions
			}
		}
		p.Conditions = w.stamp(p.Conditions, old)
		out = append(out, p)
	}
	return out
}

// maxRouteParents is the CRD's bound on a route's status.parents. The
// API server refuses a longer list whole, which would leave the route's
// status stale for every parent, fairway's first ones included.
const maxRouteParents = 32

// capParents keeps the first maxRouteParents entries of a merged list:
// other controllers' entries, which are theirs to keep, then fairway's in
// its parentRef order, so fairway's last ones go first. It returns how
// many are left out.
func capParents(parents []gatewayv1.RouteParentStatus) ([]gatewayv1.RouteParentStatus, int) {
	if len(parents) <= maxRouteParents {
		return parents, 0
	}
	return parents[:maxRouteParents], len(parents) - maxRouteParents
}

// stamp gives each wanted condition its lastTransitionTime: the cached
// condition's of the same type when the status is unchanged, else now.
func (w *GatewayStatusWriter) stamp(want, cached []metav1.Condition) []metav1.Condition {
	if want == nil {
		return nil
	}
	out := make([]metav1.Condition, len(want))
	var now metav1.Time
	for i, c := range want {
		if old := meta.FindStatusCondition(cached, c.Type); old != nil && old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		} else {
			if now.IsZero() {
				now = w.now()
			}
			c.LastTransitionTime = now
		}
		out[i] = c
	}
	return out
}

// cached is the informer's copy of one object, or nil.
func (w *GatewayStatusWriter) cached(kind, namespace, name string) any {
	inf := w.seen[kind]
	if inf == nil {
		return nil
	}
	key := name
	if namespace != "" {
		key = namespace + "/" + name
	}
	obj, ok, _ := inf.GetStore().GetByKey(key)
	if !ok {
		return nil
	}
	return obj
}

// update runs one UpdateStatus of a cached object, which carries the
// cached resourceVersion: when the object has moved on, the API server
// answers a conflict, and the informer brings the newer version and with
// it another pass. A version already written (or found stale) is skipped
// until the cache moves past it, so a pass that runs before the echo of
// the last write arrives does not write again.
func (w *GatewayStatusWriter) update(term context.Context, kind string, m *metav1.ObjectMeta, call func(context.Context) (string, error)) error {
	key := objectKey{kind, m.Namespace, m.Name}
	w.mu.Lock()
	if w.awaiting[key] == m.ResourceVersion {
		w.mu.Unlock()
		return nil
	}
	w.mu.Unlock()
	rv, err := call(term)
	// A write that changed nothing keeps the resourceVersion and sends no
	// echo to wait for.
	if (err == nil && rv != m.ResourceVersion) || apierrors.IsConflict(err) {
		w.mu.Lock()
		w.awaiting[key] = m.ResourceVersion
		w.mu.Unlock()
	}
	written(w.metrics, w.log, kind, m.Namespace, m.Name, err)
	return err
}

// failed: a write that will not fix itself through the informer.
func (w *GatewayStatusWriter) failed(err error) bool { return writeFailed(err) }

// pruneAwaiting forgets the writes whose echo the cache now holds, and
// those of objects that are gone.
func (w *GatewayStatusWriter) pruneAwaiting() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, rv := range w.awaiting {
		m, ok := w.cached(key.kind, key.namespace, key.name).(metav1.Object)
		if !ok || m.GetResourceVersion() != rv {
			delete(w.awaiting, key)
		}
	}
}

// The CRDs' defaults of the status fields: the API server fills them in
// what it stores, so a wanted status without them would never compare
// equal to its own echo, and would be written on every pass.
var (
	defaultGroup       = gatewayv1.Group(gatewayv1.GroupName)
	defaultParentKind  = gatewayv1.Kind("Gateway")
	defaultAddressType = gatewayv1.IPAddressType
)

func gatewayStatusDefaults(st *gatewayv1.GatewayStatus) {
	for i := range st.Addresses {
		if st.Addresses[i].Type == nil {
			st.Addresses[i].Type = &defaultAddressType
		}
	}
	for i := range st.Listeners {
		for j := range st.Listeners[i].SupportedKinds {
			if st.Listeners[i].SupportedKinds[j].Group == nil {
				st.Listeners[i].SupportedKinds[j].Group = &defaultGroup
			}
		}
	}
}

func parentRefDefaults(ref *gatewayv1.ParentReference) {
	if ref.Group == nil {
		ref.Group = &defaultGroup
	}
	if ref.Kind == nil {
		ref.Kind = &defaultParentKind
	}
}

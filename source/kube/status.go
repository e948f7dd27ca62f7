package kube

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/fairwayhq/fairway/translator"
)

// StatusWriter gives admitted LoadBalancer Services and Ingresses the
// fleet's addresses in status.loadBalancer.ingress, and takes them away
// again when an object stops being admitted. Only the leader writes; every
// replica keeps the desired state, so a new leader starts from the truth.
//
// Status fairway did not write is never touched. Services of another
// loadBalancerClass are left alone entirely (the class is immutable, and
// one of them may be the upstream load balancer whose address fairway
// copies). An object that fairway stops admitting, say an Ingress whose
// class moved to another controller, has its status cleared only while
// that status still shows fairway's addresses, so the other controller's
// write is not undone.
type StatusWriter struct {
	client    kubernetes.Interface
	services  cache.Store
	ingresses cache.Store
	addrs     *Addresses
	log       hclog.Logger
	metrics   *Metrics
	kick      chan struct{}
	// handles says which loadBalancerClasses are fairway's; Services of
	// others are never touched.
	handles func(class *string) bool

	mu       sync.Mutex
	admitted *translator.Admitted // nil until the first round
	// term is the current leadership term (nil before the first); every
	// write is made under it.
	term context.Context
	// awaiting holds, per object, the cached resourceVersion a write was
	// last made against, until the cache moves past it.
	awaiting map[objectKey]string
	// ours are the addresses this process has published, so that status it
	// wrote before the fleet moved is still recognised as its own.
	ours map[Address]bool
	// inPool tells the --lb-address-pool addresses: one of them in a
	// Service's status is fairway's own even when this process never wrote
	// it (a restart, a new leader), so a Service that lost its allocation
	// or stopped being a LoadBalancer has it cleared and the address can
	// go to another.
	inPool func(ip string) bool
	// warned are the status writes held back by another controller's
	// Service, each logged once.
	warned map[string]bool
}

// NewStatusWriter watches for status changes on the source's informers.
// opts are the translator's, for the loadBalancerClass fairway handles.
func NewStatusWriter(client kubernetes.Interface, src *Source, addrs *Addresses, opts translator.Options, metrics *Metrics, log hclog.Logger) (*StatusWriter, error) {
	w := &StatusWriter{
		client: client, addrs: addrs, log: log, metrics: metrics, kick: make(chan struct{}, 1), ours: map[Address]bool{}, awaiting: map[objectKey]string{}, warned: map[string]bool{},
		handles:   opts.HandlesLoadBalancerClass,
		inPool:    opts.AddressPoolMember(),
		services:  src.Informer(KindService).GetStore(),
		ingresses: src.Informer(KindIngress).GetStore(),
	}
	// Someone else's write to status should be seen and corrected; the
	// translation's rounds do not see status.
	kick := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.Kick() },
		UpdateFunc: func(any, any) { w.Kick() },
	}
	for _, kind := range []string{KindService, KindIngress} {
		if _, err := src.Informer(kind).AddEventHandler(kick); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Observe records what the last published round admitted. The loop calls
// it; the writes happen on the writer's own goroutine, so a slow API
// server never delays xDS.
func (w *StatusWriter) Observe(a translator.Admitted) {
	w.mu.Lock()
	w.admitted = &a
	w.mu.Unlock()
	w.Kick()
}

// Kick asks for a reconcile.
func (w *StatusWriter) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Lead starts the writes for a leadership term; they stop when it ends.
func (w *StatusWriter) Lead(term context.Context) {
	w.mu.Lock()
	w.term = term
	w.mu.Unlock()
	w.Kick()
}

// Run reconciles after every kick until ctx ends.
func (w *StatusWriter) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.addrs.Changed():
		case <-w.kick:
		}
		w.reconcile()
	}
}

// reconcile compares every object in the informers' caches with the status
// it should have and patches only those that differ, under the term: the
// caches already hold every object, so a new leader's first pass over a
// cluster whose status is right costs no request at all.
func (w *StatusWriter) reconcile() {
	w.mu.Lock()
	admitted, term := w.admitted, w.term
	addrs := w.addrs.Current()
	for _, a := range addrs {
		w.ours[a] = true
	}
	w.mu.Unlock()
	if term == nil || term.Err() != nil || admitted == nil {
		return
	}
	services := make(map[translator.ObjectRef]translator.ServiceAdmission, len(admitted.Services))
	for _, s := range admitted.Services {
		services[s.ObjectRef] = s
	}
	ingresses := make(map[translator.ObjectRef]bool, len(admitted.Ingresses))
	for _, r := range admitted.Ingresses {
		ingresses[r] = true
	}
	failed, done := w.reconcileServices(term, services, addrs)
	if !done {
		return
	}
	for _, obj := range w.ingresses.List() {
		ing := obj.(*networkingv1.Ingress)
		if term.Err() != nil {
			return
		}
		ok := ingresses[translator.ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}]
		next, manage := w.ingressWant(ing.Status.LoadBalancer.Ingress, ok, addrs)
		if manage && !equalIngressStatus(ing.Status.LoadBalancer.Ingress, next) && !w.failed(w.patch(term, "Ingress", &ing.ObjectMeta, next)) {
			failed++
		}
	}
	w.pruneAwaiting()
	if failed > 0 {
		time.AfterFunc(statusRetry, w.Kick)
	}
}

// reconcileServices is reconcile's pass over the Services: it returns the
// writes that failed, and false when the term ended midway.
func (w *StatusWriter) reconcileServices(term context.Context, admitted map[translator.ObjectRef]translator.ServiceAdmission, addrs []Address) (int, bool) {
	failed := 0
	all := w.services.List()
	held := statusHolders(all)
	for _, obj := range all {
		svc := obj.(*corev1.Service)
		if term.Err() != nil {
			return failed, false
		}
		if !w.handles(svc.Spec.LoadBalancerClass) {
			continue
		}
		adm, ok := admitted[translator.ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}]
		next, manage := w.serviceWant(svc.Status.LoadBalancer.Ingress, adm, ok, addrs)
		if !manage || equalServiceStatus(svc.Status.LoadBalancer.Ingress, next) {
			continue
		}
		if len(adm.Addresses) > 0 {
			if holder, ip, wait := held.heldElsewhere(svc, next, admitted); wait {
				w.waitFor(svc, holder, ip)
				continue
			}
		}
		if w.failed(w.patch(term, "Service", &svc.ObjectMeta, next)) {
			failed++
		}
	}
	return failed, true
}

// waitFor notes a status write held back until holder's status no longer
// shows ip. A holder fairway handles is cleared by this writer, so that is
// a moment's wait. One of another loadBalancerClass is another
// controller's, which fairway never writes: the wait lasts until that
// controller lets the address go, so it is logged as a warning, once.
func (w *StatusWriter) waitFor(svc *corev1.Service, holder objectKey, ip string) {
	obj, ok, _ := w.services.GetByKey(holder.namespace + "/" + holder.name)
	if !ok || w.handles(obj.(*corev1.Service).Spec.LoadBalancerClass) {
		w.log.Debug("address still in another Service's status; waiting for it to be cleared", "namespace", svc.Namespace, "name", svc.Name, "address", ip, "holder", holder.namespace+"/"+holder.name)
		return
	}
	key := svc.Namespace + "/" + svc.Name + " " + ip + " " + holder.namespace + "/" + holder.name
	w.mu.Lock()
	first := !w.warned[key]
	w.warned[key] = true
	w.mu.Unlock()
	if first {
		w.log.Warn("not writing a pool address to status: another controller's Service shows it (take it out of --lb-address-pool, or give the Service another)",
			"namespace", svc.Namespace, "name", svc.Name, "address", ip, "holder", holder.namespace+"/"+holder.name)
	}
}

// pruneAwaiting forgets the writes whose echo the cache now holds, and
// those of objects that are gone.
func (w *StatusWriter) pruneAwaiting() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, rv := range w.awaiting {
		store := w.services
		if key.kind == "Ingress" {
			store = w.ingresses
		}
		obj, ok, _ := store.GetByKey(key.namespace + "/" + key.name)
		if m, isMeta := obj.(metav1.Object); !ok || !isMeta || m.GetResourceVersion() != rv {
			delete(w.awaiting, key)
		}
	}
}

// statusRetry is how long a failed status write waits to be tried again,
// when nothing else kicks the writer first.
const statusRetry = 5 * time.Second

// isOurs: every entry is one of fairway's addresses, published by this
// process or from a pool (and, for Services, in proxy mode, as fairway
// writes them).
func (w *StatusWriter) isOurs(entries []Address, proxy bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range entries {
		if !w.ours[Address{IP: e.IP, Hostname: e.Hostname}] && !w.inPool(e.IP) {
			return false
		}
	}
	return len(entries) > 0 && proxy
}

// serviceWant is the status a Service should have, and whether fairway
// manages it at all. With a pool the Service shows exactly its own
// addresses; without, the fleet's of the families it listens on.
func (w *StatusWriter) serviceWant(current []corev1.LoadBalancerIngress, adm translator.ServiceAdmission, admitted bool, addrs []Address) ([]corev1.LoadBalancerIngress, bool) {
	if admitted && len(adm.Addresses) > 0 {
		return serviceStatus(ownAddresses(adm.Addresses), adm.Ports), true
	}
	if admitted {
		return serviceStatus(ofFamilies(addrs, adm.Families), adm.Ports), true
	}
	return nil, w.isOurs(serviceAddresses(current), allProxy(current))
}

func (w *StatusWriter) ingressWant(current []networkingv1.IngressLoadBalancerIngress, admitted bool, addrs []Address) ([]networkingv1.IngressLoadBalancerIngress, bool) {
	if admitted {
		return ingressStatus(addrs), true
	}
	return nil, w.isOurs(ingressAddresses(current), true)
}

// patch writes status.loadBalancer.ingress of the cached object, on the
// condition that the object is still at the cached resourceVersion. The
// merge patch replaces the list whole (null clears it) and leaves the rest
// of the object alone, which matters because the cache holds trimmed
// copies. When the object has moved on (a conflict), the informer brings
// the newer version and with it another pass: nothing is read back here.
//
// A version already written (or found stale) is skipped until the cache
// moves past it, so a pass that runs before the echo of the last pass's
// write arrives does not write again.
func (w *StatusWriter) patch(term context.Context, kind string, meta *metav1.ObjectMeta, next any) error {
	key := objectKey{kind, meta.Namespace, meta.Name}
	w.mu.Lock()
	if w.awaiting[key] == meta.ResourceVersion {
		w.mu.Unlock()
		return nil
	}
	w.mu.Unlock()
	body, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": meta.ResourceVersion},
		"status":   map[string]any{"loadBalancer": map[string]any{"ingress": next}},
	})
	if err != nil {
		return err
	}
	if kind == "Service" {
		_, err = w.client.CoreV1().Services(meta.Namespace).Patch(term, meta.Name, types.MergePatchType, body, metav1.PatchOptions{}, "status")
	} else {
		_, err = w.client.NetworkingV1().Ingresses(meta.Namespace).Patch(term, meta.Name, types.MergePatchType, body, metav1.PatchOptions{}, "status")
	}
	if err == nil || apierrors.IsConflict(err) {
		w.mu.Lock()
		w.awaiting[key] = meta.ResourceVersion
		w.mu.Unlock()
	}
	w.written(kind, meta.Namespace, meta.Name, err)
	return err
}

// failed: a write that will not fix itself through the informer. A
// conflict does (the newer version arrives and kicks the writer), a
// NotFound needs nothing, and a write cut short by the end of the term is
// the next leader's.
func (w *StatusWriter) failed(err error) bool { return writeFailed(err) }

func writeFailed(err error) bool {
	return err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) && !errors.Is(err, context.Canceled)
}

// written logs and counts a status write. A write that fails is retried at
// the next kick; a NotFound means the object is gone, which is no failure.
func (w *StatusWriter) written(kind, namespace, name string, err error) {
	written(w.metrics, w.log, kind, namespace, name, err)
}

func written(metrics *Metrics, log hclog.Logger, kind, namespace, name string, err error) {
	switch {
	case err == nil:
		metrics.StatusWrites.WithLabelValues(kind, "written").Inc()
		log.Debug("status written", "kind", kind, "namespace", namespace, "name", name)
	case apierrors.IsNotFound(err):
	case errors.Is(err, context.Canceled):
		log.Debug("status write cut short: the term ended", "kind", kind, "namespace", namespace, "name", name)
	case apierrors.IsConflict(err):
		metrics.StatusWrites.WithLabelValues(kind, "conflict").Inc()
		log.Debug("status changed since it was cached; waiting for the newer version", "kind", kind, "namespace", namespace, "name", name)
	default:
		metrics.StatusWrites.WithLabelValues(kind, "failed").Inc()
		log.Error("writing status failed", "kind", kind, "namespace", namespace, "name", name, "error", err)
	}
}

// serviceStatus is one entry per address. Each lists every port with its
// claim's outcome, so `kubectl get svc -o yaml` shows which port lost and
// why. ipMode Proxy tells kube-proxy that the address is a proxy: traffic
// from inside the cluster must go to it, not be short-circuited to the
// pods.
func serviceStatus(addrs []Address, ports []translator.PortAdmission) []corev1.LoadBalancerIngress {
	var ps []corev1.PortStatus
	for _, p := range ports {
		st := corev1.PortStatus{Port: p.Port, Protocol: corev1.Protocol(p.Protocol)}
		if p.Error != "" {
			st.Error = &p.Error
		}
		ps = append(ps, st)
	}
	out := make([]corev1.LoadBalancerIngress, 0, len(addrs))
	for _, a := range addrs {
		in := corev1.LoadBalancerIngress{IP: a.IP, Hostname: a.Hostname, Ports: slices.Clone(ps)}
		if a.IP != "" {
			mode := corev1.LoadBalancerIPModeProxy
			in.IPMode = &mode
		}
		out = append(out, in)
	}
	return out
}

func ingressStatus(addrs []Address) []networkingv1.IngressLoadBalancerIngress {
	out := make([]networkingv1.IngressLoadBalancerIngress, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, networkingv1.IngressLoadBalancerIngress{IP: a.IP, Hostname: a.Hostname})
	}
	return out
}

func serviceAddresses(in []corev1.LoadBalancerIngress) []Address {
	out := make([]Address, 0, len(in))
	for _, e := range in {
		out = append(out, Address{IP: e.IP, Hostname: e.Hostname})
	}
	return out
}

func ingressAddresses(in []networkingv1.IngressLoadBalancerIngress) []Address {
	out := make([]Address, 0, len(in))
	for _, e := range in {
		out = append(out, Address{IP: e.IP, Hostname: e.Hostname})
	}
	return out
}

// allProxy: every IP entry is in proxy mode, as fairway writes them.
func allProxy(in []corev1.LoadBalancerIngress) bool {
	for _, e := range in {
		if e.IP != "" && (e.IPMode == nil || *e.IPMode != corev1.LoadBalancerIPModeProxy) {
			return false
		}
	}
	return true
}

func equalServiceStatus(a, b []corev1.LoadBalancerIngress) bool {
	return (len(a) == 0 && len(b) == 0) || equality.Semantic.DeepEqual(a, b)
}

func equalIngressStatus(a, b []networkingv1.IngressLoadBalancerIngress) bool {
	return (len(a) == 0 && len(b) == 0) || equality.Semantic.DeepEqual(a, b)
}

package kube

import (
	"context"
	"slices"
	"sync"

	"github.com/hashicorp/go-hclog"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"

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
	leading  bool
	// ours are the addresses this process has published, so that status it
	// wrote before the fleet moved is still recognised as its own.
	ours map[Address]bool
}

// NewStatusWriter watches for status changes on the source's informers.
// opts are the translator's, for the loadBalancerClass fairway handles.
func NewStatusWriter(client kubernetes.Interface, src *Source, addrs *Addresses, opts translator.Options, metrics *Metrics, log hclog.Logger) (*StatusWriter, error) {
	w := &StatusWriter{
		client: client, addrs: addrs, log: log, metrics: metrics, kick: make(chan struct{}, 1), ours: map[Address]bool{},
		handles:   opts.HandlesLoadBalancerClass,
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

// SetLeading starts or stops the writes.
func (w *StatusWriter) SetLeading(leading bool) {
	w.mu.Lock()
	w.leading = leading
	w.mu.Unlock()
	if leading {
		w.Kick()
	}
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
		w.reconcile(ctx)
	}
}

func (w *StatusWriter) reconcile(ctx context.Context) {
	w.mu.Lock()
	admitted, leading := w.admitted, w.leading
	addrs := w.addrs.Current()
	for _, a := range addrs {
		w.ours[a] = true
	}
	w.mu.Unlock()
	if !leading || admitted == nil {
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
	for _, obj := range w.services.List() {
		svc := obj.(*corev1.Service)
		if !w.handles(svc.Spec.LoadBalancerClass) {
			continue
		}
		adm, ok := services[translator.ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}]
		w.reconcileService(ctx, svc, adm, ok, addrs)
	}
	for _, obj := range w.ingresses.List() {
		ing := obj.(*networkingv1.Ingress)
		ok := ingresses[translator.ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}]
		w.reconcileIngress(ctx, ing, ok, addrs)
	}
}

// isOurs: every entry is one of fairway's addresses (and, for Services,
// in proxy mode, as fairway writes them).
func (w *StatusWriter) isOurs(entries []Address, proxy bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range entries {
		if !w.ours[Address{IP: e.IP, Hostname: e.Hostname}] {
			return false
		}
	}
	return len(entries) > 0 && proxy
}

func (w *StatusWriter) reconcileService(ctx context.Context, cached *corev1.Service, adm translator.ServiceAdmission, admitted bool, addrs []Address) {
	want := func(current []corev1.LoadBalancerIngress) ([]corev1.LoadBalancerIngress, bool) {
		if admitted {
			return serviceStatus(addrs, adm.Ports), true
		}
		return nil, w.isOurs(serviceAddresses(current), allProxy(current))
	}
	next, manage := want(cached.Status.LoadBalancer.Ingress)
	if !manage || equalServiceStatus(cached.Status.LoadBalancer.Ingress, next) {
		return
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		svc, err := w.client.CoreV1().Services(cached.Namespace).Get(ctx, cached.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		next, manage := want(svc.Status.LoadBalancer.Ingress)
		if !manage || equalServiceStatus(svc.Status.LoadBalancer.Ingress, next) {
			return nil
		}
		svc.Status.LoadBalancer.Ingress = next
		_, err = w.client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, svc, metav1.UpdateOptions{})
		return err
	})
	w.written("Service", cached.Namespace, cached.Name, err)
}

func (w *StatusWriter) reconcileIngress(ctx context.Context, cached *networkingv1.Ingress, admitted bool, addrs []Address) {
	want := func(current []networkingv1.IngressLoadBalancerIngress) ([]networkingv1.IngressLoadBalancerIngress, bool) {
		if admitted {
			return ingressStatus(addrs), true
		}
		return nil, w.isOurs(ingressAddresses(current), true)
	}
	next, manage := want(cached.Status.LoadBalancer.Ingress)
	if !manage || equalIngressStatus(cached.Status.LoadBalancer.Ingress, next) {
		return
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ing, err := w.client.NetworkingV1().Ingresses(cached.Namespace).Get(ctx, cached.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		next, manage := want(ing.Status.LoadBalancer.Ingress)
		if !manage || equalIngressStatus(ing.Status.LoadBalancer.Ingress, next) {
			return nil
		}
		ing.Status.LoadBalancer.Ingress = next
		_, err = w.client.NetworkingV1().Ingresses(ing.Namespace).UpdateStatus(ctx, ing, metav1.UpdateOptions{})
		return err
	})
	w.written("Ingress", cached.Namespace, cached.Name, err)
}

// written logs and counts a status write. A write that fails is retried at
// the next kick; a NotFound means the object is gone, which is no failure.
func (w *StatusWriter) written(kind, namespace, name string, err error) {
	switch {
	case err == nil:
		w.metrics.StatusWrites.WithLabelValues(kind, "written").Inc()
		w.log.Debug("status written", "kind", kind, "namespace", namespace, "name", name)
	case apierrors.IsNotFound(err):
	default:
		w.metrics.StatusWrites.WithLabelValues(kind, "failed").Inc()
		w.log.Error("writing status failed", "kind", kind, "namespace", namespace, "name", name, "error", err)
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

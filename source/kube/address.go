package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/hashicorp/go-hclog"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Address is one of the fleet's addresses as status shows it: an IP or a
// DNS name.
type Address struct {
	IP       string
	Hostname string
}

func (a Address) String() string { return a.IP + a.Hostname }

func compareAddresses(a, b Address) int {
	return cmp.Or(cmp.Compare(a.IP, b.IP), cmp.Compare(a.Hostname, b.Hostname))
}

// PublishAddress is the parsed --publish-address: where the fleet's
// address comes from.
type PublishAddress struct {
	// FleetPods selects the fleet's pods (hostNetwork) in the fleet's
	// namespace; their nodes' addresses are the fleet's.
	FleetPods labels.Selector
	// Service is namespace/name of a Service whose LB status is copied,
	// for a fleet behind an upstream load balancer.
	Service *[2]string
	// Static addresses.
	Static []Address
}

// DefaultPublishAddress matches the fleet DaemonSet of the manifests.
const DefaultPublishAddress = "fleet-pods=app.kubernetes.io/name=fairway-envoy"

// ParsePublishAddress parses fleet-pods=SELECTOR, service=NS/NAME or
// static=ADDR,... .
func ParsePublishAddress(spec string) (PublishAddress, error) {
	mode, arg, ok := strings.Cut(spec, "=")
	if !ok || arg == "" {
		return PublishAddress{}, fmt.Errorf("--publish-address %q: want fleet-pods=SELECTOR, service=NAMESPACE/NAME or static=ADDRESS,...", spec)
	}
	switch mode {
	case "fleet-pods":
		sel, err := labels.Parse(arg)
		if err != nil {
			return PublishAddress{}, fmt.Errorf("--publish-address fleet-pods: %w", err)
		}
		return PublishAddress{FleetPods: sel}, nil
	case "service":
		ns, name, ok := strings.Cut(arg, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return PublishAddress{}, fmt.Errorf("--publish-address service=%s: want NAMESPACE/NAME", arg)
		}
		return PublishAddress{Service: &[2]string{ns, name}}, nil
	case "static":
		var out []Address
		for _, s := range strings.Split(arg, ",") {
			a, err := parseAddress(strings.TrimSpace(s))
			if err != nil {
				return PublishAddress{}, fmt.Errorf("--publish-address static: %w", err)
			}
			out = append(out, a)
		}
		return PublishAddress{Static: normalize(out)}, nil
	}
	return PublishAddress{}, fmt.Errorf("--publish-address %q: unknown source %q (fleet-pods, service or static)", spec, mode)
}

func parseAddress(s string) (Address, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return Address{IP: ip.Unmap().String()}, nil
	}
	if errs := validation.IsDNS1123Subdomain(s); len(errs) > 0 {
		return Address{}, fmt.Errorf("%q is neither an IP address nor a DNS name: %s", s, strings.Join(errs, "; "))
	}
	return Address{Hostname: s}, nil
}

func normalize(as []Address) []Address {
	slices.SortFunc(as, compareAddresses)
	return slices.Compact(as)
}

// Addresses keeps the fleet's current addresses from the cluster.
type Addresses struct {
	spec    PublishAddress
	factory informers.SharedInformerFactory // the pods or the Service
	source  cache.SharedIndexInformer
	nodes   cache.SharedIndexInformer
	synced  *cacheWait
	changed chan struct{}
}

// NewAddresses watches what spec needs: the fleet's pods in
// fleetNamespace and the Nodes (from shared, the source's factory, so that
// nodes mode and this share one cache), or the one Service.
func NewAddresses(client kubernetes.Interface, spec PublishAddress, fleetNamespace string, shared informers.SharedInformerFactory, log hclog.Logger) (*Addresses, error) {
	a := &Addresses{spec: spec, changed: make(chan struct{}, 1), synced: newCacheWait(log)}
	switch {
	case spec.FleetPods != nil:
		a.factory = informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(fleetNamespace),
			informers.WithTransform(trim), informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.LabelSelector = spec.FleetPods.String()
			}))
		a.source = a.factory.Core().V1().Pods().Informer()
		a.nodes = shared.Core().V1().Nodes().Informer()
	case spec.Service != nil:
		a.factory = informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(spec.Service[0]),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", spec.Service[1]).String()
			}))
		a.source = a.factory.Core().V1().Services().Informer()
	default:
		return a, nil
	}
	kick := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { a.kick() },
		UpdateFunc: func(any, any) { a.kick() },
		DeleteFunc: func(any) { a.kick() },
	}
	for kind, inf := range map[string]cache.SharedIndexInformer{"fleet " + spec.kind(): a.source, KindNode: a.nodes} {
		if inf == nil {
			continue
		}
		if _, err := inf.AddEventHandler(kick); err != nil {
			return nil, err
		}
		if err := a.synced.add(kind, inf); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *Addresses) kick() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// kind names what the spec watches, for logs.
func (p PublishAddress) kind() string {
	if p.FleetPods != nil {
		return "Pods"
	}
	return "Service"
}

// Changed signals that Current may have changed.
func (a *Addresses) Changed() <-chan struct{} { return a.changed }

// Notify calls f, from an informer's goroutine, whenever Current may have
// changed: for a second reader beside the one of Changed.
func (a *Addresses) Notify(f func()) error {
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { f() },
		UpdateFunc: func(any, any) { f() },
		DeleteFunc: func(any) { f() },
	}
	for _, inf := range []cache.SharedIndexInformer{a.source, a.nodes} {
		if inf == nil {
			continue
		}
		if _, err := inf.AddEventHandler(handler); err != nil {
			return err
		}
	}
	return nil
}

// Start runs the informers of its own (the shared factory is started by
// the source) and waits for all it reads to sync.
func (a *Addresses) Start(ctx context.Context) error {
	if a.factory == nil {
		return nil
	}
	a.factory.Start(ctx.Done())
	if !a.synced.wait(ctx) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errors.New("the fleet address informers did not sync")
	}
	return nil
}

// Shutdown waits for the informers of its own after ctx has ended.
func (a *Addresses) Shutdown() {
	if a.factory != nil {
		a.factory.Shutdown()
	}
}

// Current is the fleet's addresses now, sorted; empty when no fleet pod is
// ready or the upstream Service has no address yet.
func (a *Addresses) Current() []Address {
	switch {
	case a.spec.FleetPods != nil:
		return a.fleetPods()
	case a.spec.Service != nil:
		obj, ok, _ := a.source.GetStore().GetByKey(a.spec.Service[0] + "/" + a.spec.Service[1])
		if !ok {
			return nil
		}
		var out []Address
		for _, in := range obj.(*corev1.Service).Status.LoadBalancer.Ingress {
			out = append(out, Address{IP: in.IP, Hostname: in.Hostname})
		}
		return normalize(out)
	}
	return a.spec.Static
}

// fleetPods: each ready fleet pod's node, by its ExternalIP when it has
// one (what clients outside the cluster reach), else the pod's host IP.
func (a *Addresses) fleetPods() []Address {
	var out []Address
	for _, obj := range a.source.GetStore().List() {
		pod := obj.(*corev1.Pod)
		if pod.DeletionTimestamp != nil || !podReady(pod) || pod.Status.HostIP == "" {
			continue
		}
		addr := Address{IP: pod.Status.HostIP}
		if n, ok, _ := a.nodes.GetStore().GetByKey(pod.Spec.NodeName); ok {
			for _, na := range n.(*corev1.Node).Status.Addresses {
				if na.Type == corev1.NodeExternalIP {
					addr.IP = na.Address
					break
				}
			}
		}
		out = append(out, addr)
	}
	return normalize(out)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

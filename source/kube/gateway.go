package kube

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gatewayinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"
)

// The Gateway API's kinds, and the Namespaces whose labels a listener's
// allowedRoutes selector reads, as the source names them.
const (
	KindGatewayClass   = "GatewayClass"
	KindGateway        = "Gateway"
	KindHTTPRoute      = "HTTPRoute"
	KindGRPCRoute      = "GRPCRoute"
	KindTLSRoute       = "TLSRoute"
	KindTCPRoute       = "TCPRoute"
	KindUDPRoute       = "UDPRoute"
	KindReferenceGrant = "ReferenceGrant"
	KindNamespace      = "Namespace"
)

// gatewayKind is one Gateway API kind that fairway watches: its resource
// in discovery and its informer.
type gatewayKind struct {
	kind, resource string
	informer       func(gatewayinformers.SharedInformerFactory) cache.SharedIndexInformer
}

// gatewayKinds are the kinds of the standard channel, all at v1.
var gatewayKinds = []gatewayKind{
	{KindGatewayClass, "gatewayclasses", func(f gatewayinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Gateway().V1().GatewayClasses().Informer()
	}},
	{KindGateway, "gateways", func(f gatewayinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Gateway().V1().Gateways().Informer()
	}},
	{KindHTTPRoute, "httproutes", func(f gatewayinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Gateway().V1().HTTPRoutes().Informer()
	}},
	{KindGRPCRoute, "grpcroutes", func(f gatewayinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Gateway().V1().GRPCRoutes().Informer()
	}},
	{KindTLSRoute, "tlsroutes", func(f gatewayinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Gateway().V1().TLSRoutes().Informer()
	}},
	{KindTCPRoute, "tcproutes", func(f gatewayinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Gateway().V1().TCPRoutes().Informer()
	}},
	{KindUDPRoute, "udproutes", func(f gatewayinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Gateway().V1().UDPRoutes().Informer()
	}},
	{KindReferenceGrant, "referencegrants", func(f gatewayinformers.SharedInformerFactory) cache.SharedIndexInformer {
		return f.Gateway().V1().ReferenceGrants().Informer()
	}},
}

// gatewayWatch is the source's Gateway API side. Which kinds it watches
// is decided from discovery: a kind whose CRD is not installed (or not
// served at v1) is not watched, so that its informer does not keep the
// caches from syncing for ever. Those installed at Start are waited for
// with the core kinds; one installed later is picked up by a check every
// recheck (gatewaywatch.go).
type gatewayWatch struct {
	discovery  resourceLister
	auth       authorizationclient.SelfSubjectAccessReviewInterface
	namespace  string // SourceConfig.Namespace
	factory    gatewayinformers.SharedInformerFactory
	namespaces informers.SharedInformerFactory
	// watched are the kinds (Namespace included) informers exist for;
	// written by Start, then by the later checks' one goroutine.
	watched map[string]bool
	recheck time.Duration
	// lastDenied is the last denial logged, so a check that finds the same
	// says nothing.
	lastDenied string
}

// resourceLister is the part of discovery fairway asks.
type resourceLister interface {
	ServerResourcesForGroupVersion(groupVersion string) (*metav1.APIResourceList, error)
}

// GatewayAPIGroupVersion is the group-version whose resources say which
// Gateway API CRDs are installed.
var GatewayAPIGroupVersion = gatewayv1.SchemeGroupVersion.String()

// discoveryRetry is how long a failed discovery waits to be tried again.
var discoveryRetry = 2 * time.Second

// installed asks discovery which of the kinds are served at v1; an
// absent group-version is none. Other errors (the API server is not up
// yet) are retried until ctx ends: the core informers could not sync
// either.
func (g *gatewayWatch) installed(ctx context.Context, log logger) ([]gatewayKind, error) {
	for {
		kinds, err := g.served()
		if err == nil {
			return kinds, nil
		}
		log.Warn("asking the API server which Gateway API CRDs are installed failed; retrying", "error", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(discoveryRetry):
		}
	}
}

// served asks discovery once which of the kinds are served at v1.
func (g *gatewayWatch) served() ([]gatewayKind, error) {
	list, err := g.discovery.ServerResourcesForGroupVersion(GatewayAPIGroupVersion)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []gatewayKind
	for _, k := range gatewayKinds {
		if slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == k.resource }) {
			out = append(out, k)
		}
	}
	return out, nil
}

// denied are the resources of kinds (and Namespaces) that fairway may not
// list or watch, as the API server's authorizer says. They are asked
// before anything is watched: an informer that RBAC forbids retries for
// ever and keeps every cache from syncing, so a cluster that installed
// the CRDs but not fairway's new RBAC would lose its Ingresses too.
func (g *gatewayWatch) denied(ctx context.Context, kinds []gatewayKind) ([]string, error) {
	type resource struct{ group, name, namespace string }
	resources := []resource{{"", "namespaces", ""}}
	for _, k := range kinds {
		ns := g.namespace
		if k.kind == KindGatewayClass {
			ns = ""
		}
		resources = append(resources, resource{gatewayv1.GroupName, k.resource, ns})
	}
	var out []string
	for _, r := range resources {
		for _, verb := range []string{"list", "watch"} {
			review, err := g.auth.Create(ctx, &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: r.group, Resource: r.name, Namespace: r.namespace}}}, metav1.CreateOptions{})
			if err != nil {
				return nil, fmt.Errorf("asking whether fairway may %s %s: %w", verb, r.name, err)
			}
			if !review.Status.Allowed {
				out = append(out, verb+" "+r.name)
			}
		}
	}
	return out, nil
}

// newGatewayWatch sets up the Gateway API side's factories; nothing is
// watched until startGateway.
func newGatewayWatch(client gatewayclient.Interface, disc resourceLister, core kubernetes.Interface, cfg SourceConfig) *gatewayWatch {
	return &gatewayWatch{
		discovery: disc,
		auth:      core.AuthorizationV1().SelfSubjectAccessReviews(),
		namespace: cfg.Namespace,
		watched:   map[string]bool{},
		recheck:   cmp.Or(cfg.GatewayRecheck, DefaultGatewayRecheck),
		factory: gatewayinformers.NewSharedInformerFactoryWithOptions(client, cfg.Resync,
			gatewayinformers.WithNamespace(cfg.Namespace), gatewayinformers.WithTransform(trim)),
		// Namespaces are cluster-scoped: a listener's selector may pick
		// any, whatever namespace fairway watches.
		namespaces: informers.NewSharedInformerFactoryWithOptions(core, cfg.Resync, informers.WithTransform(trimNamespace)),
	}
}

// trimNamespace keeps a Namespace's name and labels, which is all an
// allowedRoutes selector reads; its annotations, finalizers and phase go.
func trimNamespace(obj any) (any, error) {
	n, ok := obj.(*corev1.Namespace)
	if !ok {
		return trim(obj)
	}
	n.ObjectMeta = metav1.ObjectMeta{
		Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion,
		CreationTimestamp: n.CreationTimestamp, Labels: n.Labels,
	}
	n.Spec, n.Status = corev1.NamespaceSpec{}, corev1.NamespaceStatus{}
	return n, nil
}

// sameGatewayObject reports whether an update of a Gateway API object
// changes nothing the translator reads; handled is false for other kinds.
// The spec's generation and the metadata are compared, not the
// resourceVersion, so that fairway's own status writes do not come back
// as work.
func sameGatewayObject(old, next any) (same, handled bool) {
	switch next.(type) {
	case *gatewayv1.GatewayClass, *gatewayv1.Gateway, *gatewayv1.HTTPRoute, *gatewayv1.GRPCRoute,
		*gatewayv1.TLSRoute, *gatewayv1.TCPRoute, *gatewayv1.UDPRoute, *gatewayv1.ReferenceGrant:
	default:
		return false, false
	}
	o, ok := old.(metav1.Object)
	n := next.(metav1.Object)
	if !ok {
		return false, true
	}
	oc, nc := o.GetCreationTimestamp(), n.GetCreationTimestamp()
	return o.GetUID() == n.GetUID() && o.GetGeneration() == n.GetGeneration() && oc.Equal(&nc) &&
		maps.Equal(o.GetLabels(), n.GetLabels()) && maps.Equal(o.GetAnnotations(), n.GetAnnotations()), true
}

package file

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator"
)

// Dedupe keeps the last definition of every kind/namespace/name, in order of
// first appearance, and names the objects that were defined more than once.
// The translator expects one object per name, as a cluster holds.
func Dedupe(in translator.Input) (translator.Input, []string) {
	var dups []string
	in.Services = dedupe(in.Services, "Service", func(o *corev1.Service) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.EndpointSlices = dedupe(in.EndpointSlices, "EndpointSlice", func(o *discoveryv1.EndpointSlice) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.Ingresses = dedupe(in.Ingresses, "Ingress", func(o *networkingv1.Ingress) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.IngressClasses = dedupe(in.IngressClasses, "IngressClass", func(o *networkingv1.IngressClass) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.Secrets = dedupe(in.Secrets, "Secret", func(o *corev1.Secret) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.Nodes = dedupe(in.Nodes, "Node", func(o *corev1.Node) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.Namespaces = dedupe(in.Namespaces, "Namespace", func(o *corev1.Namespace) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.GatewayClasses = dedupe(in.GatewayClasses, "GatewayClass", func(o *gatewayv1.GatewayClass) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.Gateways = dedupe(in.Gateways, "Gateway", func(o *gatewayv1.Gateway) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.HTTPRoutes = dedupe(in.HTTPRoutes, "HTTPRoute", func(o *gatewayv1.HTTPRoute) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.GRPCRoutes = dedupe(in.GRPCRoutes, "GRPCRoute", func(o *gatewayv1.GRPCRoute) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.TLSRoutes = dedupe(in.TLSRoutes, "TLSRoute", func(o *gatewayv1.TLSRoute) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.TCPRoutes = dedupe(in.TCPRoutes, "TCPRoute", func(o *gatewayv1.TCPRoute) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.UDPRoutes = dedupe(in.UDPRoutes, "UDPRoute", func(o *gatewayv1.UDPRoute) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	in.ReferenceGrants = dedupe(in.ReferenceGrants, "ReferenceGrant", func(o *gatewayv1.ReferenceGrant) *metav1.ObjectMeta { return &o.ObjectMeta }, &dups)
	return in, dups
}

func dedupe[T any](objs []*T, kind string, meta func(*T) *metav1.ObjectMeta, dups *[]string) []*T {
	type key struct{ ns, name string }
	at := make(map[key]int, len(objs))
	out := objs[:0:0]
	for _, o := range objs {
		m := meta(o)
		k := key{m.Namespace, m.Name}
		if i, ok := at[k]; ok {
			out[i] = o
			name := m.Name
			if m.Namespace != "" {
				name = m.Namespace + "/" + m.Name
			}
			*dups = append(*dups, kind+" "+name)
			continue
		}
		at[k] = len(out)
		out = append(out, o)
	}
	return out
}

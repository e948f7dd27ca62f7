package file

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gatewayGroup is the Gateway API's API group.
const gatewayGroup = "gateway.networking.k8s.io"

// gatewayVersions are the versions of each Gateway API kind that are read,
// besides v1. Each older version has exactly v1's shape in JSON (the
// module declares them as v1's types, or as structs of the same fields;
// TestOlderGatewayVersionsHaveV1Shape holds that), so a document of one
// decodes into the v1 struct and is translated as v1. They are the
// versions a cluster served before v1: v1beta1 of the kinds that went
// through beta, v1alpha2 (and v1alpha3 for TLSRoute) of the rest.
var gatewayVersions = map[string][]string{
	"GatewayClass":   {"v1beta1"},
	"Gateway":        {"v1beta1"},
	"HTTPRoute":      {"v1beta1"},
	"ReferenceGrant": {"v1beta1", "v1alpha2"},
	"GRPCRoute":      {"v1alpha2"},
	"TLSRoute":       {"v1alpha2", "v1alpha3"},
	"TCPRoute":       {"v1alpha2"},
	"UDPRoute":       {"v1alpha2"},
}

// gatewayTarget is target for the Gateway API's kinds; nil for any other
// kind or version. The object's apiVersion is set to v1, what it was
// decoded as.
func (d *document) gatewayTarget(apiVersion, kind string) *decodeTarget {
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok || group != gatewayGroup {
		return nil
	}
	if version != "v1" && !slices.Contains(gatewayVersions[kind], version) {
		return nil
	}
	in := d.in
	switch kind {
	case "GatewayClass":
		return gatewayTyped(kind, false, func(o *gatewayv1.GatewayClass) { in.GatewayClasses = append(in.GatewayClasses, o) })
	case "Gateway":
		return gatewayTyped(kind, true, func(o *gatewayv1.Gateway) { in.Gateways = append(in.Gateways, o) })
	case "HTTPRoute":
		return gatewayTyped(kind, true, func(o *gatewayv1.HTTPRoute) { in.HTTPRoutes = append(in.HTTPRoutes, o) })
	case "GRPCRoute":
		return gatewayTyped(kind, true, func(o *gatewayv1.GRPCRoute) { in.GRPCRoutes = append(in.GRPCRoutes, o) })
	case "TLSRoute":
		return gatewayTyped(kind, true, func(o *gatewayv1.TLSRoute) { in.TLSRoutes = append(in.TLSRoutes, o) })
	case "TCPRoute":
		return gatewayTyped(kind, true, func(o *gatewayv1.TCPRoute) { in.TCPRoutes = append(in.TCPRoutes, o) })
	case "UDPRoute":
		return gatewayTyped(kind, true, func(o *gatewayv1.UDPRoute) { in.UDPRoutes = append(in.UDPRoutes, o) })
	case "ReferenceGrant":
		return gatewayTyped(kind, true, func(o *gatewayv1.ReferenceGrant) { in.ReferenceGrants = append(in.ReferenceGrants, o) })
	}
	return nil
}

// gatewayKind is a Gateway API object as decoded.
type gatewayKind[T any] interface {
	*T
	metav1.Object
	GetObjectKind() schema.ObjectKind
}

// gatewayTyped is typed for a Gateway API kind: the apiVersion becomes v1,
// what the object was decoded as, and a namespaced kind's namespace
// defaults as every namespaced kind's does.
func gatewayTyped[T any, PT gatewayKind[T]](kind string, namespaced bool, add func(PT)) *decodeTarget {
	return typed(func(o *T) {
		p := PT(o)
		p.GetObjectKind().SetGroupVersionKind(gatewayv1.SchemeGroupVersion.WithKind(kind))
		if namespaced && p.GetNamespace() == "" {
			p.SetNamespace(DefaultNamespace)
		}
		add(p)
	})
}

// skipReason says why a kind is not read: a Gateway API kind of a version
// fairway does not read names the versions it does.
func skipReason(apiVersion, kind string) string {
	group, _, _ := strings.Cut(apiVersion, "/")
	if versions, ok := gatewayVersions[kind]; ok && group == gatewayGroup {
		return "fairway reads " + kind + " at " + gatewayGroup + "/" + strings.Join(append([]string{"v1"}, versions...), ", ")
	}
	return "fairway does not translate this kind"
}

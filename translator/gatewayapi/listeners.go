package gatewayapi

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// listener is one listener of one of fairway's Gateways while Resolve
// decides about it.
type listener struct {
	gw   *gateway
	spec *gatewayv1.Listener
	// index is its place in spec.listeners.
	index int
	// kinds are the route kinds it takes (status.supportedKinds).
	kinds []gatewayv1.RouteGroupKind
	// accepted, resolved and conflicted are the verdicts of its
	// conditions; a zero verdict is a good one.
	accepted, resolved, conflicted verdict
	tls                            *ListenerTLS
	namespaces                     func(ns string) bool
	// model is set once the listener is valid: it then serves the routes
	// attached to it. attached counts them, served or not.
	model    *Listener
	attached int32
}

// verdict is why a condition is not in its good state; reason "" is good.
type verdict struct {
	reason gatewayv1.ListenerConditionReason
	msg    string
}

func (v verdict) ok() bool { return v.reason == "" }

// routeKinds are the route kinds each protocol can carry, all of them
// its default when allowedRoutes names no kinds.
var routeKinds = map[gatewayv1.ProtocolType][]string{
	gatewayv1.HTTPProtocolType:  {kindHTTPRoute, kindGRPCRoute},
	gatewayv1.HTTPSProtocolType: {kindHTTPRoute, kindGRPCRoute},
	gatewayv1.TLSProtocolType:   {kindTLSRoute},
	gatewayv1.TCPProtocolType:   {kindTCPRoute},
	gatewayv1.UDPProtocolType:   {kindUDPRoute},
}

func knownProtocol(p gatewayv1.ProtocolType) bool {
	_, ok := routeKinds[p]
	return ok
}

// newListener checks what one listener asks for on its own; conflicts
// with other listeners are decided afterwards.
func (r *resolver) newListener(gw *gateway, spec *gatewayv1.Listener) *listener {
	l := &listener{gw: gw, spec: spec}
	allowed, ok := routeKinds[spec.Protocol]
	if !ok {
		l.accepted = verdict{gatewayv1.ListenerReasonUnsupportedProtocol,
			fmt.Sprintf("protocol %q is not supported: fairway serves HTTP, HTTPS, TLS, TCP and UDP listeners", spec.Protocol)}
		return l
	}
	l.kinds, l.resolved = supportedKinds(spec, allowed)
	l.namespaces, l.accepted = r.namespaceFilter(gw, spec)
	if !l.accepted.ok() {
		return l
	}
	switch spec.Protocol {
	case gatewayv1.HTTPSProtocolType, gatewayv1.TLSProtocolType:
		var v verdict
		l.tls, v = r.listenerTLS(gw, spec)
		if v.reason == gatewayv1.ListenerReasonUnsupportedValue {
			l.accepted = v
		} else if l.resolved.ok() {
			l.resolved = v
		}
	}
	return l
}

// supportedKinds are the listener's allowedRoutes kinds that its
// protocol can carry. A kind it cannot carry makes ResolvedRefs false
// (InvalidRouteKinds), and is left out of supportedKinds.
func supportedKinds(spec *gatewayv1.Listener, allowed []string) ([]gatewayv1.RouteGroupKind, verdict) {
	group := gatewayv1.Group(groupName)
	var asked []gatewayv1.RouteGroupKind
	if spec.AllowedRoutes != nil {
		asked = spec.AllowedRoutes.Kinds
	}
	if len(asked) == 0 {
		out := make([]gatewayv1.RouteGroupKind, 0, len(allowed))
		for _, k := range allowed {
			out = append(out, gatewayv1.RouteGroupKind{Group: &group, Kind: gatewayv1.Kind(k)})
		}
		return out, verdict{}
	}
	out := []gatewayv1.RouteGroupKind{}
	var bad []string
	for _, k := range asked {
		g := deref(k.Group, group)
		if g != group || !contains(allowed, string(k.Kind)) {
			bad = append(bad, string(g)+"/"+string(k.Kind))
			continue
		}
		if !containsKind(out, k.Kind) {
			out = append(out, gatewayv1.RouteGroupKind{Group: &group, Kind: k.Kind})
		}
	}
	if len(bad) > 0 {
		return out, verdict{gatewayv1.ListenerReasonInvalidRouteKinds,
			fmt.Sprintf("spec.listeners[%s].allowedRoutes.kinds: %s cannot attach to a listener of protocol %s", spec.Name, strings.Join(bad, ", "), spec.Protocol)}
	}
	return out, verdict{}
}

// namespaceFilter is the listener's allowedRoutes.namespaces as a test
// of a route's namespace: Same (the default), All, None, or Selector over
// the labels of the Namespaces fairway sees.
func (r *resolver) namespaceFilter(gw *gateway, spec *gatewayv1.Listener) (func(string) bool, verdict) {
	from := gatewayv1.NamespacesFromSame
	var sel *metav1.LabelSelector
	if ar := spec.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		from = deref(ar.Namespaces.From, from)
		sel = ar.Namespaces.Selector
	}
	switch from {
	case gatewayv1.NamespacesFromSame:
		return func(ns string) bool { return ns == gw.obj.Namespace }, verdict{}
	case gatewayv1.NamespacesFromAll:
		return func(string) bool { return true }, verdict{}
	case gatewayv1.NamespacesFromNone:
		return func(string) bool { return false }, verdict{}
	case gatewayv1.NamespacesFromSelector:
		if sel == nil {
			return nil, verdict{gatewayv1.ListenerReasonUnsupportedValue,
				fmt.Sprintf("spec.listeners[%s].allowedRoutes.namespaces: from Selector needs a selector", spec.Name)}
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return nil, verdict{gatewayv1.ListenerReasonUnsupportedValue,
				fmt.Sprintf("spec.listeners[%s].allowedRoutes.namespaces.selector: %v", spec.Name, err)}
		}
		nss := r.namespaces // not r: a Resolver keeps listeners past this resolve
		return func(ns string) bool { return selects(nss, s, ns) }, verdict{}
	}
	return nil, verdict{gatewayv1.ListenerReasonUnsupportedValue,
		fmt.Sprintf("spec.listeners[%s].allowedRoutes.namespaces.from %q is not supported (Same, All, Selector or None)", spec.Name, from)}
}

// selects matches a namespace's labels, with kubernetes.io/metadata.name
// set to its name as the API server sets it on every namespace (so that
// a YAML directory without Namespace objects selects as a cluster does).
// A namespace fairway does not see has that label only.
func selects(namespaces map[string]*corev1.Namespace, s labels.Selector, ns string) bool {
	set := labels.Set{corev1.LabelMetadataName: ns}
	if n := namespaces[ns]; n != nil {
		for k, v := range n.Labels {
			set[k] = v
		}
		set[corev1.LabelMetadataName] = ns
	}
	return s.Matches(set)
}

// listenerTLS checks an HTTPS or TLS listener's tls: Terminate needs
// certificateRefs that all resolve; TLS listeners may pass through.
// UnsupportedValue says the mode cannot be served at all.
func (r *resolver) listenerTLS(gw *gateway, spec *gatewayv1.Listener) (*ListenerTLS, verdict) {
	mode := tlsMode(spec)
	field := fmt.Sprintf("spec.listeners[%s].tls", spec.Name)
	if spec.TLS != nil && len(spec.TLS.Options) > 0 {
		keys := make([]string, 0, len(spec.TLS.Options))
		for k := range spec.TLS.Options {
			keys = append(keys, string(k))
		}
		slices.Sort(keys)
		return nil, verdict{gatewayv1.ListenerReasonUnsupportedValue,
			fmt.Sprintf("%s.options (%s): fairway reads no TLS options, and serving without one (a minimum version, say) would be silent", field, strings.Join(keys, ", "))}
	}
	switch {
	case mode == gatewayv1.TLSModePassthrough && spec.Protocol == gatewayv1.TLSProtocolType:
		return &ListenerTLS{Mode: mode}, verdict{}
	case mode != gatewayv1.TLSModeTerminate:
		return nil, verdict{gatewayv1.ListenerReasonUnsupportedValue, fmt.Sprintf("%s.mode %q is not supported on a listener of protocol %s", field, mode, spec.Protocol)}
	case spec.Protocol == gatewayv1.TLSProtocolType && !supports(features.SupportTLSRouteModeTerminate):
		// The conformance suite asks exactly this of an implementation
		// that does not claim TLSRouteModeTerminate.
		return nil, verdict{gatewayv1.ListenerReasonUnsupportedValue, field + ".mode Terminate on a TLS listener is not supported yet: use Passthrough, or an HTTPS listener"}
	case spec.TLS == nil || len(spec.TLS.CertificateRefs) == 0:
		return nil, verdict{gatewayv1.ListenerReasonInvalidCertificateRef, field + ".certificateRefs: a Terminate listener needs a certificate"}
	}
	t := &ListenerTLS{Mode: mode}
	for i, ref := range spec.TLS.CertificateRefs {
		s, v := r.certificate(gw, ref, fmt.Sprintf("%s.certificateRefs[%d]", field, i))
		if !v.ok() {
			return nil, v
		}
		t.Certificates = append(t.Certificates, s)
	}
	return t, verdict{}
}

// certificate resolves one certificateRef: a Secret (core group) in the
// Gateway's namespace, or in another one whose ReferenceGrant admits
// Gateways from the Gateway's namespace, that holds a usable key pair.
func (r *resolver) certificate(gw *gateway, ref gatewayv1.SecretObjectReference, field string) (SecretRef, verdict) {
	group, kind := string(deref(ref.Group, "")), string(deref(ref.Kind, "Secret"))
	ns := string(deref(ref.Namespace, gatewayv1.Namespace(gw.obj.Namespace)))
	s := SecretRef{Namespace: ns, Name: string(ref.Name)}
	if group != "" || kind != "Secret" {
		return s, verdict{gatewayv1.ListenerReasonInvalidCertificateRef,
			fmt.Sprintf("%s: %s/%s is not a Secret (group \"\", kind Secret)", field, group, kind)}
	}
	if !r.grants.allows(reference{groupName, kindGateway, gw.obj.Namespace, "", "Secret", ns, s.Name}) {
		return s, verdict{gatewayv1.ListenerReasonRefNotPermitted,
			fmt.Sprintf("%s: Secret %s/%s is in another namespace and no ReferenceGrant there admits Gateways from %s", field, ns, s.Name, gw.obj.Namespace)}
	}
	secret := r.secret(nn(ns, s.Name))
	if secret == nil {
		return s, verdict{gatewayv1.ListenerReasonInvalidCertificateRef, fmt.Sprintf("%s: Secret %s/%s does not exist", field, ns, s.Name)}
	}
	if err := r.certificateError(secret); err != nil {
		return s, verdict{gatewayv1.ListenerReasonInvalidCertificateRef, fmt.Sprintf("%s: Secret %s/%s: %v", field, ns, s.Name, err)}
	}
	return s, verdict{}
}

func (r *resolver) certificateError(s *corev1.Secret) error {
	if r.opts.CertificateError != nil {
		return r.opts.CertificateError(s)
	}
	if s.Type != corev1.SecretTypeTLS {
		return fmt.Errorf("type is %q, not %s", s.Type, corev1.SecretTypeTLS)
	}
	if len(s.Data[corev1.TLSCertKey]) == 0 || len(s.Data[corev1.TLSPrivateKeyKey]) == 0 {
		return fmt.Errorf("%s and %s must not be empty", corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	return nil
}

// tlsMode is the listener's TLS mode; Terminate is the API's default.
func tlsMode(spec *gatewayv1.Listener) gatewayv1.TLSModeType {
	if spec.TLS == nil {
		return gatewayv1.TLSModeTerminate
	}
	return deref(spec.TLS.Mode, gatewayv1.TLSModeTerminate)
}

// supports says whether fairway claims a feature (SupportedFeatures):
// what it does not claim, the listeners and routes that ask for it are
// refused as the conformance suite expects.
func supports(f features.FeatureName) bool {
	return slices.Contains(SupportedFeatures, f)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsKind(list []gatewayv1.RouteGroupKind, k gatewayv1.Kind) bool {
	for _, x := range list {
		if x.Kind == k {
			return true
		}
	}
	return false
}

// Package gatewayapi is fairway's Gateway API front end. It reads the
// Gateway API objects of fairway's GatewayClasses, decides what attaches
// where and what is valid, and gives the translator two things: the
// listeners to build, with their routes lowered into the typed route
// model (translator/policy), and the status every object should carry.
//
// Like the rest of the translator it is pure: no client-go, no I/O, no
// clocks. It imports no Envoy types; the translator's one back end builds
// Envoy's resources from the Model, for Ingress and Gateway API alike.
package gatewayapi

import (
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/policy"
)

// Model is what fairway's Gateways serve, and what every Gateway API
// object of fairway's should say in its status.
type Model struct {
	// Listeners are the accepted listeners of fairway's accepted
	// Gateways, each with the routes attached to it, sorted by Gateway
	// (oldest first, then namespace/name) and then listener order.
	Listeners []*Listener
	Status    Status
}

// Object names a Gateway API object, with what precedence needs.
type Object struct {
	Kind, Namespace, Name string
	// Created is the creationTimestamp: the oldest wins a conflict, then
	// namespace/name.
	Created time.Time
}

// Listener is one accepted listener of a Gateway.
type Listener struct {
	Gateway Object
	// Name is the listener's name, its sectionName.
	Name     string
	Port     int32
	Protocol gatewayv1.ProtocolType
	// Hostname is the listener's hostname; "" takes any.
	Hostname string
	// TLS is set for HTTPS and TLS listeners.
	TLS *ListenerTLS
	// Dedicated: the Gateway has an address of its own (the address pool
	// is on), so its listeners are not shared with other Gateways or with
	// the Ingress listeners.
	Dedicated bool
	// HTTP are the rules of the HTTPRoutes and GRPCRoutes attached to an
	// HTTP or HTTPS listener, in the Gateway API's precedence order.
	HTTP []*HTTPRule
	// Streams are the TLSRoutes attached to a TLS passthrough listener,
	// or the TCPRoutes and UDPRoutes of a TCP or UDP listener.
	Streams []*StreamRoute
}

// ListenerTLS is how a listener treats TLS.
type ListenerTLS struct {
	Mode gatewayv1.TLSModeType
	// Certificates are the Secrets of a Terminate listener, each allowed
	// (same namespace, or a ReferenceGrant) and usable.
	Certificates []SecretRef
}

// SecretRef names a Secret.
type SecretRef struct {
	Namespace, Name string
}

// HTTPRule is one match of one rule of an HTTPRoute or GRPCRoute, as it
// is routed on one listener: the unit the back end builds a route from.
type HTTPRule struct {
	Route Object
	// Rule and Match are the indexes of the rule in the route and of the
	// match in the rule, for precedence ties and for messages.
	Rule, Match int
	// Hostnames are where the rule is served on this listener: the
	// route's hostnames that the listener's hostname admits (or the
	// listener's own when the route names none); nil is any host.
	Hostnames []string
	Path      policy.PathMatch
	Request   policy.RequestMatch
	// Policy is what the rule's filters ask; nil for none.
	Policy *policy.Route
	// Backends are the rule's valid weighted backends. Invalid is the sum
	// of the weights of the backendRefs that do not resolve: their share
	// of the requests is answered 500, as the Gateway API says. A rule
	// with neither (no backendRefs) and no redirect answers 500 too.
	Backends []policy.Backend
	Invalid  int32
	// GRPC: from a GRPCRoute, whose backends speak HTTP/2.
	GRPC bool
}

// StreamRoute is a TLSRoute, TCPRoute or UDPRoute as it is routed on one
// listener.
type StreamRoute struct {
	Route Object
	// Hostnames are a TLSRoute's SNI names on this listener; nil is any.
	Hostnames []string
	// Backends are its valid weighted backends, and Invalid the weight
	// of those that do not resolve (their connections are refused).
	Backends []policy.Backend
	Invalid  int32
}

// Status is the status of fairway's Gateway API objects. Conditions carry
// their observedGeneration and no lastTransitionTime: the status writer
// keeps a condition's time while its status does not change, and stamps
// a change with the time it writes it.
type Status struct {
	GatewayClasses []GatewayClassStatus
	Gateways       []GatewayStatus
	Routes         []RouteStatus
}

// GatewayClassStatus is one of fairway's GatewayClasses' status.
type GatewayClassStatus struct {
	Name   string
	Status gatewayv1.GatewayClassStatus
}

// GatewayStatus is one of fairway's Gateways' status.
type GatewayStatus struct {
	Namespace, Name string
	Status          gatewayv1.GatewayStatus
}

// RouteStatus is a route's parents as fairway sees them: only the
// parentRefs that name one of fairway's Gateways. The status writer keeps
// other controllers' entries.
type RouteStatus struct {
	Kind, Namespace, Name string
	Parents               []gatewayv1.RouteParentStatus
}

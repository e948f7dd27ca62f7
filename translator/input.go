// Package translator turns Kubernetes Services, EndpointSlices, Ingresses,
// IngressClasses, Secrets and Nodes into the Envoy resources of the fleet.
//
// Translate is a pure function: no I/O, no clocks, no goroutines. The same
// Input and Options give byte-identical output, which is what lets versions
// be content hashes and lets a restarted fairway publish the same versions.
// All Ingress and Service semantics live in this package and nowhere else.
package translator

import (
	"fmt"
	"github.com/fairwayhq/fairway/envoy"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Input is the cluster state that fairway translates. It is a plain struct of
// API objects so that it serialises to YAML: golden tests and bug reports
// capture exactly what the translator saw. Nil entries are ignored. Each
// kind holds one object per namespace/name, as a cluster does; sources
// de-duplicate.
type Input struct {
	Services       []*corev1.Service            `json:"services,omitempty"`
	EndpointSlices []*discoveryv1.EndpointSlice `json:"endpointSlices,omitempty"`
	Ingresses      []*networkingv1.Ingress      `json:"ingresses,omitempty"`
	IngressClasses []*networkingv1.IngressClass `json:"ingressClasses,omitempty"`
	Secrets        []*corev1.Secret             `json:"secrets,omitempty"`
	Nodes          []*corev1.Node               `json:"nodes,omitempty"`

	// The Gateway API's kinds (the standard channel, all at v1), and the
	// Namespaces whose labels a listener's allowedRoutes selector reads.
	GatewayClasses  []*gatewayv1.GatewayClass   `json:"gatewayClasses,omitempty"`
	Gateways        []*gatewayv1.Gateway        `json:"gateways,omitempty"`
	HTTPRoutes      []*gatewayv1.HTTPRoute      `json:"httpRoutes,omitempty"`
	GRPCRoutes      []*gatewayv1.GRPCRoute      `json:"grpcRoutes,omitempty"`
	TLSRoutes       []*gatewayv1.TLSRoute       `json:"tlsRoutes,omitempty"`
	TCPRoutes       []*gatewayv1.TCPRoute       `json:"tcpRoutes,omitempty"`
	UDPRoutes       []*gatewayv1.UDPRoute       `json:"udpRoutes,omitempty"`
	ReferenceGrants []*gatewayv1.ReferenceGrant `json:"referenceGrants,omitempty"`
	Namespaces      []*corev1.Namespace         `json:"namespaces,omitempty"`
}

// Append adds other's objects to in.
func (in *Input) Append(other Input) {
	in.Services = append(in.Services, other.Services...)
	in.EndpointSlices = append(in.EndpointSlices, other.EndpointSlices...)
	in.Ingresses = append(in.Ingresses, other.Ingresses...)
	in.IngressClasses = append(in.IngressClasses, other.IngressClasses...)
	in.Secrets = append(in.Secrets, other.Secrets...)
	in.Nodes = append(in.Nodes, other.Nodes...)
	in.GatewayClasses = append(in.GatewayClasses, other.GatewayClasses...)
	in.Gateways = append(in.Gateways, other.Gateways...)
	in.HTTPRoutes = append(in.HTTPRoutes, other.HTTPRoutes...)
	in.GRPCRoutes = append(in.GRPCRoutes, other.GRPCRoutes...)
	in.TLSRoutes = append(in.TLSRoutes, other.TLSRoutes...)
	in.TCPRoutes = append(in.TCPRoutes, other.TCPRoutes...)
	in.UDPRoutes = append(in.UDPRoutes, other.UDPRoutes...)
	in.ReferenceGrants = append(in.ReferenceGrants, other.ReferenceGrants...)
	in.Namespaces = append(in.Namespaces, other.Namespaces...)
}

// LBTarget says where a LoadBalancer Service's traffic goes.
type LBTarget string

const (
	// LBTargetPods sends to the Service's ready pod endpoints directly.
	LBTargetPods LBTarget = "pods"
	// LBTargetNodes sends to node InternalIPs at the Service's nodePort, the
	// LoadBalancer → NodePort → pod chain of a cloud load balancer.
	LBTargetNodes LBTarget = "nodes"
)

// Defaults of Options, shared with the CLI flags.
const (
	DefaultIngressController = "fairway.dev/ingress-controller"
	DefaultGatewayController = "fairway.dev/gateway-controller"
	DefaultHTTPPort          = 80
	DefaultHTTPSPort         = 443
)

// Options are the translator's settings. The zero value means the defaults.
type Options struct {
	// IngressController is the spec.controller of fairway's IngressClasses.
	IngressController string `json:"ingressController,omitempty"`
	// GatewayController is the spec.controllerName of fairway's
	// GatewayClasses.
	GatewayController string `json:"gatewayController,omitempty"`
	// LBClass is the spec.loadBalancerClass fairway handles. Services with no
	// class are always handled; with LBClass set, that class is handled too.
	LBClass   string   `json:"lbClass,omitempty"`
	HTTPPort  int32    `json:"httpPort,omitempty"`
	HTTPSPort int32    `json:"httpsPort,omitempty"`
	LBTarget  LBTarget `json:"lbTarget,omitempty"`
	// Proxyless also builds the resources for gRPC clients that speak xDS
	// themselves (Result.Proxyless).
	Proxyless bool `json:"proxyless,omitempty"`
	// ProxylessOnDemand builds a Service's or Ingress host's gRPC-only
	// resources only once a client asks for one of its names
	// (Engine.Demand), as serve does; without it every one is built, as
	// translate prints them.
	ProxylessOnDemand bool `json:"proxylessOnDemand,omitempty"`
	// ListenAddress is the IP the fleet's listeners bind; "::" is dual-stack.
	ListenAddress string `json:"listenAddress,omitempty"`
	// RegexProgramSizeLimit is the largest RE2 program size the fleet's
	// Envoys accept (their re2.max_program_size.error_level): fairway's
	// bootstrap sets envoy.RegexProgramSizeLimit, the default. Envoys
	// started from a bootstrap of their own keep Envoy's 100.
	RegexProgramSizeLimit int `json:"regexProgramSizeLimit,omitempty"`
	// AccessLog turns the fleet listeners' access logs on (json, the
	// default) or off; AccessLogFormat replaces their default fields.
	AccessLog       AccessLogMode   `json:"accessLog,omitempty"`
	AccessLogFormat AccessLogFormat `json:"accessLogFormat,omitempty"`
	// Limits caps the size of one object; over it, the object is refused.
	Limits Limits `json:"limits,omitempty"`
	// SSLRedirect turns on ingress-nginx's default: plain-HTTP requests
	// for a host with a certificate get a 308 to https. Off by default,
	// since the Ingress conformance suite expects a TLS host to answer on
	// plain HTTP too. An Ingress's ssl-redirect annotation overrides it
	// for that Ingress's routes.
	SSLRedirect bool `json:"sslRedirect,omitempty"`
	// XFFTrustedHops is the number of proxies in front of the fleet whose
	// X-Forwarded-For entries are trusted: the client address is the one
	// that many entries from the right. 0 trusts none (the peer is the
	// client).
	XFFTrustedHops uint32 `json:"xffTrustedHops,omitempty"`
	// ProxyProtocol makes the fleet's TCP listeners (http, https,
	// tcp-<port>) expect a PROXY protocol header from a load balancer in
	// front, and take the client address from it.
	ProxyProtocol bool `json:"proxyProtocol,omitempty"`
	// LBAddressPools turns on a dedicated address per LoadBalancer
	// Service (--lb-address-pool): each entry is a CIDR or a FIRST-LAST
	// range, IPv4 or IPv6. Empty: every Service listens on the fleet's
	// addresses, first come, first served.
	LBAddressPools []string `json:"lbAddressPools,omitempty"`
}

// WithDefaults fills unset fields with their defaults.
func (o Options) WithDefaults() Options {
	if o.IngressController == "" {
		o.IngressController = DefaultIngressController
	}
	if o.GatewayController == "" {
		o.GatewayController = DefaultGatewayController
	}
	if o.HTTPPort == 0 {
		o.HTTPPort = DefaultHTTPPort
	}
	if o.HTTPSPort == 0 {
		o.HTTPSPort = DefaultHTTPSPort
	}
	if o.LBTarget == "" {
		o.LBTarget = LBTargetPods
	}
	if o.ListenAddress == "" {
		o.ListenAddress = envoy.DefaultListenAddress
	}
	if o.RegexProgramSizeLimit == 0 {
		o.RegexProgramSizeLimit = envoy.RegexProgramSizeLimit
	}
	if o.AccessLog == "" {
		o.AccessLog = AccessLogJSON
	}
	o.Limits = o.Limits.withDefaults()
	return o
}

// Validate reports options that no translation could honour.
func (o Options) Validate() error {
	o = o.WithDefaults()
	for _, p := range []struct {
		name string
		port int32
	}{{"http port", o.HTTPPort}, {"https port", o.HTTPSPort}} {
		if p.port < 1 || p.port > 65535 {
			return fmt.Errorf("%s %d: must be between 1 and 65535", p.name, p.port)
		}
	}
	if o.HTTPPort == o.HTTPSPort {
		return fmt.Errorf("http port and https port are both %d: they must differ", o.HTTPPort)
	}
	if o.LBTarget != LBTargetPods && o.LBTarget != LBTargetNodes {
		return fmt.Errorf("lb target %q: must be %q or %q", o.LBTarget, LBTargetPods, LBTargetNodes)
	}
	if o.RegexProgramSizeLimit < 0 {
		return fmt.Errorf("regex program size limit %d: must be positive", o.RegexProgramSizeLimit)
	}
	if err := o.Limits.validate(); err != nil {
		return err
	}
	if a, err := netip.ParseAddr(o.ListenAddress); err != nil || a.Zone() != "" {
		return fmt.Errorf("listen address %q: must be an IP address, such as 0.0.0.0 or ::", o.ListenAddress)
	}
	if err := validPools(o.LBAddressPools, o.ListenAddress); err != nil {
		return err
	}
	return o.validAccessLog()
}

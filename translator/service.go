package translator

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// lbPort is one port of a LoadBalancer Service that fairway handles.
type lbPort struct {
	svc *corev1.Service
	sp  corev1.ServicePort
	// claims are one per address the port listens on (one, the fleet's,
	// without a pool); none when the port itself is invalid.
	claims []*portClaim
	at     serviceAddress
	// invalid is why the port cannot be a listener, when it cannot.
	invalid Reason
	field   string
}

// handlesService reports whether svc is a LoadBalancer Service for fairway:
// no loadBalancerClass, or fairway's own class.
func (t *translation) handlesService(svc *corev1.Service) bool {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return false
	}
	return t.opts.HandlesLoadBalancerClass(svc.Spec.LoadBalancerClass)
}

// HandlesLoadBalancerClass reports whether a Service's loadBalancerClass
// is fairway's: none, or Options.LBClass. The status writer asks too: a
// Service of another class is another controller's, status and all.
func (o Options) HandlesLoadBalancerClass(class *string) bool {
	return class == nil || *class == "" || (o.LBClass != "" && *class == o.LBClass)
}

// loadBalancerPorts lists the ports of the handled LoadBalancer Services
// that have somewhere to listen (sorted), each with its port claims.
// Ports that cannot become listeners get a Problem and no claim.
func (t *translation) loadBalancerPorts(services []*corev1.Service, at map[nsName]serviceAddress) []*lbPort {
	var out []*lbPort
	for _, svc := range services {
		sa, ok := at[keyOf(&svc.ObjectMeta)]
		if !ok {
			continue
		}
		ref := ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}
		for i, sp := range svc.Spec.Ports {
			p := &lbPort{svc: svc, sp: sp, at: sa, field: fmt.Sprintf("spec.ports[%d]", i)}
			out = append(out, p)
			proto := protocolOf(&sp)
			switch {
			case !validPort(sp.Port):
				p.invalid = InvalidPort
				t.problems.add(ref, InvalidPort, "%s.port: %d is not between 1 and 65535", p.field, sp.Port)
				continue
			case proto != corev1.ProtocolTCP && proto != corev1.ProtocolUDP:
				p.invalid = UnsupportedProtocol
				t.problems.add(ref, UnsupportedProtocol, "%s.protocol: %s is not supported; fairway proxies TCP and UDP", p.field, proto)
				continue
			}
			if t.opts.LBTarget == LBTargetNodes && !validPort(sp.NodePort) {
				t.problems.add(ref, NoNodePort, "%s.nodePort: %d is not a usable node port (allocateLoadBalancerNodePorts is false?); sending to pod endpoints instead of nodes", p.field, sp.NodePort)
			}
			p.claims = portClaims(sa, &portClaim{
				port: sp.Port, protocol: proto, since: &svc.ObjectMeta, ref: ref, seq: i,
				what: fmt.Sprintf("%s (%d/%s)", p.field, sp.Port, proto),
			})
		}
	}
	return out
}

// portClaims are a port's claims: the fleet's (c itself) without a pool,
// else one per address of the Service.
func portClaims(sa serviceAddress, c *portClaim) []*portClaim {
	if len(sa.own) == 0 {
		return []*portClaim{c}
	}
	out := make([]*portClaim, len(sa.own))
	for i, a := range sa.own {
		ac := *c
		ac.address = a.String()
		out[i] = &ac
	}
	return out
}

// listenerSpec is what a fleet listener is built from; equal specs encode
// equally, so an unchanged listener is not encoded again. It stays
// comparable: a Service's settings that shape its listener are fields of
// their own here, never pointers or slices.
type listenerSpec struct {
	name    string
	port    uint32
	cluster string
	udp     bool
	// address replaces the fleet's listen address: a Service's own
	// address (freebind), or the wildcard of its one family (v6only for
	// IPv6 without IPv4).
	address  string
	freebind bool
	v6only   bool
}

func (s listenerSpec) encode(o *Options, logs envoy.AccessLogs) (*Resource, error) {
	address, ca := o.ListenAddress, o.clientAddress()
	if s.cluster == "" {
		return encode(s.name, envoy.HTTPListener(s.name, address, s.port, envoy.HTTPRouteConfig, logs.HTTP, ca), []Ref{{KindRoute, envoy.HTTPRouteConfig}})
	}
	if s.address != "" {
		address = s.address
	}
	refs := []Ref{{KindCluster, s.cluster}}
	l := envoy.L4Listener{Name: s.name, Address: address, Port: s.port, Cluster: s.cluster, Freebind: s.freebind, IPv6Only: s.v6only}
	if s.udp {
		l.Log = logs.UDP
		return encode(s.name, envoy.UDPProxyListener(l), refs)
	}
	l.Log, l.ClientAddress = logs.TCP, ca
	return encode(s.name, envoy.TCPProxyListener(l), refs)
}

// layer4 turns the settled Service ports into listener specs and
// admissions: a Service is admitted if it holds at least one port.
func (t *translation) layer4(ports []*lbPort) ([]listenerSpec, []ServiceAdmission) {
	var specs []listenerSpec
	var admitted []ServiceAdmission
	for i := 0; i < len(ports); {
		svc := ports[i].svc
		adm := ports[i].at.admission(svc)
		won := false
		for ; i < len(ports) && ports[i].svc == svc; i++ {
			p := ports[i]
			pa := PortAdmission{Port: p.sp.Port, Protocol: string(protocolOf(&p.sp))}
			if len(p.claims) == 0 {
				pa.Error = string(p.invalid)
			}
			for _, c := range p.claims {
				if !c.won() {
					pa.Error = string(PortConflict)
					t.problems.add(c.ref, PortConflict, "%s", c.conflictMessage())
					continue
				}
				won = true
				spec := t.portListener(p, c)
				if pa.Listener == "" {
					pa.Listener = spec.name
				}
				specs = append(specs, spec)
			}
			adm.Ports = append(adm.Ports, pa)
		}
		if won {
			admitted = append(admitted, adm)
		}
	}
	return specs, admitted
}

// portListener is the listener of a port's winning claim c.
func (t *translation) portListener(p *lbPort, c *portClaim) listenerSpec {
	udp := c.protocol == corev1.ProtocolUDP
	cluster := t.useCluster(clusterKey{namespace: p.svc.Namespace, service: p.svc.Name, port: p.sp.Port, udp: udp})
	spec := listenerSpec{port: uint32(p.sp.Port), cluster: cluster, udp: udp}
	switch {
	case c.address != "":
		spec.name, spec.address, spec.freebind = envoy.L4ListenerName(c.address, p.sp.Port, udp), c.address, true
	case udp:
		spec.name, spec.address, spec.v6only = envoy.UDPListenerName(p.sp.Port), p.at.bind, p.at.v6only
	default:
		spec.name, spec.address, spec.v6only = envoy.TCPListenerName(p.sp.Port), p.at.bind, p.at.v6only
	}
	return spec
}

// handledServices lists the LoadBalancer Services fairway handles, sorted.
func (e *Engine) handledServices(t *translation) []*corev1.Service {
	var out []*corev1.Service
	for _, svc := range e.idx.services {
		if t.handlesService(svc) {
			out = append(out, svc)
		}
	}
	slices.SortFunc(out, func(a, b *corev1.Service) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// oldestServedTLS finds the oldest served Ingress with TLS.
func (e *Engine) oldestServedTLS() (oldestTLS *networkingv1.Ingress) {
	for _, st := range e.ingresses {
		if st.served && st.hasTLS() && (oldestTLS == nil || compareAge(&st.obj.ObjectMeta, &oldestTLS.ObjectMeta) < 0) {
			oldestTLS = st.obj
		}
	}
	return oldestTLS
}

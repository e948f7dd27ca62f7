package translator

import (
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// lbPort is one port of a LoadBalancer Service that fairway handles.
type lbPort struct {
	svc   *corev1.Service
	sp    corev1.ServicePort
	claim *portClaim // nil when the port itself is invalid
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
	class := svc.Spec.LoadBalancerClass
	return class == nil || *class == "" || (t.opts.LBClass != "" && *class == t.opts.LBClass)
}

// loadBalancerPorts lists the ports of the handled LoadBalancer Services,
// each with its port claim. Ports that cannot become listeners get a Problem
// and no claim.
func (t *translation) loadBalancerPorts() []*lbPort {
	var out []*lbPort
	for _, svc := range t.idx.sortedServices() {
		if !t.handlesService(svc) {
			continue
		}
		ref := ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}
		for i, sp := range svc.Spec.Ports {
			p := &lbPort{svc: svc, sp: sp, field: fmt.Sprintf("spec.ports[%d]", i)}
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
			p.claim = &portClaim{
				port: sp.Port, protocol: proto, since: &svc.ObjectMeta, ref: ref, seq: i,
				what: fmt.Sprintf("%s (%d/%s)", p.field, sp.Port, proto),
			}
		}
	}
	return out
}

// layer4 turns the settled Service ports into listeners and admissions.
func (t *translation) layer4(ports []*lbPort) ([]*listenerv3.Listener, []ServiceAdmission) {
	var listeners []*listenerv3.Listener
	var admitted []ServiceAdmission
	var cur *ServiceAdmission
	anyWon := false
	flush := func() {
		if cur != nil && anyWon {
			admitted = append(admitted, *cur)
		}
	}
	for _, p := range ports {
		if cur == nil || cur.Namespace != p.svc.Namespace || cur.Name != p.svc.Name {
			flush()
			cur = &ServiceAdmission{ObjectRef: ObjectRef{Kind: "Service", Namespace: p.svc.Namespace, Name: p.svc.Name}}
			anyWon = false
		}
		pa := PortAdmission{Port: p.sp.Port, Protocol: string(protocolOf(&p.sp))}
		switch {
		case p.claim == nil:
			pa.Error = string(p.invalid)
		case !p.claim.won():
			pa.Error = string(PortConflict)
			t.problems.add(p.claim.ref, PortConflict, "%s", p.claim.conflictMessage())
		default:
			anyWon = true
			pa.Listener = t.portListener(p, &listeners)
		}
		cur.Ports = append(cur.Ports, pa)
	}
	flush()
	return listeners, admitted
}

// portListener builds the listener of a winning port and returns its name.
func (t *translation) portListener(p *lbPort, listeners *[]*listenerv3.Listener) string {
	udp := p.claim.protocol == corev1.ProtocolUDP
	cluster := t.useCluster(clusterKey{namespace: p.svc.Namespace, service: p.svc.Name, port: p.sp.Port, udp: udp})
	port := uint32(p.sp.Port)
	var l *listenerv3.Listener
	if udp {
		l = envoy.UDPProxyListener(envoy.UDPListenerName(p.sp.Port), port, cluster)
	} else {
		l = envoy.TCPProxyListener(envoy.TCPListenerName(p.sp.Port), port, cluster)
	}
	*listeners = append(*listeners, l)
	return l.Name
}

package translator

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/annotations"
)

// sourceRangesAnnotation is the older spelling of
// spec.loadBalancerSourceRanges, which cloud providers still read.
const sourceRangesAnnotation = corev1.AnnotationLoadBalancerSourceRangesKey

// serviceL4 is what a LoadBalancer Service's own fields and fairway.dev/
// annotations ask of its listeners and clusters, read once per Service.
type serviceL4 struct {
	// sourceRanges are the allowed client CIDRs, canonical and sorted;
	// none lets every client in.
	sourceRanges []string
	// blocked is why the Service's listeners are not opened (a source
	// range that cannot be honoured: fail closed); "" when they are.
	blocked Reason
	// affinity: sessionAffinity ClientIP.
	affinity    bool
	idleTimeout time.Duration
	up          envoy.L4Upstream
	// nodes: in nodes mode, the Service's traffic goes through its node
	// ports (false when allocateLoadBalancerNodePorts is false).
	nodes bool
	// kubeProxyHealth: nodes mode with externalTrafficPolicy Local and a
	// healthCheckNodePort, so each node is asked whether it has an endpoint.
	kubeProxyHealth bool
}

// readServiceL4 reads svc's layer-4 settings, adding a Problem for each
// that cannot be honoured.
func (t *translation) readServiceL4(svc *corev1.Service, ref ObjectRef) *serviceL4 {
	l4 := &serviceL4{affinity: svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP}
	ranges, field, err := sourceRanges(svc)
	if err != nil {
		l4.blocked = InvalidSourceRange
		if field == sourceRangesAnnotation {
			l4.blocked = InvalidAnnotation
		}
		t.problems.add(ref, l4.blocked, "%s: %v; it guards access, so the Service's listeners are not opened", field, err)
	}
	l4.sourceRanges = ranges
	pol, found := annotations.ParseService(svc.Annotations)
	for _, f := range found {
		reason := InvalidAnnotation
		if f.Kind == annotations.Unsupported {
			reason = UnsupportedAnnotation
		}
		t.problems.add(ref, reason, "%s: %s", f.Key, f.Message)
	}
	l4.idleTimeout = pol.IdleTimeout
	l4.up = envoy.L4Upstream{
		ClientIPAffinity: l4.affinity,
		ProxyProtocol:    pol.ProxyProtocol,
		MaxConnections:   pol.MaxConnections,
		HealthCheck: envoy.HealthCheck{
			TCP: pol.HealthCheck.TCP, Interval: pol.HealthCheck.Interval, Timeout: pol.HealthCheck.Timeout,
			Healthy: pol.HealthCheck.Healthy, Unhealthy: pol.HealthCheck.Unhealthy,
		},
	}
	if t.opts.LBTarget == LBTargetNodes {
		l4.nodes = allocatesNodePorts(svc)
		if !l4.nodes {
			t.problems.add(ref, NoNodePort, "spec.allocateLoadBalancerNodePorts: false leaves the Service without node ports; sending to pod endpoints instead of nodes")
		}
		l4.kubeProxyHealth = l4.nodes && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal && validPort(svc.Spec.HealthCheckNodePort)
		if l4.kubeProxyHealth && pol.HealthCheck.TCP {
			t.problems.add(ref, UnsupportedAnnotation, "%s: tcp is not applied to the ports that go through the nodes: with externalTrafficPolicy Local each node is checked through kube-proxy (spec.healthCheckNodePort) instead; ports without a nodePort keep the TCP check", annotations.FairwayPrefix+"health-check")
		}
	}
	return l4
}

// allocatesNodePorts: unset means true, as the API defaults it.
func allocatesNodePorts(svc *corev1.Service) bool {
	return svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
}

// upstream is the cluster variant of one of the Service's ports. UDP
// takes no PROXY header (udp_proxy has no upstream transport socket) and
// no TCP connect check; the kube-proxy check is HTTP to the node, so it
// serves a UDP port too, and replaces the connect check, but only for a
// port that goes through the nodes (one without a nodePort goes to the
// pods, which have no kube-proxy to ask).
func (l4 *serviceL4) upstream(sp *corev1.ServicePort) envoy.L4Upstream {
	u := l4.up
	if protocolOf(sp) == corev1.ProtocolUDP {
		u.ProxyProtocol = 0
		u.HealthCheck.TCP = false
	}
	if l4.kubeProxyHealth && validPort(sp.NodePort) {
		u.HealthCheck = envoy.HealthCheck{KubeProxy: true}
	}
	return u.Normal()
}

// sourceRanges reads the allowed client CIDRs the way
// k8s.io/cloud-provider's servicehelper.GetLoadBalancerSourceRanges does:
// spec.loadBalancerSourceRanges when it has any entry, else the
// annotation, a comma-separated list; neither, or an empty annotation,
// lets every client in. It returns them masked to their prefix
// (10.0.0.1/8 is 10.0.0.0/8, as Go's and Kubernetes' ParseCIDR read it),
// sorted and without duplicates, and the field it read them from.
func sourceRanges(svc *corev1.Service) ([]string, string, error) {
	field, items := "spec.loadBalancerSourceRanges", svc.Spec.LoadBalancerSourceRanges
	if len(items) == 0 {
		field = sourceRangesAnnotation
		v := strings.TrimSpace(svc.Annotations[sourceRangesAnnotation])
		if v == "" {
			return nil, field, nil
		}
		items = strings.Split(v, ",")
	}
	prefixes := make([]netip.Prefix, 0, len(items))
	for _, item := range items {
		p, err := netip.ParsePrefix(strings.TrimSpace(item))
		if err != nil || p.Addr().Zone() != "" {
			return nil, field, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or 2001:db8::/32", item)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		prefixes = append(prefixes, p.Masked())
	}
	prefixes = annotations.CanonicalPrefixes(prefixes)
	out := make([]string, len(prefixes))
	for i, p := range prefixes {
		out[i] = p.String()
	}
	return out, field, nil
}

package translatortest

import (
	mrand "math/rand/v2"

	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/translator"
)

// AddressPools are pools small enough for the Universe's Services to use
// them up: two IPv4 addresses in two ranges and two IPv6 ones.
var AddressPools = []string{"192.0.2.1/32", "192.0.2.3/32", "2001:db8::/127"}

// WithAddressing makes the Services carry what the address allocation
// reads (spec.loadBalancerIP, the address annotations, a sharing key,
// spec.ipFamilies, an address in status), drawn from r, and makes some
// changes status-only, as the status writer's are.
func (u *Universe) WithAddressing(r *mrand.Rand) *Universe {
	u.ar = r
	return u
}

var (
	uAddresses = []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::", "2001:db8::1", "198.51.100.1", "192.0.2.x"}
	uFamilies  = [][]corev1.IPFamily{{corev1.IPv4Protocol}, {corev1.IPv6Protocol}, {corev1.IPv4Protocol, corev1.IPv6Protocol}, {corev1.IPv6Protocol, corev1.IPv4Protocol}}
	uPolicies  = []corev1.IPFamilyPolicy{corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack}
)

func (u *Universe) pickAddress() string { return uAddresses[u.ar.IntN(len(uAddresses))] }

// address sets svc's address fields, when the Universe has addressing.
func (u *Universe) address(svc *corev1.Service) {
	if u.ar == nil || svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return
	}
	svc.Annotations = map[string]string{}
	switch u.ar.IntN(10) {
	case 0:
		svc.Spec.LoadBalancerIP = u.pickAddress()
	case 1:
		svc.Annotations["metallb.io/loadBalancerIPs"] = u.pickAddress() + "," + u.pickAddress()
	case 2:
		svc.Annotations["kube-vip.io/loadbalancerIPs"] = u.pickAddress()
	}
	if u.ar.IntN(2) == 0 {
		svc.Annotations[translator.AddressSharingKeyAnnotation] = "k"
	}
	if u.ar.IntN(3) == 0 {
		policy := uPolicies[u.ar.IntN(len(uPolicies))]
		svc.Spec.IPFamilyPolicy, svc.Spec.IPFamilies = &policy, uFamilies[u.ar.IntN(len(uFamilies))]
	}
	if u.ar.IntN(3) == 0 {
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: u.pickAddress()}}
	}
}

// restatus is, now and then, a copy of the existing Service ns/name with
// only its status changed: what the status writer's own update looks like
// to the translator. Nil otherwise.
func (u *Universe) restatus(services []*corev1.Service, ns, name string) *corev1.Service {
	if u.ar == nil || u.ar.IntN(3) != 0 {
		return nil
	}
	for _, s := range services {
		if s.Namespace == ns && s.Name == name {
			c := s.DeepCopy()
			c.Status.LoadBalancer.Ingress = nil
			if u.ar.IntN(4) > 0 {
				c.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: u.pickAddress()}}
			}
			return c
		}
	}
	return nil
}

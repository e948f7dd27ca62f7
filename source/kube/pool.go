package kube

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/translator"
)

// ownAddresses are the status entries of a Service's admission when
// fairway allocates from a pool: exactly the translator's addresses, in
// its order (that of spec.ipFamilies, so a dual-stack Service lists its
// primary family first, as the Service API does everywhere else).
func ownAddresses(ips []string) []Address {
	out := make([]Address, 0, len(ips))
	for _, ip := range ips {
		out = append(out, Address{IP: ip})
	}
	return out
}

// ofFamilies keeps the fleet's addresses of the Service's IP families.
// A hostname stays: its family is whatever the client's resolver picks,
// and dropping it could leave a Service with no address at all.
func ofFamilies(addrs []Address, families []string) []Address {
	if len(families) == 0 {
		return addrs
	}
	out := make([]Address, 0, len(addrs))
	for _, a := range addrs {
		if a.IP == "" {
			out = append(out, a)
			continue
		}
		ip, err := netip.ParseAddr(a.IP)
		if err != nil {
			continue
		}
		family := string(corev1.IPv6Protocol)
		if ip.Unmap().Is4() {
			family = string(corev1.IPv4Protocol)
		}
		if slices.Contains(families, family) {
			out = append(out, a)
		}
	}
	return out
}

// holders maps each IP in a Service's status to the Services showing it,
// as the informer's cache has them.
type holders map[string][]objectKey

func statusHolders(services []any) holders {
	h := holders{}
	for _, obj := range services {
		svc := obj.(*corev1.Service)
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				h[in.IP] = append(h[in.IP], objectKey{KindService, svc.Namespace, svc.Name})
			}
		}
	}
	return h
}

// heldElsewhere: an address next would add to svc's status (one it does
// not show yet) is still in the status of another Service that is not
// meant to keep it (Services that share an address by a sharing key are
// each admitted with it). The write waits: the other Service's status is
// cleared first (its echo kicks the writer again), so no moment shows one
// address in two Services' status that do not share it, which clients
// and other controllers would read as a double allocation.
func (h holders) heldElsewhere(svc *corev1.Service, next []corev1.LoadBalancerIngress, admitted map[translator.ObjectRef]translator.ServiceAdmission) (holder objectKey, ip string, wait bool) {
	self := objectKey{KindService, svc.Namespace, svc.Name}
	for _, in := range next {
		if in.IP == "" || slices.ContainsFunc(svc.Status.LoadBalancer.Ingress, func(c corev1.LoadBalancerIngress) bool { return c.IP == in.IP }) {
			continue
		}
		for _, k := range h[in.IP] {
			adm := admitted[translator.ObjectRef{Kind: KindService, Namespace: k.namespace, Name: k.name}]
			if k != self && !slices.Contains(adm.Addresses, in.IP) {
				return k, in.IP, true
			}
		}
	}
	return objectKey{}, "", false
}

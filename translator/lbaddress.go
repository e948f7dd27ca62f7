package translator

import (
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// serviceAddress is where a handled Service listens.
type serviceAddress struct {
	// own are its addresses from the pools, in its families' order; empty
	// without a pool, when it listens on the fleet's addresses.
	own []netip.Addr
	// families are the fleet's families it listens on without a pool,
	// from spec.ipFamilies; empty means all (spec.ipFamilies unset).
	families []string
	// bind replaces the fleet's listen address (without a pool), and
	// v6only keeps an IPv6 wildcard from taking IPv4.
	bind   string
	v6only bool
}

// addressServices decides where each handled Service listens: with
// address pools, on its own addresses (allocateAddresses), without, on
// the fleet's addresses of its families. A Service missing from the
// result gets no listener: its Problem says why.
//
// gateways take part in the allocation beside the Services; each is
// settled in place (its addrs, or its failure), for the Gateway code to
// read.
func (t *translation) addressServices(handled []*corev1.Service, gateways []*addressing) map[nsName]serviceAddress {
	out := make(map[nsName]serviceAddress, len(handled))
	for _, svc := range handled {
		for _, msg := range ignoredSources(svc) {
			t.problems.add(ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}, InvalidAnnotation, "%s", msg)
		}
	}
	pools, err := parseAddressPools(t.opts.LBAddressPools)
	if err != nil || len(pools) == 0 {
		// An invalid pool fails Options.Validate; translating anyway
		// serves as without one.
		for _, svc := range handled {
			if sa, ok := t.fleetAddress(svc); ok {
				out[keyOf(&svc.ObjectMeta)] = sa
			}
		}
		return out
	}
	// A Service without ports (file input; the API server requires one)
	// would hold an address it never listens on.
	withPorts := slices.DeleteFunc(slices.Clone(handled), func(s *corev1.Service) bool { return len(s.Spec.Ports) == 0 })
	for _, a := range allocateAddresses(pools, withPorts, gateways, t.foreignAddresses(pools)) {
		if a.svc == nil {
			continue
		}
		if a.failure != "" {
			t.problems.add(a.ref, a.failure, "%s", a.message)
			continue
		}
		if a.note != "" {
			t.problems.add(a.ref, AddressPoolExhausted, "%s", a.note)
		}
		out[keyOf(&a.svc.ObjectMeta)] = serviceAddress{own: a.ordered()}
	}
	return out
}

// fleetAddress is where a Service listens without a pool: the fleet's
// addresses, narrowed to the families of spec.ipFamilies. An address the
// Service names cannot be honoured without a pool; it still listens on
// the fleet's addresses, as before pools existed (a Service written for
// MetalLB keeps working), and its status shows where.
func (t *translation) fleetAddress(svc *corev1.Service) (serviceAddress, bool) {
	ref := ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}
	switch explicit, field, err := explicitAddresses(svc); {
	case err != nil:
		t.problems.add(ref, InvalidAddress, "%s: %v; served on the fleet's addresses", field, err)
	case len(explicit) > 0:
		t.problems.add(ref, AddressNotInPool, "%s: %s cannot be honoured without an address pool (--lb-address-pool); served on the fleet's addresses", field, addrList(explicit))
	}
	req := familiesOf(svc)
	if !req.set {
		return serviceAddress{}, true
	}
	fams, err := req.servable(fleetFamilies(t.opts.ListenAddress), "the fleet listens on "+t.opts.ListenAddress+", which takes")
	if err != nil {
		t.problems.add(ref, UnsupportedIPFamily, "%v", err)
		return serviceAddress{}, false
	}
	bind, v6only := fleetBind(t.opts.ListenAddress, fams)
	return serviceAddress{families: fams, bind: bind, v6only: v6only}, true
}

// admission is the Service's admission before its ports are settled:
// its own addresses, or the fleet's families it listens on.
func (sa serviceAddress) admission(svc *corev1.Service) ServiceAdmission {
	adm := ServiceAdmission{ObjectRef: ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}, Families: sa.families}
	for _, a := range sa.own {
		adm.Addresses = append(adm.Addresses, a.String())
	}
	return adm
}

func addrList(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

// foreignAddresses are the in-pool addresses in the status of
// LoadBalancer Services that fairway does not handle (another
// loadBalancerClass): a pool that overlaps another controller's range
// must not hand out what that controller already gave, or two Services
// would answer on one address. The oldest such Service names an address
// in messages.
func (t *translation) foreignAddresses(pools addressPools) map[netip.Addr]ObjectRef {
	var out map[netip.Addr]ObjectRef
	var since map[netip.Addr]*corev1.Service
	for _, svc := range t.idx.services {
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || t.handlesService(svc) {
			continue
		}
		for _, in := range svc.Status.LoadBalancer.Ingress {
			a, err := netip.ParseAddr(in.IP)
			if err != nil || !pools.contains(a.Unmap()) {
				continue
			}
			a = a.Unmap()
			if out == nil {
				out, since = map[netip.Addr]ObjectRef{}, map[netip.Addr]*corev1.Service{}
			}
			if old := since[a]; old == nil || compareAge(&svc.ObjectMeta, &old.ObjectMeta) < 0 {
				since[a] = svc
				out[a] = ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}
			}
		}
	}
	return out
}

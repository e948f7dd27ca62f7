package translator

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations that ask for a Service's address, in the order they are
// read; the first present one is used. They are MetalLB's (current and
// legacy prefix) and kube-vip's, so a Service written for either keeps
// its address on fairway: a comma-separated list, at most one address
// per IP family (how MetalLB reads its annotation for dual-stack).
var addressAnnotations = []string{
	"metallb.io/loadBalancerIPs",
	"metallb.universe.tf/loadBalancerIPs",
	"kube-vip.io/loadbalancerIPs",
}

// AddressSharingKeyAnnotation lets Services share one address, as
// MetalLB's allow-shared-ip does: Services with the same key (compared
// as it is, across namespaces) may hold one address when none of their
// (port, protocol) pairs collide.
const AddressSharingKeyAnnotation = "fairway.dev/address-sharing-key"

// addressing is one Service's part in the allocation: what it asks for
// and, once settled, what it got.
type addressing struct {
	svc *corev1.Service // nil for a Gateway
	// meta dates the claim to an address: the Service's or Gateway's.
	meta     *metav1.ObjectMeta
	ref      ObjectRef
	families []string
	// explicit are the addresses it names, from field.
	explicit []netip.Addr
	field    string
	// held is, per family, an in-pool address its status has.
	held map[string]netip.Addr
	key  string
	// ports are its (port, protocol) pairs, which must not collide with
	// those of the Services it shares an address with.
	ports []portKey

	// prefer is PreferDualStack: a family the pools have run out of is
	// left out (with a note) rather than failing the Service.
	prefer bool

	addrs   []netip.Addr
	failure Reason
	message string
	// note says which preferred family the Service went without.
	note string
	// settled is set once the Service reached the settling: a failure
	// from then on is the settling's, and a new round clears it.
	settled bool
}

type portKey struct {
	port     int32
	protocol corev1.Protocol
}

func (a *addressing) fail(reason Reason, format string, args ...any) {
	a.failure, a.message = reason, fmt.Sprintf(format, args...)
}

// addressSource is one place a Service names its address: a field and
// its value.
type addressSource struct{ field, value string }

// addressSources are the places that name svc's address and are set, in
// the order they count: spec.loadBalancerIP, then the annotations.
func addressSources(svc *corev1.Service) []addressSource {
	var out []addressSource
	if ip := strings.TrimSpace(svc.Spec.LoadBalancerIP); ip != "" {
		out = append(out, addressSource{"spec.loadBalancerIP", ip})
	}
	for _, key := range addressAnnotations {
		if v := strings.TrimSpace(svc.Annotations[key]); v != "" {
			out = append(out, addressSource{fmt.Sprintf("metadata.annotations[%s]", key), v})
		}
	}
	return out
}

// addresses parses the source: spec.loadBalancerIP is one address, an
// annotation a comma-separated list with at most one per family.
func (src addressSource) addresses() ([]netip.Addr, error) {
	if src.field == "spec.loadBalancerIP" {
		a, err := parseServiceAddress(src.value)
		return []netip.Addr{a}, err
	}
	var out []netip.Addr
	for _, s := range strings.Split(src.value, ",") {
		a, err := parseServiceAddress(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out, func(b netip.Addr) bool { return b.BitLen() == a.BitLen() }) {
			return nil, fmt.Errorf("%q names two %s addresses: at most one per IP family", src.value, familyOf(a))
		}
		out = append(out, a)
	}
	return out, nil
}

// explicitAddresses reads the address a Service names: the first of its
// address sources. It returns the field it read, nothing when none is
// set, or an error naming what is malformed.
func explicitAddresses(svc *corev1.Service) ([]netip.Addr, string, error) {
	srcs := addressSources(svc)
	if len(srcs) == 0 {
		return nil, "", nil
	}
	addrs, err := srcs[0].addresses()
	return addrs, srcs[0].field, err
}

// ignoredSources says which of svc's later address sources ask for
// something else than the one that counts, so that the one not honoured
// is not silent (tools that write both, such as kube-vip's cloud
// provider, write the same address, and that is no Problem).
func ignoredSources(svc *corev1.Service) []string {
	srcs := addressSources(svc)
	if len(srcs) < 2 {
		return nil
	}
	first, err := srcs[0].addresses()
	var out []string
	for _, src := range srcs[1:] {
		addrs, errSrc := src.addresses()
		slices.SortFunc(addrs, netip.Addr.Compare)
		if err == nil && errSrc == nil && slices.Equal(addrs, slices.SortedFunc(slices.Values(first), netip.Addr.Compare)) {
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s) is ignored: %s comes first", src.field, src.value, srcs[0].field))
	}
	return out
}

func parseServiceAddress(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.Is4In6() || a.IsUnspecified() {
		return netip.Addr{}, fmt.Errorf("%q is not a usable IP address", s)
	}
	return a, nil
}

// heldAddresses are the in-pool addresses of the Service's status, one
// per family (the first), from an earlier allocation. Addresses outside
// the pools are not fairway's to keep: the fleet's, from before the
// pool was turned on, or another controller's.
func heldAddresses(svc *corev1.Service, pools addressPools) map[string]netip.Addr {
	var held map[string]netip.Addr
	for _, in := range svc.Status.LoadBalancer.Ingress {
		a, err := netip.ParseAddr(in.IP)
		if err != nil || !pools.contains(a) {
			continue
		}
		if held == nil {
			held = map[string]netip.Addr{}
		}
		if _, ok := held[familyOf(a)]; !ok {
			held[familyOf(a)] = a
		}
	}
	return held
}

// newAddressing reads what svc asks of the pools. A request that no
// allocation could honour (malformed, outside the pools, a family the
// pools lack) fails here, before it can take anything.
func newAddressing(svc *corev1.Service, pools addressPools) *addressing {
	a := &addressing{
		svc: svc, meta: &svc.ObjectMeta, ref: ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name},
		key: svc.Annotations[AddressSharingKeyAnnotation],
	}
	for _, sp := range svc.Spec.Ports {
		a.ports = append(a.ports, portKey{sp.Port, protocolOf(&sp)})
	}
	explicit, field, err := explicitAddresses(svc)
	a.explicit, a.field = explicit, field
	if err != nil {
		a.fail(InvalidAddress, "%s: %v", field, err)
		return a
	}
	for _, e := range explicit {
		if !pools.contains(e) {
			a.fail(AddressNotInPool, "%s: %s is in no address pool (--lb-address-pool)", field, e)
			return a
		}
	}
	a.prefer = !familiesOf(svc).require && len(svc.Spec.IPFamilies) > 1
	a.families, err = a.wantedFamilies(pools)
	if err != nil {
		a.fail(UnsupportedIPFamily, "%v", err)
		return a
	}
	a.held = heldAddresses(svc, pools)
	return a
}

// wantedFamilies are the families the Service gets an address of. With
// explicit addresses, theirs, which spec.ipFamilies must allow; without,
// the Service's families that the pools have, or the pools' first
// family when spec.ipFamilies is empty.
func (a *addressing) wantedFamilies(pools addressPools) ([]string, error) {
	req := familiesOf(a.svc)
	if len(a.explicit) > 0 {
		var fams []string
		for _, e := range a.explicit {
			fams = append(fams, familyOf(e))
		}
		if !req.set {
			return fams, nil
		}
		if _, err := req.servable(fams, a.field+" gives addresses of"); err != nil {
			return nil, err
		}
		for _, f := range fams {
			if !slices.Contains(req.families, f) {
				return nil, fmt.Errorf("%s: an %s address, but spec.ipFamilies is %s", a.field, f, strings.Join(req.families, ","))
			}
		}
		return slices.DeleteFunc(slices.Clone(req.families), func(f string) bool { return !slices.Contains(fams, f) }), nil
	}
	if !req.set {
		return pools.families()[:1], nil
	}
	return req.servable(pools.families(), "the address pools have")
}

// allocator settles the addresses of every handled Service at once. It
// is a function of the Services alone, so two replicas, or one after a
// restart, reach the same answer; the status that the status writer
// wrote back is what makes an allocation stick.
type allocator struct {
	pools   addressPools
	users   map[netip.Addr][]*addressing
	cursors map[string]*poolCursor
	// foreign are in-pool addresses that LoadBalancer Services of
	// another loadBalancerClass show in their status: another
	// controller handed them out, so fairway never does.
	foreign map[netip.Addr]ObjectRef
}

// allocateAddresses gives each Service its addresses, oldest Service
// first, so that no Service ever moves because another appeared:
//  1. a Service keeps the in-pool addresses of its status (those it
//     still asks for), whoever else asks: the holder of an address
//     serves traffic on it;
//  2. then, oldest first, each Service takes the addresses it names
//     (spec.loadBalancerIP, else an address annotation), or for each
//     family it holds nothing of, an address its sharing key already
//     uses without a port collision, else the lowest free one.
//
// A Service that cannot get what it needs gets nothing and frees what it
// held; nobody else moves. When a holder fails after all (its other
// address was taken), its status no longer holds anything, and the
// settling starts over without it, so nobody loses an address to a
// Service that ends up not using it.
//
// others are the Gateways' parts, which take their addresses from the
// same pools by the same rules.
func allocateAddresses(pools addressPools, services []*corev1.Service, others []*addressing, foreign map[netip.Addr]ObjectRef) []*addressing {
	out := make([]*addressing, 0, len(services)+len(others))
	for _, svc := range services {
		out = append(out, newAddressing(svc, pools))
	}
	out = append(out, others...)
	byAge := slices.Clone(out)
	slices.SortFunc(byAge, func(x, y *addressing) int {
		return cmp.Or(compareAge(x.meta, y.meta), cmp.Compare(x.ref.Kind, y.ref.Kind))
	})
	for settleOnce(&allocator{pools: pools, foreign: foreign}, byAge) {
	}
	return out
}

// settleOnce settles every Service that newAddressing did not fail. It
// reports whether a holder failed: its holding is dropped, and the
// caller settles again. Each round drops at least one holding, so the
// rounds end.
func settleOnce(al *allocator, byAge []*addressing) (again bool) {
	al.users, al.cursors = map[netip.Addr][]*addressing{}, map[string]*poolCursor{}
	var live []*addressing
	for _, a := range byAge {
		if a.failure == "" || a.settled {
			a.addrs, a.failure, a.message, a.note, a.settled = nil, "", "", "", true
			live = append(live, a)
		}
	}
	for _, a := range live {
		al.keepHeld(a)
	}
	for _, a := range live {
		kept := len(a.addrs) > 0
		al.settle(a)
		if a.failure != "" {
			al.release(a)
			if kept {
				a.held, again = nil, true
			}
		}
	}
	return again
}

// keepHeld gives a its status addresses that it still asks for, unless
// an older holder that it may not share with has the address: then the
// status is stale, and a asks again like a newcomer.
func (al *allocator) keepHeld(a *addressing) {
	for _, f := range a.families {
		h, ok := a.held[f]
		if !ok || (len(a.explicit) > 0 && !slices.Contains(a.explicit, h)) {
			continue
		}
		if al.canJoin(a, h) {
			al.take(a, h)
		}
	}
}

// settle gives a the addresses it still lacks, or fails it.
func (al *allocator) settle(a *addressing) {
	if len(a.explicit) > 0 {
		for _, e := range a.explicit {
			if slices.Contains(a.addrs, e) {
				continue
			}
			if !al.canJoin(a, e) {
				a.fail(AddressTaken, "%s: %s is held by %s", a.field, e, al.holders(e))
				return
			}
			al.take(a, e)
		}
		return
	}
	for _, f := range a.families {
		if slices.ContainsFunc(a.addrs, func(x netip.Addr) bool { return familyOf(x) == f }) {
			continue
		}
		addr, ok := al.shared(a, f)
		if !ok {
			addr, ok = al.cursor(f).nextFree(func(x netip.Addr) bool { _, theirs := al.foreign[x]; return theirs || len(al.users[x]) > 0 })
		}
		if ok {
			al.take(a, addr)
			continue
		}
		if !a.prefer || (len(a.addrs) == 0 && f == a.families[len(a.families)-1]) {
			a.fail(AddressPoolExhausted, "no free %s address is left in the address pools (--lb-address-pool)", f)
			return
		}
		a.note = fmt.Sprintf("no free %s address is left in the address pools (--lb-address-pool); PreferDualStack: served without one", f)
	}
}

func (al *allocator) cursor(family string) *poolCursor {
	c := al.cursors[family]
	if c == nil {
		c = al.pools.cursor(family)
		al.cursors[family] = c
	}
	return c
}

// shared is the lowest address of family that a's sharing key already
// uses and that a may join.
func (al *allocator) shared(a *addressing, family string) (netip.Addr, bool) {
	if a.key == "" {
		return netip.Addr{}, false
	}
	var best netip.Addr
	for addr, users := range al.users {
		if familyOf(addr) == family && users[0].key == a.key && al.canJoin(a, addr) && (!best.IsValid() || addr.Less(best)) {
			best = addr
		}
	}
	return best, best.IsValid()
}

// canJoin reports whether a may hold addr beside its users: it is free,
// or every user has a's sharing key and no port of theirs is one of a's.
// An address another controller's Service shows is never free.
func (al *allocator) canJoin(a *addressing, addr netip.Addr) bool {
	if _, theirs := al.foreign[addr]; theirs {
		return false
	}
	for _, u := range al.users[addr] {
		if a.key == "" || u.key != a.key {
			return false
		}
		for _, p := range u.ports {
			if slices.Contains(a.ports, p) {
				return false
			}
		}
	}
	return true
}

func (al *allocator) take(a *addressing, addr netip.Addr) {
	al.users[addr] = append(al.users[addr], a)
	a.addrs = append(a.addrs, addr)
}

// release frees what a failed Service took. The freed address may lie
// behind a family's cursor, so that walk starts over, and the next
// Service still gets the lowest free address.
func (al *allocator) release(a *addressing) {
	for _, addr := range a.addrs {
		delete(al.cursors, familyOf(addr))
		al.users[addr] = slices.DeleteFunc(al.users[addr], func(u *addressing) bool { return u == a })
		if len(al.users[addr]) == 0 {
			delete(al.users, addr)
		}
	}
	a.addrs = nil
}

// holders names the Services that hold addr, for a message.
func (al *allocator) holders(addr netip.Addr) string {
	var names []string
	if ref, theirs := al.foreign[addr]; theirs {
		names = append(names, "Service "+ref.NamespacedName()+" of another loadBalancerClass")
	}
	for _, u := range al.users[addr] {
		n := u.ref.String()
		if u.key != "" {
			n += fmt.Sprintf(" (sharing key %q)", u.key)
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// ordered are the Service's addresses in the order of its families.
func (a *addressing) ordered() []netip.Addr {
	out := slices.Clone(a.addrs)
	slices.SortStableFunc(out, func(x, y netip.Addr) int {
		return slices.Index(a.families, familyOf(x)) - slices.Index(a.families, familyOf(y))
	})
	return out
}

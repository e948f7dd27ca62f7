package translator

import (
	"fmt"
	"net/netip"
	"slices"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gatewayAddressings are the Gateways' parts in the pools' allocation,
// one per Gateway with listeners: each asks for the address its
// spec.addresses names, or for one address of the pools' first family,
// keeps the in-pool address its status shows, and shares it with
// nobody. Nil without pools.
func (e *Engine) gatewayAddressings(ports []*gatewayPort) []*addressing {
	pools, err := parseAddressPools(e.opts.LBAddressPools)
	if err != nil || len(pools) == 0 {
		return nil
	}
	var out []*addressing
	var last *addressing
	for _, gp := range ports {
		if last == nil || last.meta != &gp.gw.ObjectMeta {
			last = newGatewayAddressing(gp.gw, gp.ref, pools)
			out = append(out, last)
		}
		last.ports = append(last.ports, portKey{gp.port, gp.protocol()})
	}
	return out
}

// newGatewayAddressing reads what a Gateway asks of the pools, by the
// rules of a Service's spec.loadBalancerIP: a value must be an IP
// address inside a pool; an entry without a value lets the pools pick.
// A Gateway's listeners bind one address, so it may ask for one. A
// request no allocation could honour fails here, before it takes
// anything. (The front end refused every type other than IPAddress.)
func newGatewayAddressing(gw *gatewayv1.Gateway, ref ObjectRef, pools addressPools) *addressing {
	a := &addressing{meta: &gw.ObjectMeta, ref: ref, field: "spec.addresses", families: pools.families()[:1]}
	var values []netip.Addr
	for i, sa := range gw.Spec.Addresses {
		if sa.Value == "" {
			continue
		}
		ip, err := parseServiceAddress(sa.Value)
		if err != nil {
			a.fail(InvalidAddress, "spec.addresses[%d]: %v", i, err)
			return a
		}
		if !pools.contains(ip) {
			a.fail(AddressNotInPool, "spec.addresses[%d]: %s is in no address pool (--lb-address-pool), so the fleet cannot take it; name an address of the pools, or leave the value out to get one", i, ip)
			return a
		}
		if !slices.Contains(values, ip) {
			values = append(values, ip)
		}
	}
	if n := len(values) + emptyAddresses(gw); n > 1 {
		a.fail(InvalidAddress, "spec.addresses: %d addresses, but a Gateway's listeners bind one address: ask for one", n)
		return a
	}
	if len(values) == 1 {
		a.explicit, a.families = values, []string{familyOf(values[0])}
		a.field = fmt.Sprintf("spec.addresses[%d]", slices.IndexFunc(gw.Spec.Addresses, func(sa gatewayv1.GatewaySpecAddress) bool { return sa.Value != "" }))
	}
	a.held = gatewayHeld(gw, pools)
	return a
}

// emptyAddresses counts the spec.addresses entries without a value.
func emptyAddresses(gw *gatewayv1.Gateway) int {
	n := 0
	for _, sa := range gw.Spec.Addresses {
		if sa.Value == "" {
			n++
		}
	}
	return n
}

// gatewayHeld is the in-pool IP address of a Gateway's status, from an
// earlier allocation: the one it keeps.
func gatewayHeld(gw *gatewayv1.Gateway, pools addressPools) map[string]netip.Addr {
	for _, a := range gw.Status.Addresses {
		if a.Type != nil && *a.Type != gatewayv1.IPAddressType {
			continue
		}
		ip, err := netip.ParseAddr(a.Value)
		if err == nil && pools.contains(ip) {
			return map[string]netip.Addr{familyOf(ip): ip}
		}
	}
	return nil
}

// addressFailed is why a Gateway got no address: the allocation's
// Problem reason and message.
type addressFailed struct {
	reason  Reason
	message string
}

// condition is the Gateway's Programmed reason for it, as the spec's
// godoc assigns them: an address the pools could not hand out
// (exhausted) is AddressNotAssigned; an address the Gateway named that
// cannot be used (outside the pools, malformed, held by another, more
// than one) is AddressNotUsable.
func (f addressFailed) condition() gatewayv1.GatewayConditionReason {
	if f.reason == AddressPoolExhausted {
		return gatewayv1.GatewayReasonAddressNotAssigned
	}
	return gatewayv1.GatewayReasonAddressNotUsable
}

package translator

import "net/netip"

// AddressPoolMember reports whether an address lies in one of the pools
// of LBAddressPools, read exactly as the allocation reads them (an IPv4
// CIDR's network and broadcast addresses are not in it). The status
// writer counts such an address in a Service's status as fairway's own,
// even one this process never wrote (a restart, a new leader), so that a
// Service that lost its allocation has it cleared. Without a pool, or
// with one that does not parse (Options.Validate refuses it), nothing is
// a member.
func (o Options) AddressPoolMember() func(ip string) bool {
	pools, err := parseAddressPools(o.LBAddressPools)
	if err != nil || len(pools) == 0 {
		return func(string) bool { return false }
	}
	return func(ip string) bool {
		a, err := netip.ParseAddr(ip)
		return err == nil && pools.contains(a.Unmap())
	}
}

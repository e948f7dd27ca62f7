package translator

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// IP family names as the Service API spells them (spec.ipFamilies).
const (
	familyIPv4 = "IPv4"
	familyIPv6 = "IPv6"
)

// familyOf is the Service API's name of a's family.
func familyOf(a netip.Addr) string {
	if a.Is4() {
		return familyIPv4
	}
	return familyIPv6
}

// addressRange is first..last inclusive, both of one family.
type addressRange struct {
	first, last netip.Addr
}

func (r addressRange) contains(a netip.Addr) bool {
	return r.first.Compare(a) <= 0 && a.Compare(r.last) <= 0
}

func (r addressRange) overlaps(o addressRange) bool {
	return r.first.BitLen() == o.first.BitLen() && r.first.Compare(o.last) <= 0 && o.first.Compare(r.last) <= 0
}

// addressPools are the ranges of --lb-address-pool, in the order given:
// allocation walks them in that order, each from its lowest address.
type addressPools []addressRange

// parseAddressPools reads the pools of Options.LBAddressPools. Two
// ranges that overlap are refused, so every address has one place in
// the walk and the allocation is the same however the flags are ordered
// within a family.
func parseAddressPools(specs []string) (addressPools, error) {
	var pools addressPools
	for _, s := range specs {
		r, err := parseAddressRange(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("lb address pool %q: %w", s, err)
		}
		for i, o := range pools {
			if r.overlaps(o) {
				return nil, fmt.Errorf("lb address pool %q overlaps %q: each address may be in one pool only", s, specs[i])
			}
		}
		pools = append(pools, r)
	}
	return pools, nil
}

// validPools checks the pools as Options.Validate does. The fleet's own
// listen address may not be in a pool: a Service given it would bind
// the very address and port of the Ingress listeners, which Envoy
// refuses as a duplicate listener address.
func validPools(specs []string, listen string) error {
	pools, err := parseAddressPools(specs)
	if err != nil {
		return err
	}
	if a, err := netip.ParseAddr(listen); err == nil && pools.contains(a) {
		return fmt.Errorf("lb address pool (--lb-address-pool) holds the listen address %s (--listen-address): the fleet's own listeners bind it", a)
	}
	return nil
}

// parseAddressRange reads a CIDR or FIRST-LAST. An IPv4 CIDR shorter than
// /31 leaves out its network and broadcast addresses: hosts on that
// subnet treat them as the subnet itself and as "everyone" (a datagram to
// the broadcast address is not delivered to one host), so a Service
// given one would be unreachable from its own subnet. A /31 or /32 has no
// such addresses (RFC 3021), nor has IPv6 (no broadcast; the
// subnet-router anycast address is only meaningful on a router's own
// link, which a pool routed to the fleet is not).
func parseAddressRange(s string) (addressRange, error) {
	if first, last, ok := strings.Cut(s, "-"); ok {
		return parseFirstLast(strings.TrimSpace(first), strings.TrimSpace(last))
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return addressRange{}, fmt.Errorf("not a CIDR (10.0.0.0/24) nor a range (10.0.0.10-10.0.0.20)")
	}
	if p.Addr().Is4In6() {
		return addressRange{}, fmt.Errorf("an IPv4-mapped IPv6 prefix: write the IPv4 CIDR")
	}
	p = p.Masked()
	r := addressRange{first: p.Addr(), last: lastOf(p)}
	if p.Addr().Is4() && p.Bits() < 31 {
		r.first, r.last = r.first.Next(), r.last.Prev()
	}
	return r, nil
}

func parseFirstLast(first, last string) (addressRange, error) {
	a, errA := netip.ParseAddr(first)
	b, errB := netip.ParseAddr(last)
	switch {
	case errA != nil || errB != nil:
		return addressRange{}, fmt.Errorf("FIRST-LAST must be two IP addresses")
	case a.Zone() != "" || b.Zone() != "":
		return addressRange{}, fmt.Errorf("an address with a zone cannot be a Service address")
	case a.Is4In6() || b.Is4In6():
		return addressRange{}, fmt.Errorf("an IPv4-mapped IPv6 address: write the IPv4 address")
	case a.BitLen() != b.BitLen():
		return addressRange{}, fmt.Errorf("%s and %s are of different IP families: a range is of one family", a, b)
	case b.Less(a):
		return addressRange{}, fmt.Errorf("FIRST %s is after LAST %s", a, b)
	}
	return addressRange{first: a, last: b}, nil
}

// lastOf is the highest address of p.
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// contains reports whether a is in one of the pools.
func (ps addressPools) contains(a netip.Addr) bool {
	return slices.ContainsFunc(ps, func(r addressRange) bool { return r.contains(a) })
}

// families are the IP families the pools have, in the order they first
// appear: the first is what a Service without spec.ipFamilies gets.
func (ps addressPools) families() []string {
	var out []string
	for _, r := range ps {
		if f := familyOf(r.first); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// poolCursor walks the pools' addresses of one family in allocation
// order, lowest first. Allocation only ever takes free addresses, so the
// walk never needs to go back: each range is visited once per settling,
// however large it is.
type poolCursor struct {
	pools addressPools
	i     int
	next  netip.Addr
}

func (ps addressPools) cursor(family string) *poolCursor {
	c := &poolCursor{pools: ps, i: -1}
	c.advanceRange(family)
	return c
}

// advanceRange moves to the first address of the next range of family.
func (c *poolCursor) advanceRange(family string) {
	for c.i++; c.i < len(c.pools); c.i++ {
		if familyOf(c.pools[c.i].first) == family {
			c.next = c.pools[c.i].first
			return
		}
	}
}

// nextFree is the lowest address at or after the cursor that taken does
// not hold, and moves past it; false when the pools of the family are
// used up.
func (c *poolCursor) nextFree(taken func(netip.Addr) bool) (netip.Addr, bool) {
	family := ""
	for c.i < len(c.pools) {
		r := c.pools[c.i]
		family = familyOf(r.first)
		for a := c.next; a.IsValid() && r.contains(a); a = a.Next() {
			if !taken(a) {
				c.next = a.Next()
				return a, true
			}
		}
		c.advanceRange(family)
	}
	return netip.Addr{}, false
}

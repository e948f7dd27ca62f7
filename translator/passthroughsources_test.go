package translator

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/fairwayhq/fairway/translator/policy"
)

// TestPassSourcesExact: the ranges a passthrough chain admits hold
// exactly the addresses the allow and deny lists let in (in an allow
// range, or any when there is none, and in no deny range), for random
// lists of both families and addresses near their edges; they are
// canonical and disjoint, and a list that lets nobody in says so.
func TestPassSourcesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 17))
	randomPrefix := func() netip.Prefix {
		if r.IntN(4) == 0 {
			a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(r.IntN(4))})
			return netip.PrefixFrom(a, 28+r.IntN(16)).Masked()
		}
		a := netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))})
		return netip.PrefixFrom(a, 8+r.IntN(25)).Masked()
	}
	for i := range 500 {
		var a policy.Access
		for range r.IntN(3) {
			a.Allow = append(a.Allow, randomPrefix())
		}
		for range r.IntN(3) {
			a.Deny = append(a.Deny, randomPrefix())
		}
		got, ok := passSources(&a)
		var ranges []netip.Prefix
		for _, s := range got {
			p := netip.MustParsePrefix(s)
			if p != p.Masked() {
				t.Fatalf("case %d: %s is not masked", i, s)
			}
			ranges = append(ranges, p)
		}
		for x, p := range ranges {
			for y, q := range ranges {
				if x != y && p.Overlaps(q) {
					t.Fatalf("case %d: %s and %s overlap", i, p, q)
				}
			}
		}
		probes := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db9::1")}
		for _, p := range slices.Concat(a.Allow, a.Deny) {
			probes = append(probes, p.Addr(), p.Addr().Prev(), lastAddr(p), lastAddr(p).Next())
		}
		for _, addr := range probes {
			if !addr.IsValid() {
				continue
			}
			want := (len(a.Allow) == 0 || slices.ContainsFunc(a.Allow, func(p netip.Prefix) bool { return p.Contains(addr) })) &&
				!slices.ContainsFunc(a.Deny, func(p netip.Prefix) bool { return p.Contains(addr) })
			admitted := len(a.Allow) == 0 && len(a.Deny) == 0 ||
				slices.ContainsFunc(ranges, func(p netip.Prefix) bool { return p.Contains(addr) })
			if !ok {
				admitted = false
			}
			if admitted != want {
				t.Fatalf("case %d: allow %v deny %v: %s admitted %v, want %v (ranges %v, ok %v)", i, a.Allow, a.Deny, addr, admitted, want, got, ok)
			}
		}
	}
}

// lastAddr is the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for bit := p.Bits(); bit < len(b)*8; bit++ {
		b[bit/8] |= 0x80 >> (bit % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

package translator

import (
	"net/netip"

	"github.com/fairwayhq/fairway/translator/annotations"
	"github.com/fairwayhq/fairway/translator/policy"
)

// everySource is every address of both families: what an empty allow
// list lets in.
var everySource = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}

// passSources turns an Ingress's allow and deny lists into the one list
// of ranges a filter chain can hold (source_prefix_ranges admits, it
// cannot refuse): the allowed ranges with the denied ones cut out,
// exactly, as canonical CIDRs. None (nil, true) admits every source;
// false means the lists admit no source at all, which an empty chain
// match would turn into "any", so the caller must not serve it.
func passSources(a *policy.Access) ([]string, bool) {
	if a == nil || (len(a.Allow) == 0 && len(a.Deny) == 0) {
		return nil, true
	}
	allowed := a.Allow
	if len(allowed) == 0 {
		allowed = everySource
	}
	for _, d := range a.Deny {
		var next []netip.Prefix
		for _, p := range allowed {
			next = append(next, subtractPrefix(p, d)...)
		}
		allowed = next
	}
	if len(allowed) == 0 {
		return nil, false
	}
	allowed = annotations.CanonicalPrefixes(dropCovered(allowed))
	out := make([]string, len(allowed))
	for i, p := range allowed {
		out[i] = p.String()
	}
	return out, true
}

// subtractPrefix is p without the addresses of d, as the fewest
// prefixes: p itself when they do not overlap, nothing when d covers p,
// else, walking from p down to d, the half at each step that does not
// hold d.
func subtractPrefix(p, d netip.Prefix) []netip.Prefix {
	switch {
	case !p.Overlaps(d):
		return []netip.Prefix{p}
	case d.Bits() <= p.Bits():
		return nil
	}
	var out []netip.Prefix
	for bits := p.Bits() + 1; bits <= d.Bits(); bits++ {
		inner, _ := d.Addr().Prefix(bits) // the half that holds d
		out = append(out, sibling(inner))
	}
	return out
}

// sibling is the other half of p's parent prefix.
func sibling(p netip.Prefix) netip.Prefix {
	b := p.Addr().AsSlice()
	bit := p.Bits() - 1
	b[bit/8] ^= 0x80 >> (bit % 8)
	a, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(a.Unmap(), p.Bits())
}

// dropCovered removes the prefixes that another of the list contains:
// overlapping allow entries stay one range each.
func dropCovered(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for i, p := range ps {
		covered := false
		for j, q := range ps {
			if i != j && q.Bits() <= p.Bits() && q.Contains(p.Addr()) && (q.Bits() < p.Bits() || j < i) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	return out
}

package policy

import "net/netip"

// RateLimit caps how fast one client address may send requests, as
// ingress-nginx's limit_req zones keyed by $binary_remote_addr do. Both
// rates apply when both are set: a request must pass each.
type RateLimit struct {
	// PerSecond and PerMinute are the sustained rates; 0 is no limit of
	// that kind.
	PerSecond, PerMinute uint32
	// BurstMultiplier times a rate is the burst nginx lets through above
	// it without delay; nil is ingress-nginx's default, 5.
	BurstMultiplier *uint32
	// Exempt are client ranges never limited. Nil: none was given;
	// non-nil and empty: a list was given whose every item was malformed
	// (which exempts nothing, so that a typo never exempts more).
	Exempt []netip.Prefix
}

// DefaultBurstMultiplier is ingress-nginx's limit-burst-multiplier default.
const DefaultBurstMultiplier = 5

// Burst is how many requests above the rate nginx lets through at once.
func (l *RateLimit) Burst(rate uint32) uint64 {
	m := uint64(DefaultBurstMultiplier)
	if l.BurstMultiplier != nil {
		m = uint64(*l.BurstMultiplier)
	}
	return uint64(rate) * m
}

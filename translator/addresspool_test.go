package translator

import (
	"net/netip"
	"strings"
	"testing"
)

// TestAddressPoolsParse pins which addresses a pool holds: an IPv4 CIDR
// shorter than /31 without its network and broadcast addresses, /31, /32
// and IPv6 whole, FIRST-LAST as written.
func TestAddressPoolsParse(t *testing.T) {
	for _, c := range []struct {
		spec, first, last string
	}{
		{"192.0.2.0/24", "192.0.2.1", "192.0.2.254"},
		{"192.0.2.7/29", "192.0.2.1", "192.0.2.6"},
		{"192.0.2.0/31", "192.0.2.0", "192.0.2.1"},
		{"192.0.2.9/32", "192.0.2.9", "192.0.2.9"},
		{"2001:db8::/126", "2001:db8::", "2001:db8::3"},
		{"192.0.2.10-192.0.2.20", "192.0.2.10", "192.0.2.20"},
		{" 2001:db8::5 - 2001:db8::5 ", "2001:db8::5", "2001:db8::5"},
	} {
		ps, err := parseAddressPools([]string{c.spec})
		if err != nil {
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		if got := ps[0]; got.first.String() != c.first || got.last.String() != c.last {
			t.Errorf("%s: %s-%s, want %s-%s", c.spec, got.first, got.last, c.first, c.last)
		}
	}
}

// TestAddressPoolsValidate: each bad pool is refused by Options.Validate
// with a message that names the pool and the fault.
func TestAddressPoolsValidate(t *testing.T) {
	for _, c := range []struct {
		pools []string
		want  string
	}{
		{[]string{"192.0.2.0/33"}, `"192.0.2.0/33": not a CIDR`},
		{[]string{"edge"}, `"edge": not a CIDR`},
		{[]string{"192.0.2.20-192.0.2.10"}, "FIRST 192.0.2.20 is after LAST 192.0.2.10"},
		{[]string{"192.0.2.1-2001:db8::1"}, "different IP families"},
		{[]string{"192.0.2.1-x"}, "two IP addresses"},
		{[]string{"::ffff:192.0.2.0/120"}, "IPv4-mapped"},
		{[]string{"192.0.2.0/24", "192.0.2.128-192.0.2.130"}, `"192.0.2.128-192.0.2.130" overlaps "192.0.2.0/24"`},
		{[]string{"2001:db8::/64", "2001:db8::ff/128"}, "overlaps"},
	} {
		err := Options{LBAddressPools: c.pools}.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "lb address pool") {
			t.Errorf("%v: %v, want an error with %q", c.pools, err, c.want)
		}
	}
	if err := (Options{ListenAddress: "192.0.2.9", LBAddressPools: []string{"192.0.2.0/28"}}).Validate(); err == nil || !strings.Contains(err.Error(), "listen address 192.0.2.9") {
		t.Errorf("a pool holding the listen address: %v", err)
	}
	if err := (Options{LBAddressPools: []string{"192.0.2.0/24", "198.51.100.1-198.51.100.9", "2001:db8::/64"}}).Validate(); err != nil {
		t.Errorf("valid pools: %v", err)
	}
}

// TestPoolCursorWalk: the walk goes pool by pool in the order given,
// skips taken addresses and pools of the other family, and ends.
func TestPoolCursorWalk(t *testing.T) {
	ps, err := parseAddressPools([]string{"198.51.100.9/32", "2001:db8::/127", "192.0.2.0/30"})
	if err != nil {
		t.Fatal(err)
	}
	taken := map[netip.Addr]bool{netip.MustParseAddr("192.0.2.1"): true}
	c := ps.cursor(familyIPv4)
	var got []string
	for {
		a, ok := c.nextFree(func(a netip.Addr) bool { return taken[a] })
		if !ok {
			break
		}
		got = append(got, a.String())
	}
	if want := "198.51.100.9 192.0.2.2"; strings.Join(got, " ") != want {
		t.Errorf("IPv4 walk %v, want %s", got, want)
	}
	if fams := ps.families(); strings.Join(fams, ",") != "IPv4,IPv6" {
		t.Errorf("families %v", fams)
	}
}

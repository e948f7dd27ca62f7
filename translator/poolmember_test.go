package translator

import "testing"

// TestAddressPoolMember: membership is the allocation's reading of the
// pools: ranges include both ends, an IPv4 CIDR leaves out its network
// and broadcast addresses, and hostnames or other families never match.
func TestAddressPoolMember(t *testing.T) {
	in := Options{LBAddressPools: []string{"192.0.2.0/29", "198.51.100.10-198.51.100.12", "2001:db8::/126"}}.AddressPoolMember()
	for ip, want := range map[string]bool{
		"192.0.2.1": true, "192.0.2.6": true, "192.0.2.0": false, "192.0.2.7": false,
		"198.51.100.10": true, "198.51.100.12": true, "198.51.100.13": false,
		"2001:db8::": true, "2001:db8::3": true, "2001:db8::4": false, "::ffff:192.0.2.2": true,
		"lb.example.com": false, "": false,
	} {
		if got := in(ip); got != want {
			t.Errorf("member(%q) = %v, want %v", ip, got, want)
		}
	}
	if (Options{}).AddressPoolMember()("192.0.2.1") || (Options{LBAddressPools: []string{"nonsense"}}).AddressPoolMember()("192.0.2.1") {
		t.Error("without a valid pool an address was a member")
	}
}

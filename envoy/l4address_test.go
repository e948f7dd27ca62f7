package envoy

import "testing"

// TestL4ListenerAddress: a Service's own address binds with freebind;
// the IPv6 wildcard takes IPv4 too unless IPv6Only; without either
// setting the listener has no freebind field at all, as before pools.
func TestL4ListenerAddress(t *testing.T) {
	own := TCPProxyListener(L4Listener{Name: "tcp-192.0.2.7-443", Address: "192.0.2.7", Port: 443, Cluster: "a/b/443", Freebind: true})
	if !own.GetFreebind().GetValue() || own.GetAddress().GetSocketAddress().GetAddress() != "192.0.2.7" {
		t.Errorf("own address: freebind %v, address %v", own.GetFreebind(), own.GetAddress())
	}
	udp := UDPProxyListener(L4Listener{Name: "udp-2001:db8::7-53", Address: "2001:db8::7", Port: 53, Cluster: "a/b/53/udp", Freebind: true})
	if !udp.GetFreebind().GetValue() || udp.GetAddress().GetSocketAddress().GetIpv4Compat() {
		t.Errorf("udp own address: freebind %v, address %v", udp.GetFreebind(), udp.GetAddress())
	}
	wild := TCPProxyListener(L4Listener{Name: "tcp-443", Address: "::", Port: 443, Cluster: "a/b/443"})
	if wild.Freebind != nil || !wild.GetAddress().GetSocketAddress().GetIpv4Compat() {
		t.Errorf("wildcard: freebind %v, address %v", wild.Freebind, wild.GetAddress())
	}
	v6 := TCPProxyListener(L4Listener{Name: "tcp-443", Address: "::", Port: 443, Cluster: "a/b/443", IPv6Only: true})
	if v6.GetAddress().GetSocketAddress().GetIpv4Compat() {
		t.Errorf("IPv6 only: %v", v6.GetAddress())
	}
	for _, l := range []interface{ ValidateAll() error }{own, udp, wild, v6} {
		if err := l.ValidateAll(); err != nil {
			t.Error(err)
		}
	}
}

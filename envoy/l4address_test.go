package envoy

import (
	"net/netip"
	"testing"
)

// TestL4ListenerNamesNeverCollide: the listener names of Service ports,
// with and without an address of their own, of both families and
// protocols, and the Ingress listeners' names are all distinct; and a
// name with an address reads as tcp-<address>-<port>.
func TestL4ListenerNamesNeverCollide(t *testing.T) {
	for got, want := range map[string]string{
		L4ListenerName("192.0.2.7", 443, false): "tcp-192.0.2.7-443",
		L4ListenerName("2001:db8::7", 53, true): "udp-2001:db8::7-53",
		L4ListenerName("2001:db8::", 1, false):  "tcp-2001:db8::-1",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	seen := map[string]string{HTTPListenerName: "http", HTTPSListenerName: "https"}
	add := func(name, what string) {
		if prev, ok := seen[name]; ok {
			t.Errorf("%s and %s are both named %q", prev, what, name)
		}
		seen[name] = what
	}
	addrs := []string{"192.0.2.1", "192.0.2.14", "192.0.2.144", "2001:db8::", "2001:db8::1", "2001:db8::14", "::ffff:c000:201", "1.2.3.4"}
	for _, port := range []int32{1, 4, 14, 44, 80, 144, 443, 1443, 65535} {
		for _, udp := range []bool{false, true} {
			if udp {
				add(UDPListenerName(port), "udp fleet port")
			} else {
				add(TCPListenerName(port), "tcp fleet port")
			}
			for _, a := range addrs {
				add(L4ListenerName(netip.MustParseAddr(a).String(), port, udp), a)
			}
		}
	}
}

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

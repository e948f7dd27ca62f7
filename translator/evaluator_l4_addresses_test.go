package translator

import (
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestL4AddressOutcomes follows connections through every golden of
// dedicated addresses and IP families (pool-*, ip-families-*): each
// admitted Service's ports are reached at each of its own addresses
// (bound there, with freebind, and sent to the Service's cluster), or,
// without a pool, at the fleet's addresses of exactly its families; a
// family it did not ask for, or an address that is not its own, never
// reaches it; and a Service that got no address is reached nowhere.
// So loadBalancerIP, the MetalLB and kube-vip annotations, the status
// kept, the sharing key and ipFamilies each have their outcome checked,
// not only their output.
func TestL4AddressOutcomes(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/pool-*")
	more, _ := filepath.Glob("testdata/ip-families-*")
	for _, dir := range append(dirs, more...) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			g := readGoldenInput(t, dir+"/input.yaml")
			g.Options = g.Options.WithDefaults()
			res := g.translate(g.Input)
			f := newL4Fleet(t, res)
			admitted := map[string]bool{}
			for _, adm := range res.Admitted.Services {
				admitted[adm.NamespacedName()] = true
				checkServiceReached(t, f, adm, fleetProbes(g.Options.ListenAddress))
			}
			for _, svc := range g.Services {
				if ref := (ObjectRef{Namespace: svc.Namespace, Name: svc.Name}); !admitted[ref.NamespacedName()] && svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
					checkServiceUnreached(t, f, svc)
				}
			}
		})
	}
}

// fleetProbes are destination addresses on the fleet's own addresses,
// one per family the fleet's listen address takes.
func fleetProbes(listen string) []netip.Addr {
	a := netip.MustParseAddr(listen)
	switch {
	case a == netip.IPv6Unspecified():
		return []netip.Addr{netip.MustParseAddr("198.51.100.200"), netip.MustParseAddr("2001:db8:ffff::200")}
	case a.IsUnspecified():
		return []netip.Addr{netip.MustParseAddr("198.51.100.200")}
	}
	return []netip.Addr{a}
}

// checkServiceReached: every port that got a listener is reached at the
// Service's own addresses, or at the fleet's probes of its families.
func checkServiceReached(t *testing.T, f *l4Fleet, adm ServiceAdmission, probes []netip.Addr) {
	t.Helper()
	own := prefixOf(adm.Namespace, adm.Name)
	for _, p := range adm.Ports {
		if p.Listener == "" {
			continue
		}
		udp := p.Protocol == string(corev1.ProtocolUDP)
		if len(adm.Addresses) > 0 {
			for _, a := range adm.Addresses {
				dest := netip.AddrPortFrom(netip.MustParseAddr(a), uint16(p.Port))
				out := f.connect(connection{udp: udp, dest: dest, peer: ap("203.0.113.5:40000")})
				if out.bound != dest || !out.freebind || !strings.HasPrefix(out.cluster, own) {
					t.Errorf("%s %s: bound %s freebind %v cluster %q, want bound there with freebind, to %s*", adm.NamespacedName(), dest, out.bound, out.freebind, out.cluster, own)
				}
			}
			continue
		}
		for _, probe := range probes {
			dest := netip.AddrPortFrom(probe, uint16(p.Port))
			want := len(adm.Families) == 0 || slices.Contains(adm.Families, familyOf(probe))
			l := f.listener(connection{udp: udp, dest: dest})
			if got := l.GetName() == p.Listener; got != want {
				t.Errorf("%s %s (%s): reaches its listener %v, want %v (families %v)", adm.NamespacedName(), dest, familyOf(probe), got, want, adm.Families)
				continue
			}
			if want {
				if out := f.connect(connection{udp: udp, dest: dest, peer: ap("203.0.113.5:40000")}); !strings.HasPrefix(out.cluster, own) {
					t.Errorf("%s %s: cluster %q, want %s*", adm.NamespacedName(), dest, out.cluster, own)
				}
			}
		}
	}
}

// checkServiceUnreached: no listener sends to a Service that got no
// admission, whatever address a client dials.
func checkServiceUnreached(t *testing.T, f *l4Fleet, svc *corev1.Service) {
	t.Helper()
	own := prefixOf(svc.Namespace, svc.Name)
	for _, r := range f.res.Clusters {
		if strings.HasPrefix(r.GetName(), own) {
			t.Errorf("Service %s/%s is not admitted, yet its cluster %s exists", svc.Namespace, svc.Name, r.GetName())
		}
	}
}

// prefixOf is the start of every cluster name of a Service.
func prefixOf(namespace, name string) string { return namespace + "/" + name + "/" }

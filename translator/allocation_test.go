package translator

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// svcOpt shapes a test Service.
type svcOpt func(*corev1.Service)

// lbService is a LoadBalancer Service created day days into 2026 with
// one TCP port per entry of ports.
func lbService(name string, day int, ports []int32, opts ...svcOpt) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: map[string]string{},
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, day))},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
	}
	for _, p := range ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Port: p, Protocol: corev1.ProtocolTCP})
	}
	for _, o := range opts {
		o(svc)
	}
	return svc
}

func withIP(ip string) svcOpt { return func(s *corev1.Service) { s.Spec.LoadBalancerIP = ip } }
func withAnnotation(k, v string) svcOpt {
	return func(s *corev1.Service) { s.Annotations[k] = v }
}
func withKey(k string) svcOpt { return withAnnotation(AddressSharingKeyAnnotation, k) }
func withStatus(ips ...string) svcOpt {
	return func(s *corev1.Service) {
		for _, ip := range ips {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
	}
}
func withFamilies(policy corev1.IPFamilyPolicy, fams ...corev1.IPFamily) svcOpt {
	return func(s *corev1.Service) { s.Spec.IPFamilyPolicy, s.Spec.IPFamilies = &policy, fams }
}

// outcomes is the allocation as "name=addr,addr" or "name!Reason", sorted.
func outcomes(t *testing.T, pools []string, services ...*corev1.Service) string {
	t.Helper()
	ps, err := parseAddressPools(pools)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range allocateAddresses(ps, services, nil, nil) {
		if a.failure != "" {
			out = append(out, fmt.Sprintf("%s!%s", a.svc.Name, a.failure))
			continue
		}
		var addrs []string
		for _, x := range a.ordered() {
			addrs = append(addrs, x.String())
		}
		out = append(out, a.svc.Name+"="+strings.Join(addrs, ","))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func TestAllocation(t *testing.T) {
	pool := []string{"192.0.2.0/29"} // .1 .. .6
	dual := []string{"192.0.2.0/30", "2001:db8::/127"}
	p80, p443 := []int32{80}, []int32{443}
	for _, c := range []struct {
		name     string
		pools    []string
		services []*corev1.Service
		want     string
	}{
		{"oldest first to the lowest", pool, []*corev1.Service{lbService("b", 2, p80), lbService("a", 3, p80), lbService("c", 1, p80)},
			"a=192.0.2.3 b=192.0.2.2 c=192.0.2.1"},
		{"status kept while a lower address is free", pool, []*corev1.Service{lbService("old", 1, p80, withStatus("192.0.2.5")), lbService("new", 2, p80)},
			"new=192.0.2.1 old=192.0.2.5"},
		{"status outside the pool ignored", pool, []*corev1.Service{lbService("a", 1, p80, withStatus("10.9.9.9"))},
			"a=192.0.2.1"},
		{"a holder keeps its address against an older explicit request", pool, []*corev1.Service{
			lbService("asker", 1, p80, withIP("192.0.2.4")), lbService("holder", 5, p80, withStatus("192.0.2.4"))},
			"asker!AddressTaken holder=192.0.2.4"},
		{"two explicit requests, no holder: the oldest wins", pool, []*corev1.Service{
			lbService("young", 2, p80, withIP("192.0.2.4")), lbService("old", 1, p80, withIP("192.0.2.4"))},
			"old=192.0.2.4 young!AddressTaken"},
		{"an explicit request beats the status", pool, []*corev1.Service{lbService("a", 1, p80, withIP("192.0.2.6"), withStatus("192.0.2.1"))},
			"a=192.0.2.6"},
		{"a newcomer never moves a pool allocation", pool, []*corev1.Service{
			lbService("first", 1, p80), lbService("late", 9, p80, withIP("192.0.2.1"))},
			"first=192.0.2.1 late!AddressTaken"},
		{"outside the pool", pool, []*corev1.Service{lbService("a", 1, p80, withIP("198.51.100.1"))}, "a!AddressNotInPool"},
		{"malformed", pool, []*corev1.Service{lbService("a", 1, p80, withIP("192.0.2.300"))}, "a!InvalidAddress"},
		{"two addresses of one family", pool, []*corev1.Service{lbService("a", 1, p80, withAnnotation("metallb.io/loadBalancerIPs", "192.0.2.1,192.0.2.2"))}, "a!InvalidAddress"},
		{"exhausted, and nobody else moves", []string{"192.0.2.1-192.0.2.2"}, []*corev1.Service{
			lbService("a", 1, p80), lbService("b", 2, p80), lbService("c", 3, p80)},
			"a=192.0.2.1 b=192.0.2.2 c!AddressPoolExhausted"},
		{"a failed Service frees nothing it never had", []string{"192.0.2.1-192.0.2.2"}, []*corev1.Service{
			lbService("bad", 1, p80, withIP("x")), lbService("b", 2, p80)},
			"b=192.0.2.1 bad!InvalidAddress"},
		{"metallb.io before the legacy prefix before kube-vip", pool, []*corev1.Service{lbService("a", 1, p80,
			withAnnotation("kube-vip.io/loadbalancerIPs", "192.0.2.3"), withAnnotation("metallb.universe.tf/loadBalancerIPs", "192.0.2.2"),
			withAnnotation("metallb.io/loadBalancerIPs", "192.0.2.1"))},
			"a=192.0.2.1"},
		{"loadBalancerIP before the annotations", pool, []*corev1.Service{lbService("a", 1, p80, withIP("192.0.2.5"), withAnnotation("metallb.io/loadBalancerIPs", "192.0.2.1"))},
			"a=192.0.2.5"},
		{"a sharing key joins before taking a new address", pool, []*corev1.Service{
			lbService("web", 1, p80, withKey("k")), lbService("other", 2, p80), lbService("tls", 3, p443, withKey("k"))},
			"other=192.0.2.2 tls=192.0.2.1 web=192.0.2.1"},
		{"a port collision does not share", pool, []*corev1.Service{
			lbService("web", 1, p80, withKey("k")), lbService("web2", 2, p80, withKey("k"))},
			"web2=192.0.2.2 web=192.0.2.1"},
		{"another key does not share an explicit address", pool, []*corev1.Service{
			lbService("web", 1, p80, withKey("k"), withIP("192.0.2.3")), lbService("tls", 2, p443, withKey("j"), withIP("192.0.2.3"))},
			"tls!AddressTaken web=192.0.2.3"},
		{"the key is cluster-wide and explicit addresses share", pool, []*corev1.Service{
			lbService("web", 1, p80, withKey("k"), withIP("192.0.2.3")),
			lbService("tls", 2, p443, withKey("k"), withIP("192.0.2.3"), func(s *corev1.Service) { s.Namespace = "other" })},
			"tls=192.0.2.3 web=192.0.2.3"},
		{"unset ipFamilies take the first pool's family", dual, []*corev1.Service{lbService("a", 1, p80)}, "a=192.0.2.1"},
		{"dual stack, in the Service's order", dual, []*corev1.Service{
			lbService("a", 1, p80, withFamilies(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol))},
			"a=2001:db8::,192.0.2.1"},
		{"single stack IPv6", dual, []*corev1.Service{lbService("a", 1, p80, withFamilies(corev1.IPFamilyPolicySingleStack, corev1.IPv6Protocol))},
			"a=2001:db8::"},
		{"RequireDualStack on an IPv4 pool", pool, []*corev1.Service{
			lbService("a", 1, p80, withFamilies(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))},
			"a!UnsupportedIPFamily"},
		{"PreferDualStack takes what the pools have", pool, []*corev1.Service{
			lbService("a", 1, p80, withFamilies(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol))},
			"a=192.0.2.1"},
		{"PreferDualStack without a free IPv6 address", dual, []*corev1.Service{
			lbService("a", 1, p80, withFamilies(corev1.IPFamilyPolicySingleStack, corev1.IPv6Protocol)),
			lbService("b", 2, p80, withFamilies(corev1.IPFamilyPolicySingleStack, corev1.IPv6Protocol)),
			lbService("c", 3, p80, withFamilies(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))},
			"a=2001:db8:: b=2001:db8::1 c=192.0.2.1"},
		{"an explicit address of a family the Service does not ask for", dual, []*corev1.Service{
			lbService("a", 1, p80, withIP("2001:db8::1"), withFamilies(corev1.IPFamilyPolicySingleStack, corev1.IPv4Protocol))},
			"a!UnsupportedIPFamily"},
		{"dual-stack annotation", dual, []*corev1.Service{lbService("a", 1, p80,
			withAnnotation("metallb.io/loadBalancerIPs", "2001:db8::1, 192.0.2.2"),
			withFamilies(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))},
			"a=192.0.2.2,2001:db8::1"},
		{"a dual-stack Service keeps its status address and gains the other family", dual, []*corev1.Service{
			lbService("a", 1, p80, withStatus("192.0.2.2"), withFamilies(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))},
			"a=192.0.2.2,2001:db8::"},
		{"two holders of one address: the oldest keeps it, the other gets a new one", pool, []*corev1.Service{
			lbService("a", 1, p80, withStatus("192.0.2.3")), lbService("b", 2, p80, withStatus("192.0.2.3"))},
			"a=192.0.2.3 b=192.0.2.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := outcomes(t, c.pools, c.services...); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// TestAllocationStable: adding a newer Service, of any kind, never moves
// an allocated one, and the allocation does not depend on input order.
func TestAllocationStable(t *testing.T) {
	pool := []string{"192.0.2.0/28"}
	base := []*corev1.Service{
		lbService("a", 1, []int32{80}), lbService("b", 2, []int32{80}, withKey("k")),
		lbService("c", 3, []int32{443}, withIP("192.0.2.9")), lbService("d", 4, []int32{443}, withKey("k")),
	}
	before := outcomes(t, pool, base...)
	for _, late := range []*corev1.Service{
		lbService("z", 9, []int32{80}, withIP("192.0.2.1")), lbService("z", 9, []int32{22}, withKey("k")),
		lbService("z", 9, []int32{80}, withIP("192.0.2.9")), lbService("z", 9, []int32{80}),
	} {
		all := append(slices.Clone(base), late)
		got := outcomes(t, pool, all...)
		if !strings.HasPrefix(got, before+" ") {
			t.Errorf("adding %v moved the others:\nbefore %s\nafter  %s", late.Annotations, before, got)
		}
		slices.Reverse(all)
		if again := outcomes(t, pool, all...); again != got {
			t.Errorf("order matters: %s vs %s", got, again)
		}
	}
}

// TestAllocationFailedHolder: a Service that held an address in its
// status and then fails (its other address is taken) holds nothing: the
// settling goes as if it had never held it, so an older Service naming
// that address gets it, and the pool walk hands it out in order.
func TestAllocationFailedHolder(t *testing.T) {
	pools := []string{"192.0.2.1-192.0.2.4", "2001:db8::1/128"}
	both := withFamilies(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol)
	// "loser" holds .2 in its status and also names the IPv6 address
	// that the older "v6" takes.
	loser := lbService("loser", 4, []int32{80}, withStatus("192.0.2.2"), withAnnotation("metallb.io/loadBalancerIPs", "192.0.2.2,2001:db8::1"), both)
	v6 := lbService("v6", 1, []int32{80}, withIP("2001:db8::1"))
	got := outcomes(t, pools, lbService("first", 2, []int32{80}), lbService("second", 3, []int32{80}), v6, loser, lbService("late", 5, []int32{80}))
	if want := "first=192.0.2.1 late=192.0.2.3 loser!AddressTaken second=192.0.2.2 v6=2001:db8::1"; got != want {
		t.Errorf("pool walk: got  %s\nwant %s", got, want)
	}
	got = outcomes(t, pools, lbService("asker", 2, []int32{80}, withIP("192.0.2.2")), v6, loser)
	if want := "asker=192.0.2.2 loser!AddressTaken v6=2001:db8::1"; got != want {
		t.Errorf("an older request for the failed holder's address: got  %s\nwant %s", got, want)
	}
}

// TestAllocationReleaseBehindTheWalk: an address that a Service takes
// from the walk and gives back when its other family is used up goes to
// the next Service.
func TestAllocationReleaseBehindTheWalk(t *testing.T) {
	pools := []string{"192.0.2.1-192.0.2.2", "2001:db8::1/128"}
	both := withFamilies(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol)
	got := outcomes(t, pools,
		lbService("v6", 1, []int32{80}, withFamilies(corev1.IPFamilyPolicySingleStack, corev1.IPv6Protocol)),
		lbService("dual", 2, []int32{80}, both), // takes .1, finds no IPv6 address, gives .1 back
		lbService("late", 3, []int32{80}),
	)
	if want := "dual!AddressPoolExhausted late=192.0.2.1 v6=2001:db8::1"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestIgnoredAddressSources: a later address source that asks for
// another address is named (so it is not silently ignored); one that
// repeats the address that counts, as kube-vip's cloud provider writes
// spec.loadBalancerIP and its annotation, is not.
func TestIgnoredAddressSources(t *testing.T) {
	for _, c := range []struct {
		svc  *corev1.Service
		want string
	}{
		{lbService("same", 1, nil, withIP("192.0.2.1"), withAnnotation("kube-vip.io/loadbalancerIPs", "192.0.2.1")), ""},
		{lbService("dual", 1, nil, withAnnotation("metallb.io/loadBalancerIPs", "2001:db8::1,192.0.2.1"),
			withAnnotation("kube-vip.io/loadbalancerIPs", "192.0.2.1, 2001:db8::1")), ""},
		{lbService("other", 1, nil, withIP("192.0.2.1"), withAnnotation("metallb.io/loadBalancerIPs", "192.0.2.2")),
			"metadata.annotations[metallb.io/loadBalancerIPs] (192.0.2.2) is ignored: spec.loadBalancerIP comes first"},
		{lbService("bad", 1, nil, withAnnotation("metallb.io/loadBalancerIPs", "192.0.2.1"), withAnnotation("kube-vip.io/loadbalancerIPs", "x")),
			"metadata.annotations[kube-vip.io/loadbalancerIPs] (x) is ignored: metadata.annotations[metallb.io/loadBalancerIPs] comes first"},
	} {
		if got := strings.Join(ignoredSources(c.svc), "; "); got != c.want {
			t.Errorf("%s: %q, want %q", c.svc.Name, got, c.want)
		}
	}
}

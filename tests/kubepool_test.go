package tests

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// The pool the address-pool tests allocate from: eight addresses of
// TEST-NET-2, given as a FIRST-LAST range.
const (
	poolFirst = "198.51.100.1"
	poolLast  = "198.51.100.8"
	poolPort  = 443
)

// poolClient is kubeClient for the pool tests, which -short skips: each
// starts fairway against the API server and waits on status writes.
func poolClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	if testing.Short() {
		t.Skip("-short")
	}
	return kubeClient(t)
}

func poolArgs(pool string) []string { return []string{"--lb-address-pool", pool} }

// inPool: ip lies in [poolFirst, poolLast].
func inPool(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && !a.Less(netip.MustParseAddr(poolFirst)) && !netip.MustParseAddr(poolLast).Less(a)
}

func poolListener(ip string) string { return fmt.Sprintf("tcp-%s-%d", ip, poolPort) }

// createPoolService creates a LoadBalancer Service on poolPort with a
// ready endpoint; edit, when set, adjusts it first.
func createPoolService(t *testing.T, cs kubernetes.Interface, ns, name string, edit func(*corev1.Service)) {
	t.Helper()
	svc := lbService(ns, name, poolPort, corev1.ProtocolTCP)
	if edit != nil {
		edit(svc)
	}
	create(t, func(ctx context.Context) error {
		if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, endpointSlice(ns, name, "main", poolPort, "10.0.0.1"), metav1.CreateOptions{})
		return err
	})
}

func deleteService(t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	create(t, func(ctx context.Context) error {
		return cs.CoreV1().Services(ns).Delete(ctx, name, metav1.DeleteOptions{})
	})
}

// statusIP is the one address in a Service's status, "" when it has none;
// it fails the test when the status is not what fairway writes with a
// pool: one IP entry in proxy mode.
func statusIP(t *testing.T, cs kubernetes.Interface, ns, name string) string {
	t.Helper()
	st := serviceStatus(t, cs, ns, name)
	if len(st) == 0 {
		return ""
	}
	if len(st) != 1 || st[0].IPMode == nil || *st[0].IPMode != corev1.LoadBalancerIPModeProxy || !inPool(st[0].IP) {
		t.Fatalf("Service %s: status %+v, want one pool address in proxy mode", name, st)
	}
	return st[0].IP
}

// waitStatusIP waits for a Service's pool address and returns it.
func waitStatusIP(t *testing.T, cs kubernetes.Interface, ns, name string) string {
	t.Helper()
	var ip string
	eventually(t, 10*time.Second, "Service "+name+"'s pool address", func() bool {
		ip = statusIP(t, cs, ns, name)
		return ip != ""
	})
	return ip
}

// checkPoolListener: the Service's listener binds its own address on
// poolPort with freebind, and proxies to its cluster.
func checkPoolListener(t *testing.T, v *adsView, ns, svc, ip string) {
	t.Helper()
	name := poolListener(ip)
	v.waitFor(10*time.Second, "listener "+name, func() bool { return v.has(resourcev3.ListenerType, name) })
	l := v.listener(name)
	sa := l.GetAddress().GetSocketAddress()
	if sa.GetAddress() != ip || sa.GetPortValue() != poolPort || !l.GetFreebind().GetValue() {
		t.Errorf("listener %s binds %s:%d, freebind %v; want %s:%d with freebind", name, sa.GetAddress(), sa.GetPortValue(), l.GetFreebind().GetValue(), ip, poolPort)
	}
	tp := &tcpproxyv3.TcpProxy{}
	if fcs := l.GetFilterChains(); len(fcs) == 0 || fcs[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(tp) != nil || tp.GetCluster() != fmt.Sprintf("%s/%s/%d", ns, svc, poolPort) {
		t.Errorf("listener %s proxies to %q, want Service %s's cluster", name, tp.GetCluster(), svc)
	}
}

// poolListeners are the address-pool listeners the view holds.
func poolListeners(v *adsView) []string {
	var out []string
	for _, n := range v.names(resourcev3.ListenerType) {
		for ip := netip.MustParseAddr(poolFirst); !netip.MustParseAddr(poolLast).Less(ip); ip = ip.Next() {
			if n == poolListener(ip.String()) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// statusWatch watches a namespace's Services for as long as the test runs
// and checks every state it observes: no address is in two Services'
// status at once, and no Service's address changes once written (it may
// only be cleared).
type statusWatch struct {
	mu         sync.Mutex
	current    map[string]string // Service → its status IP
	first      map[string]string // Service → the first IP it was given
	violations []string
}

func watchPoolStatus(t *testing.T, cs kubernetes.Interface, ns string) *statusWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &statusWatch{current: map[string]string{}, first: map[string]string{}}
	list, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range list.Items {
		w.observe(&list.Items[i], false)
	}
	rv := list.ResourceVersion
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			rv = w.follow(ctx, cs, ns, rv)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// follow applies one watch's events and returns the last resourceVersion
// seen, to resume from when the watch ends.
func (w *statusWatch) follow(ctx context.Context, cs kubernetes.Interface, ns, rv string) string {
	wi, err := cs.CoreV1().Services(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
	if err != nil {
		time.Sleep(50 * time.Millisecond)
		return rv
	}
	defer wi.Stop()
	for ev := range wi.ResultChan() {
		svc, ok := ev.Object.(*corev1.Service)
		if !ok {
			continue
		}
		rv = svc.ResourceVersion
		w.observe(svc, ev.Type == watch.Deleted)
	}
	return rv
}

func (w *statusWatch) observe(svc *corev1.Service, deleted bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ip := ""
	if st := svc.Status.LoadBalancer.Ingress; len(st) > 0 {
		ip = st[0].IP
	}
	if deleted || ip == "" {
		delete(w.current, svc.Name)
		return
	}
	if f, ok := w.first[svc.Name]; ok && f != ip {
		w.violations = append(w.violations, fmt.Sprintf("Service %s moved from %s to %s", svc.Name, f, ip))
	}
	if _, ok := w.first[svc.Name]; !ok {
		w.first[svc.Name] = ip
	}
	for other, oip := range w.current {
		if other != svc.Name && oip == ip {
			w.violations = append(w.violations, fmt.Sprintf("%s in the status of both %s and %s", ip, other, svc.Name))
		}
	}
	w.current[svc.Name] = ip
}

func (w *statusWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, v := range w.violations {
		t.Error(v)
	}
}

// TestKubePoolAllocation: two LoadBalancer Services on the same port get
// distinct pool addresses in status, in proxy mode, and each its own
// listener bound with freebind. fairway's own status write comes back
// through the informer as one more round, which must publish nothing new
// and write nothing.
func TestKubePoolAllocation(t *testing.T) {
	cs := poolClient(t)
	ns := newNamespace(t, cs)
	w := watchPoolStatus(t, cs, ns)
	createPoolService(t, cs, ns, "web", nil)
	createPoolService(t, cs, ns, "mail", nil)
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns, poolArgs(poolFirst+"-"+poolLast)...)
	v := watchADS(t, f.xds, "envoy-0")
	web, mail := waitStatusIP(t, cs, ns, "web"), waitStatusIP(t, cs, ns, "mail")
	if web == mail {
		t.Fatalf("both Services got %s", web)
	}
	checkPoolListener(t, v, ns, "web", web)
	checkPoolListener(t, v, ns, "mail", mail)
	if v.has(resourcev3.ListenerType, fmt.Sprintf("tcp-%d", poolPort)) {
		t.Errorf("with a pool, the fleet-wide tcp-%d listener is still served", poolPort)
	}

	time.Sleep(time.Second) // the echo of the status writes, and its round
	versions, writes, pushes := f.snapshot().Versions, f.metric(statusWritten), v.mark()
	time.Sleep(1500 * time.Millisecond)
	if after := f.snapshot().Versions; fmt.Sprint(after) != fmt.Sprint(versions) {
		t.Errorf("versions moved with nothing changed: %v, then %v", versions, after)
	}
	if after := f.metric(statusWritten); after != writes || writes != 2 {
		t.Errorf("status writes: %v, then %v; want the two allocations and nothing more", writes, after)
	}
	if p := v.pushesSince(pushes); len(p) != 0 {
		t.Errorf("pushes with nothing changed: %v", p)
	}
	w.check(t)
}

// TestKubePoolPersistence: the allocation lives in the Services' status,
// so a restarted fairway reads it back: B keeps the second address
// although the first was freed before the restart, and a new Service
// then gets the first.
func TestKubePoolPersistence(t *testing.T) {
	cs := poolClient(t)
	ns := newNamespace(t, cs)
	w := watchPoolStatus(t, cs, ns)
	args := append(poolArgs(poolFirst+"-"+poolLast), "--leader-elect-identity=one")
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns, args...)
	createPoolService(t, cs, ns, "a", nil)
	a := waitStatusIP(t, cs, ns, "a")
	createPoolService(t, cs, ns, "b", nil)
	b := waitStatusIP(t, cs, ns, "b")
	if a != poolFirst || b == a {
		t.Fatalf("a got %s, b %s; want a the pool's first address and b another", a, b)
	}
	deleteService(t, cs, ns, "a")
	f.stop()

	f = startKubeFairway(t, controlPlane.Kubeconfig(), ns, args...)
	v := watchADS(t, f.xds, "envoy-0")
	checkPoolListener(t, v, ns, "b", b)
	if got := poolListeners(v); !slices.Equal(got, []string{poolListener(b)}) {
		t.Errorf("after the restart the pool listeners are %v, want only b's", got)
	}
	createPoolService(t, cs, ns, "c", nil)
	if c := waitStatusIP(t, cs, ns, "c"); c != a {
		t.Errorf("c got %s, want the freed %s", c, a)
	}
	if got := statusIP(t, cs, ns, "b"); got != b {
		t.Errorf("b moved to %s over the restart", got)
	}
	w.check(t)
}

// TestKubePoolLeaderChange: two replicas; the leader is killed just after
// a Service is created, while it allocates (the log says whether its
// status write made it), and more Services are created before the other
// replica takes over. In the end every Service has a distinct pool
// address, and no moment the watch saw showed one address in two
// Services' status or a Service moved.
func TestKubePoolLeaderChange(t *testing.T) {
	cs := poolClient(t)
	ns := newNamespace(t, cs)
	w := watchPoolStatus(t, cs, ns)
	args := poolArgs(poolFirst + "-" + poolLast)
	replicas := map[string]*fairway{
		"a": startKubeFairway(t, controlPlane.Kubeconfig(), ns, append(args, "--leader-elect-identity=a")...),
		"b": startKubeFairway(t, controlPlane.Kubeconfig(), ns, append(args, "--leader-elect-identity=b")...),
	}
	eventually(t, 10*time.Second, "a leader", func() bool { return leaseHolder(t, cs, ns) != "" })
	names := []string{"s1", "s2", "s3", "s4", "s5", "s6"}
	for _, n := range names[:2] {
		createPoolService(t, cs, ns, n, nil)
		waitStatusIP(t, cs, ns, n)
	}
	leader := leaseHolder(t, cs, ns)
	follower := map[string]string{"a": "b", "b": "a"}[leader]
	createPoolService(t, cs, ns, names[2], nil)
	replicas[leader].kill()
	t.Logf("leader %s killed; s3's status at that moment: %q", leader, statusIP(t, cs, ns, names[2]))
	// What the follower serves before it leads: the old leader's choices
	// for s1 and s2, and its own for s3, which it must then write.
	v := watchADS(t, replicas[follower].xds, "envoy-0")
	var before []string
	v.waitFor(10*time.Second, "the follower serving s1 to s3", func() bool {
		before = poolListeners(v)
		return len(before) == 3
	})
	for _, n := range names[3:] {
		createPoolService(t, cs, ns, n, nil)
	}
	got := map[string]string{}
	eventually(t, 20*time.Second, "every Service's address from the new leader", func() bool {
		for _, n := range names {
			if got[n] = statusIP(t, cs, ns, n); got[n] == "" {
				return false
			}
		}
		return true
	})
	seen := map[string]string{}
	for _, n := range names {
		if other, dup := seen[got[n]]; dup {
			t.Errorf("%s and %s both hold %s", other, n, got[n])
		}
		seen[got[n]] = n
		checkPoolListener(t, v, ns, n, got[n])
	}
	for _, n := range names[:3] {
		if !slices.Contains(before, poolListener(got[n])) {
			t.Errorf("%s got %s, which the follower did not serve before it led (%v)", n, got[n], before)
		}
	}
	w.check(t)
}

// TestKubePoolExhausted: a Service the pool has no address for gets an
// AddressPoolExhausted Event, no status and no listener, and the others do
// not move; deleting one of them lets it in.
func TestKubePoolExhausted(t *testing.T) {
	cs := poolClient(t)
	ns := newNamespace(t, cs)
	w := watchPoolStatus(t, cs, ns)
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns, poolArgs(poolFirst+"-198.51.100.2")...)
	v := watchADS(t, f.xds, "envoy-0")
	createPoolService(t, cs, ns, "a", nil)
	a := waitStatusIP(t, cs, ns, "a")
	createPoolService(t, cs, ns, "b", nil)
	b := waitStatusIP(t, cs, ns, "b")
	createPoolService(t, cs, ns, "c", nil)
	eventually(t, 10*time.Second, "an AddressPoolExhausted Event on c", func() bool {
		return slices.Contains(eventsFor(t, cs, ns, "Service", "c"), "AddressPoolExhausted")
	})
	want := []string{poolListener(a), poolListener(b)}
	slices.Sort(want)
	if got := poolListeners(v); !slices.Equal(got, want) {
		t.Errorf("pool listeners %v, want only a's and b's %v", got, want)
	}
	if ip := statusIP(t, cs, ns, "c"); ip != "" {
		t.Errorf("c got %s from an exhausted pool", ip)
	}
	if statusIP(t, cs, ns, "a") != a || statusIP(t, cs, ns, "b") != b {
		t.Error("a Service moved when the pool ran out")
	}

	deleteService(t, cs, ns, "a")
	if c := waitStatusIP(t, cs, ns, "c"); c != a {
		t.Errorf("c got %s, want a's freed %s", c, a)
	}
	checkPoolListener(t, v, ns, "c", a)
	if statusIP(t, cs, ns, "b") != b {
		t.Error("b moved when a was deleted")
	}
	w.check(t)
}

// TestKubePoolLoadBalancerIP: spec.loadBalancerIP and MetalLB's annotation
// pick the address; one outside the pool is an AddressNotInPool Event
// and no address at all.
func TestKubePoolLoadBalancerIP(t *testing.T) {
	cs := poolClient(t)
	ns := newNamespace(t, cs)
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns, poolArgs(poolFirst+"-"+poolLast)...)
	v := watchADS(t, f.xds, "envoy-0")
	createPoolService(t, cs, ns, "pinned", func(s *corev1.Service) { s.Spec.LoadBalancerIP = "198.51.100.6" })
	createPoolService(t, cs, ns, "metallb", func(s *corev1.Service) {
		s.Annotations = map[string]string{"metallb.io/loadBalancerIPs": "198.51.100.7"}
	})
	createPoolService(t, cs, ns, "outside", func(s *corev1.Service) { s.Spec.LoadBalancerIP = "203.0.113.50" })
	if ip := waitStatusIP(t, cs, ns, "pinned"); ip != "198.51.100.6" {
		t.Errorf("spec.loadBalancerIP 198.51.100.6 gave %s", ip)
	}
	if ip := waitStatusIP(t, cs, ns, "metallb"); ip != "198.51.100.7" {
		t.Errorf("metallb.io/loadBalancerIPs 198.51.100.7 gave %s", ip)
	}
	checkPoolListener(t, v, ns, "pinned", "198.51.100.6")
	checkPoolListener(t, v, ns, "metallb", "198.51.100.7")
	eventually(t, 10*time.Second, "an AddressNotInPool Event on outside", func() bool {
		return slices.Contains(eventsFor(t, cs, ns, "Service", "outside"), "AddressNotInPool")
	})
	if st := serviceStatus(t, cs, ns, "outside"); len(st) != 0 {
		t.Errorf("a Service asking for an address outside the pool got status %+v", st)
	}
}

// TestKubePoolAddressFreed: an address comes free when its Service is
// deleted; when the Service stops being a LoadBalancer (the API server
// clears its status itself; fairway drops the listener and hands the
// address on); and when the Service, still a LoadBalancer, asks for an
// address it cannot have: then fairway clears the status it wrote, and
// only after that does the next Service get the address.
func TestKubePoolAddressFreed(t *testing.T) {
	cs := poolClient(t)
	ns := newNamespace(t, cs)
	w := watchPoolStatus(t, cs, ns)
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns, poolArgs(poolFirst+"-"+poolLast)...)
	v := watchADS(t, f.xds, "envoy-0")
	createPoolService(t, cs, ns, "a", nil)
	a := waitStatusIP(t, cs, ns, "a")
	createPoolService(t, cs, ns, "b", nil)
	b := waitStatusIP(t, cs, ns, "b")

	deleteService(t, cs, ns, "a")
	createPoolService(t, cs, ns, "c", nil)
	if c := waitStatusIP(t, cs, ns, "c"); c != a {
		t.Errorf("after a's deletion c got %s, want %s", c, a)
	}

	updateService(t, cs, ns, "b", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeClusterIP })
	eventually(t, 10*time.Second, "b's status cleared", func() bool { return len(serviceStatus(t, cs, ns, "b")) == 0 })
	v.waitFor(10*time.Second, "b's listener gone", func() bool { return !v.has(resourcev3.ListenerType, poolListener(b)) })
	createPoolService(t, cs, ns, "d", nil)
	if d := waitStatusIP(t, cs, ns, "d"); d != b {
		t.Errorf("after b became ClusterIP d got %s, want %s", d, b)
	}
	checkPoolListener(t, v, ns, "d", b)

	updateService(t, cs, ns, "c", func(s *corev1.Service) { s.Spec.LoadBalancerIP = "203.0.113.50" })
	eventually(t, 10*time.Second, "an AddressNotInPool Event on c", func() bool {
		return slices.Contains(eventsFor(t, cs, ns, "Service", "c"), "AddressNotInPool")
	})
	eventually(t, 10*time.Second, "c's pool address cleared by fairway", func() bool { return len(serviceStatus(t, cs, ns, "c")) == 0 })
	createPoolService(t, cs, ns, "e", nil)
	if e := waitStatusIP(t, cs, ns, "e"); e != a {
		t.Errorf("after c lost its address e got %s, want %s", e, a)
	}
	checkPoolListener(t, v, ns, "e", a)
	w.check(t)
}

// updateService reads a Service, edits it and writes it back.
func updateService(t *testing.T, cs kubernetes.Interface, ns, name string, edit func(*corev1.Service)) {
	t.Helper()
	create(t, func(ctx context.Context) error {
		svc, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		edit(svc)
		_, err = cs.CoreV1().Services(ns).Update(ctx, svc, metav1.UpdateOptions{})
		return err
	})
}

// TestKubeServiceFamiliesStatus: without a pool, a Service's status gets
// the fleet's addresses of its IP families only. The API server fills
// spec.ipFamilies (IPv4 on this single-stack cluster), so on a dual-stack
// fleet the Service listens on IPv4 and its status leaves the IPv6
// address out.
func TestKubeServiceFamiliesStatus(t *testing.T) {
	cs := poolClient(t)
	ns := newNamespace(t, cs)
	createPoolService(t, cs, ns, "v4", nil)
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns, "--listen-address", "::", "--publish-address", "static=192.0.2.10,2001:db8::10")
	v := watchADS(t, f.xds, "envoy-0")
	name := fmt.Sprintf("tcp-%d", poolPort)
	v.waitFor(10*time.Second, name, func() bool { return v.has(resourcev3.ListenerType, name) })
	if a := v.listener(name).GetAddress().GetSocketAddress().GetAddress(); a != "0.0.0.0" {
		t.Errorf("an IPv4 Service on a dual-stack fleet binds %q, want 0.0.0.0", a)
	}
	eventually(t, 10*time.Second, "the Service's status", func() bool { return len(serviceStatus(t, cs, ns, "v4")) > 0 })
	time.Sleep(500 * time.Millisecond) // a second write, if any, would follow at once
	var ips []string
	for _, in := range serviceStatus(t, cs, ns, "v4") {
		ips = append(ips, in.IP)
	}
	if !slices.Equal(ips, []string{"192.0.2.10"}) {
		t.Errorf("status addresses %v, want only the fleet's IPv4 192.0.2.10", ips)
	}
}

// TestKubePoolSharedAddress: two Services with one sharing key and ports
// that do not collide (DNS over UDP and TCP) both show the one address
// they share: the second joins after the first's status is written, and
// the writer's rule against an address in two statuses does not hold it
// back.
func TestKubePoolSharedAddress(t *testing.T) {
	cs := poolClient(t)
	ns := newNamespace(t, cs)
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns, poolArgs(poolFirst+"-"+poolLast)...)
	v := watchADS(t, f.xds, "envoy-0")
	for _, p := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
		name := "dns-" + strings.ToLower(string(p))
		svc := lbService(ns, name, 53, p)
		svc.Annotations = map[string]string{"fairway.dev/address-sharing-key": "dns"}
		create(t, func(ctx context.Context) error {
			if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
				return err
			}
			_, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, endpointSlice(ns, name, "main", 53, "10.0.0.53"), metav1.CreateOptions{})
			return err
		})
		waitStatusIP(t, cs, ns, name)
	}
	udp, tcp := statusIP(t, cs, ns, "dns-udp"), statusIP(t, cs, ns, "dns-tcp")
	if udp != tcp {
		t.Errorf("dns-udp got %s and dns-tcp %s; with one sharing key and no port collision they share one", udp, tcp)
	}
	v.waitFor(10*time.Second, "both listeners on the shared address", func() bool {
		return v.has(resourcev3.ListenerType, "udp-"+udp+"-53") && v.has(resourcev3.ListenerType, "tcp-"+udp+"-53")
	})
}

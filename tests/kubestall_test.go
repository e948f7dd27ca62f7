package tests

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// modifications counts, per "Kind/name", the updates the API server
// records in a namespace from now on. Nothing but fairway's status writes
// modifies the test's objects after they are created.
type modifications struct {
	mu     sync.Mutex
	counts map[string]int
}

func watchModifications(t *testing.T, cs kubernetes.Interface, ns string) *modifications {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := &modifications{counts: map[string]int{}}
	rv := currentRevision(t, cs, ns)
	svcs, err := cs.CoreV1().Services(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
	if err != nil {
		t.Fatal(err)
	}
	ings, err := cs.NetworkingV1().Ingresses(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
	if err != nil {
		t.Fatal(err)
	}
	record := func(kind string, ch <-chan watch.Event) {
		for e := range ch {
			if o, ok := e.Object.(metav1.Object); ok && e.Type == watch.Modified {
				m.mu.Lock()
				m.counts[kind+"/"+o.GetName()]++
				m.mu.Unlock()
			}
		}
	}
	go record("Service", svcs.ResultChan())
	go record("Ingress", ings.ResultChan())
	return m
}

func (m *modifications) snapshot() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int, len(m.counts))
	for k, v := range m.counts {
		out[k] = v
	}
	return out
}

// TestKubeLeaseExpiresDuringStatusWrite: the leader's status write hangs
// on the way to the API server, and so do its lease renewals, until the
// lease expires and the other replica takes over and writes every status.
// Then the held requests reach the API server after all, as bytes already
// on the wire would. The former leader's late status write is refused
// (409: it was made against a resourceVersion the new leader's write
// replaced), so each object ends with the right status, written once, by
// the new leader.
func TestKubeLeaseExpiresDuringStatusWrite(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	class := "fairway-" + ns
	createIngressClass(t, cs, ingressClass(class, "fairway.dev/ingress-controller"))
	create(t, func(ctx context.Context) error {
		if _, err := cs.CoreV1().Services(ns).Create(ctx, clusterIPService(ns, "web", 80, 8080), metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, endpointSlice(ns, "web", "http", 8080, "10.0.0.9"), metav1.CreateOptions{})
		return err
	})
	proxy := newStallProxy(t, controlPlane.Config())
	a := startKubeFairway(t, proxy.kubeconfig(t, controlPlane.Config()), ns, "--leader-elect-identity=a")
	eventually(t, 10*time.Second, "a leading", func() bool { return a.metric("fairway_leader") == 1 })
	b := startKubeFairway(t, controlPlane.Kubeconfig(), ns, "--leader-elect-identity=b")

	mods := watchModifications(t, cs, ns)
	proxy.stall()
	stalled := time.Now()
	const services = 3
	for i := range services {
		createLBService(t, cs, ns, fmt.Sprintf("lb-%d", i), int32(9501+i))
	}
	create(t, func(ctx context.Context) error {
		_, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, "shop", class, "shop."+ns+".example.com", "web", 80), metav1.CreateOptions{})
		return err
	})
	eventually(t, 10*time.Second, "a's status write held on the way", func() bool { return heldStatusWrites(proxy) == 1 })
	eventually(t, 10*time.Second, "a stepping down", func() bool { return a.metric("fairway_leader") == 0 })
	eventually(t, 10*time.Second, "b taking over", func() bool { return leaseHolder(t, cs, ns) == "b" && b.metric("fairway_leader") == 1 })
	t.Logf("b took over %v after a's requests stalled", time.Since(stalled).Round(10*time.Millisecond))
	want := map[string]int{"Ingress/shop": 1}
	for i := range services {
		want[fmt.Sprintf("Service/lb-%d", i)] = 1
	}
	eventually(t, 10*time.Second, "b writing every status", func() bool { return fmt.Sprint(mods.snapshot()) == fmt.Sprint(want) })

	proxy.unstall()
	checkLateWritesRefused(t, proxy)
	time.Sleep(3 * time.Second) // a stands again, and either replica would write now if it meant to
	if got := mods.snapshot(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("status writes per object: %v, want %v", got, want)
	}
	checkStatuses(t, cs, ns, services)
	if n := a.metric(statusWritten) + a.metric(`fairway_status_writes_total{kind="Ingress",result="written"}`); n != 0 {
		t.Errorf("a counts %v status writes as written", n)
	}
	if leaseHolder(t, cs, ns) != "b" {
		t.Errorf("the lease is %q's, want b's", leaseHolder(t, cs, ns))
	}
}

// checkLateWritesRefused waits until the API server has answered every
// request the proxy held, and fails on a status write it took.
func checkLateWritesRefused(t *testing.T, proxy *stallProxy) {
	t.Helper()
	eventually(t, 10*time.Second, "the held requests answered", func() bool {
		for _, h := range proxy.heldRequests() {
			if h.code == 0 {
				return false
			}
		}
		return true
	})
	for _, h := range proxy.heldRequests() {
		t.Logf("held %s %s: %d", h.method, h.path, h.code)
		if strings.HasSuffix(h.path, "/status") && h.code != 409 {
			t.Errorf("a's late status write %s %s was answered %d, want 409 Conflict", h.method, h.path, h.code)
		}
	}
}

// checkStatuses: Services lb-0.. and Ingress shop have fairway's status.
func checkStatuses(t *testing.T, cs kubernetes.Interface, ns string, services int) {
	t.Helper()
	for i := range services {
		name := fmt.Sprintf("lb-%d", i)
		if st := serviceStatus(t, cs, ns, name); len(st) != 1 || st[0].IP != fleetAddress || st[0].IPMode == nil || *st[0].IPMode != corev1.LoadBalancerIPModeProxy {
			t.Errorf("Service %s: status %+v", name, st)
		}
	}
	if st := ingressStatus(t, cs, ns, "shop"); len(st) != 1 || st[0].IP != fleetAddress {
		t.Errorf("Ingress shop: status %+v", st)
	}
}

// heldStatusWrites counts the status writes the proxy holds.
func heldStatusWrites(p *stallProxy) int {
	n := 0
	for _, h := range p.heldRequests() {
		if h.method == "PATCH" && strings.HasSuffix(h.path, "/status") {
			n++
		}
	}
	return n
}

package tests

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// leaseHolder is the identity in the test's Lease.
func leaseHolder(t *testing.T, cs kubernetes.Interface, ns string) string {
	t.Helper()
	l, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), "fairway", metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func createLBService(t *testing.T, cs kubernetes.Interface, ns, name string, port int32) {
	t.Helper()
	create(t, func(ctx context.Context) error {
		if _, err := cs.CoreV1().Services(ns).Create(ctx, lbService(ns, name, port, corev1.ProtocolTCP), metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, endpointSlice(ns, name, "main", port, "10.0.0.1"), metav1.CreateOptions{})
		return err
	})
}

const statusWritten = `fairway_status_writes_total{kind="Service",result="written"}`

// TestKubeLeaderFailover: of two replicas only the leader writes status;
// when it dies, the other takes over within the lease duration, and both
// serve xDS throughout.
func TestKubeLeaderFailover(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	createLBService(t, cs, ns, "one", 9001)
	replicas := map[string]*fairway{
		"a": startKubeFairway(t, controlPlane.Kubeconfig(), ns, "--leader-elect-identity=a"),
		"b": startKubeFairway(t, controlPlane.Kubeconfig(), ns, "--leader-elect-identity=b"),
	}
	views := map[string]*adsView{}
	for id, f := range replicas {
		views[id] = watchADS(t, f.xds, "envoy-"+id)
		views[id].waitFor(5*time.Second, "replica "+id+" serving tcp-9001", func() bool { return views[id].has(resourcev3.ListenerType, "tcp-9001") })
	}
	eventually(t, 10*time.Second, "a leader and the status", func() bool {
		return leaseHolder(t, cs, ns) != "" && len(serviceStatus(t, cs, ns, "one")) == 1
	})
	leader := leaseHolder(t, cs, ns)
	follower := map[string]string{"a": "b", "b": "a"}[leader]
	if replicas[leader].metric(statusWritten) < 1 || replicas[leader].metric("fairway_leader") != 1 {
		t.Errorf("leader %s: %v status writes, fairway_leader %v", leader, replicas[leader].metric(statusWritten), replicas[leader].metric("fairway_leader"))
	}
	if n := replicas[follower].metric(statusWritten); n != 0 || replicas[follower].metric("fairway_leader") != 0 {
		t.Errorf("follower %s wrote status %v times", follower, n)
	}

	killed := time.Now()
	replicas[leader].kill()
	// A killed leader cannot release its lease: the follower takes over when
	// the lease expires, 4s after the last renewal it saw (renewals come
	// every 500ms), at its next try (every 500ms, with jitter).
	eventually(t, 4*time.Second+2*500*time.Millisecond+time.Second, "the follower taking over", func() bool {
		return leaseHolder(t, cs, ns) == follower && replicas[follower].metric("fairway_leader") == 1
	})
	t.Logf("took over %v after the kill", time.Since(killed).Round(10*time.Millisecond))
	createLBService(t, cs, ns, "two", 9002)
	eventually(t, 5*time.Second, "the new leader writing status", func() bool { return len(serviceStatus(t, cs, ns, "two")) == 1 })
	v := views[follower]
	v.waitFor(5*time.Second, "the survivor serving tcp-9002", func() bool { return v.has(resourcev3.ListenerType, "tcp-9002") })
	v.alive()
}

// tcpProxy stands between fairway and the API server, so a test can cut
// fairway off while it changes objects through the real API server.
type tcpProxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]bool{}}
	p.listen(t, "127.0.0.1:0")
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.pause)
	return p
}

func (p *tcpProxy) listen(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

// pause refuses new connections and cuts the open ones.
func (p *tcpProxy) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *tcpProxy) resume(t *testing.T) { p.listen(t, p.addr) }

// TestKubeAPIServerOutage: with the API server stopped, a connected Envoy
// keeps its config and fairway stays ready and serving; what changed while
// fairway was cut off is reconciled when the API server is back.
func TestKubeAPIServerOutage(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	createLBService(t, cs, ns, "before", 9101)
	proxy := newTCPProxy(t, strings.TrimPrefix(controlPlane.URL(), "https://"))
	f := startKubeFairway(t, kubeconfigFor(t, controlPlane.Config(), "https://"+proxy.addr), ns)
	v := watchADS(t, f.xds, "envoy-0")
	v.waitFor(5*time.Second, "tcp-9101", func() bool { return v.has(resourcev3.ListenerType, "tcp-9101") })

	if err := controlPlane.KillAPIServer(); err != nil {
		t.Fatal(err)
	}
	proxy.pause()
	time.Sleep(2 * time.Second)
	if code, body := f.get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz during the outage: %d %s", code, body)
	}
	v.alive()
	late := watchADS(t, f.xds, "envoy-late")
	late.waitFor(5*time.Second, "a new Envoy served during the outage", func() bool { return late.has(resourcev3.ListenerType, "tcp-9101") })

	// The API server comes back on the same etcd data; the changes are made
	// before fairway can reach it again.
	if err := controlPlane.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	create(t, func(ctx context.Context) error {
		return cs.CoreV1().Services(ns).Delete(ctx, "before", metav1.DeleteOptions{})
	})
	createLBService(t, cs, ns, "after", 9102)
	if !v.has(resourcev3.ListenerType, "tcp-9101") || v.has(resourcev3.ListenerType, "tcp-9102") {
		t.Fatal("fairway saw the changes while cut off: the outage was not real")
	}
	proxy.resume(t)
	back := time.Now()
	v.waitFor(30*time.Second, "the changes reconciled", func() bool {
		ls := v.names(resourcev3.ListenerType)
		return slices.Contains(ls, "tcp-9102") && !slices.Contains(ls, "tcp-9101")
	})
	t.Logf("reconciled %v after the API server was reachable again", time.Since(back).Round(10*time.Millisecond))
	eventually(t, 15*time.Second, "the new Service's status", func() bool { return len(serviceStatus(t, cs, ns, "after")) == 1 })
	v.alive()
}

package tests

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// setLease writes the test's Lease as another replica would: holder for
// d from now, or, with holder "", released (expired and unheld), so that
// the next candidate takes it at once.
func setLease(t *testing.T, cs kubernetes.Interface, ns, holder string, d time.Duration) {
	t.Helper()
	// The leader renews concurrently, so an update can meet a newer
	// resourceVersion: read again and retry, as any Lease writer must.
	create(t, func(ctx context.Context) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error { return putLease(ctx, cs, ns, holder, d) })
	})
}

func putLease(ctx context.Context, cs kubernetes.Interface, ns, holder string, d time.Duration) error {
	l, err := cs.CoordinationV1().Leases(ns).Get(ctx, "fairway", metav1.GetOptions{})
	if err != nil {
		return err
	}
	now := metav1.NewMicroTime(time.Now())
	secs := int32(d / time.Second)
	if holder == "" {
		now, secs = metav1.NewMicroTime(time.Now().Add(-time.Hour)), 1
	}
	l.Spec = coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}
	_, err = cs.CoordinationV1().Leases(ns).Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// writeLog is what the API server says was written in a namespace: the
// resourceVersion of every Ingress modification and every Event written
// (created or patched) since the watches began.
type writeLog struct {
	mu       sync.Mutex
	statuses []int64
	events   []int64
}

// watchWrites watches from the current state on. resourceVersions are
// etcd revisions, one counter for the whole cluster, so they order writes
// across kinds (the test relies on this; clients in general must not).
func watchWrites(t *testing.T, cs kubernetes.Interface, ns string) *writeLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &writeLog{}
	ings, err := cs.NetworkingV1().Ingresses(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: currentRevision(t, cs, ns)})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := cs.CoreV1().Events(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: currentRevision(t, cs, ns)})
	if err != nil {
		t.Fatal(err)
	}
	record := func(ch <-chan watch.Event, into *[]int64, counts func(watch.Event) bool) {
		for e := range ch {
			if m, ok := e.Object.(metav1.Object); ok && counts(e) {
				rv, _ := strconv.ParseInt(m.GetResourceVersion(), 10, 64)
				w.mu.Lock()
				*into = append(*into, rv)
				w.mu.Unlock()
			}
		}
	}
	go record(ings.ResultChan(), &w.statuses, func(e watch.Event) bool { return e.Type == watch.Modified })
	go record(evs.ResultChan(), &w.events, func(e watch.Event) bool {
		ev, ok := e.Object.(*corev1.Event)
		return ok && ev.Source.Component == "fairway" && (e.Type == watch.Added || e.Type == watch.Modified)
	})
	return w
}

// since counts the writes after revision rv.
func (w *writeLog) since(rv int64) (statuses, events int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.statuses {
		if r > rv {
			statuses++
		}
	}
	for _, r := range w.events {
		if r > rv {
			events++
		}
	}
	return statuses, events
}

// currentRevision is the cluster's revision now: a list read from etcd
// returns it.
func currentRevision(t *testing.T, cs kubernetes.Interface, ns string) string {
	t.Helper()
	l, err := cs.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return l.ResourceVersion
}

// TestKubeLeaseTakenWhileWriting: a leader in the middle of writing the
// status of many Ingresses, and Events for their Problems, has its Lease
// taken by another identity. It steps down at its next renewal, sooner
// than client-go's renew deadline, and from then on the API server
// records no write of its, status or Event, although most of the batch is
// still to do. When the lease is free again it takes it back and
// finishes.
func TestKubeLeaseTakenWhileWriting(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	class := "fairway-" + ns
	createIngressClass(t, cs, ingressClass(class, "fairway.dev/ingress-controller"))
	const n = 400
	for i := range n {
		// The backend Service does not exist: every Ingress is served
		// (with a 503) and gets status, and has a Problem, hence an Event.
		create(t, func(ctx context.Context) error {
			_, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, fmt.Sprintf("ing-%d", i), class, fmt.Sprintf("h%d.%s.example.com", i, ns), "missing", 80), metav1.CreateOptions{})
			return err
		})
	}
	writes := watchWrites(t, cs, ns)
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns, "--leader-elect-identity=a")
	eventually(t, 20*time.Second, "the leader's first writes", func() bool { s, _ := writes.since(0); return s >= 60 })

	taken := time.Now()
	setLease(t, cs, ns, "usurper", time.Hour)
	// client-go alone would step down only at its renew deadline (3s).
	eventually(t, 2*time.Second, "the leader stepping down", func() bool { return f.metric("fairway_leader") == 0 })
	t.Logf("stepped down %v after the lease was taken", time.Since(taken).Round(time.Millisecond))
	mark, _ := strconv.ParseInt(currentRevision(t, cs, ns), 10, 64)
	before, eventsBefore := writes.since(0)
	if before >= n {
		t.Fatalf("all %d statuses were written before the lease was taken: the test proves nothing", n)
	}
	time.Sleep(3 * time.Second) // at 50 writes/s, a writer still going would make ~150
	if s, e := writes.since(mark); s != 0 || e != 0 {
		t.Errorf("after stepping down, %d status writes and %d Event writes", s, e)
	}
	t.Logf("written when the lease was taken: %d of %d statuses, %d Events", before, n, eventsBefore)

	setLease(t, cs, ns, "", 0)
	eventually(t, 30*time.Second, "the replica leading again and finishing the batch", func() bool {
		list, err := cs.NetworkingV1().Ingresses(ns).List(context.Background(), metav1.ListOptions{})
		return err == nil && f.metric("fairway_leader") == 1 && countIngressStatus(list.Items) == n
	})
}

func countIngressStatus(items []networkingv1.Ingress) int {
	n := 0
	for _, ing := range items {
		if len(ing.Status.LoadBalancer.Ingress) > 0 {
			n++
		}
	}
	return n
}

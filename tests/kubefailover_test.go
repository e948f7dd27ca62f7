package tests

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fairwayhq/fairway/tests/workload"
)

// EnvFailoverScale picks the failover test's size: "large" is the
// workload of the README's Performance section. Unset, a small cluster
// that fits `make test`.
const EnvFailoverScale = "FAIRWAY_FAILOVER_SCALE"

var failoverSmall = workload.Scale{Name: "failover-small", Services: 200, Ingresses: 200, EndpointsPerService: 2, LoadBalancers: 50, Namespaces: 1}

// createWorkload creates the generated cluster in ns, with its Ingresses
// of class, from a few writers at once.
func createWorkload(t *testing.T, cs kubernetes.Interface, ns, class string, s workload.Scale) {
	t.Helper()
	s.Namespaces = 1
	in := workload.Generate(s)
	var calls []func(context.Context) error
	for _, svc := range in.Services {
		svc.Namespace, svc.CreationTimestamp = ns, metav1.Time{}
		calls = append(calls, func(ctx context.Context) error {
			_, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
			return err
		})
	}
	for _, es := range in.EndpointSlices {
		es.Namespace = ns
		calls = append(calls, func(ctx context.Context) error {
			_, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, es, metav1.CreateOptions{})
			return err
		})
	}
	for _, ing := range in.Ingresses {
		ing.Namespace, ing.CreationTimestamp, ing.Spec.IngressClassName = ns, metav1.Time{}, &class
		calls = append(calls, func(ctx context.Context) error {
			_, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{})
			return err
		})
	}
	parallel(t, 16, calls)
}

// deleteWorkload deletes the generated objects before the namespace's
// purge, which gives the whole namespace 20 s: too little for the large
// workload.
func deleteWorkload(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	now := metav1.DeleteOptions{GracePeriodSeconds: new(int64)}
	_ = cs.NetworkingV1().Ingresses(ns).DeleteCollection(ctx, now, metav1.ListOptions{})
	_ = cs.DiscoveryV1().EndpointSlices(ns).DeleteCollection(ctx, now, metav1.ListOptions{})
	svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	var calls []func(context.Context) error
	for _, s := range svcs.Items {
		calls = append(calls, func(context.Context) error {
			_ = cs.CoreV1().Services(ns).Delete(ctx, s.Name, now)
			return nil
		})
	}
	parallel(t, 16, calls)
}

// parallel runs calls on n goroutines and fails on the first error.
func parallel(t *testing.T, n int, calls []func(context.Context) error) {
	t.Helper()
	work := make(chan func(context.Context) error)
	errs := make(chan error, len(calls))
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for call := range work {
				if err := call(context.Background()); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, c := range calls {
		work <- c
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// statusCounts lists the namespace and counts the LoadBalancer Services
// and Ingresses whose status has an address.
func statusCounts(t *testing.T, cs kubernetes.Interface, ns string) (services, ingresses int) {
	t.Helper()
	ctx := context.Background()
	svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs.Items {
		if len(s.Status.LoadBalancer.Ingress) > 0 {
			services++
		}
	}
	ings, err := cs.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return services, countIngressStatus(ings.Items)
}

// clearStatus empties the status of every tenth LoadBalancer Service and
// Ingress, as writes a crashed leader never made would leave them, and
// returns how many it cleared.
func clearStatus(t *testing.T, cs kubernetes.Interface, ns string, s workload.Scale) int {
	t.Helper()
	var calls []func(context.Context) error
	for k := 0; k < s.LoadBalancers; k += 10 {
		calls = append(calls, func(ctx context.Context) error {
			svc, err := cs.CoreV1().Services(ns).Get(ctx, fmt.Sprintf("lb-%d", k), metav1.GetOptions{})
			if err != nil {
				return err
			}
			svc.Status.LoadBalancer = corev1.LoadBalancerStatus{}
			_, err = cs.CoreV1().Services(ns).UpdateStatus(ctx, svc, metav1.UpdateOptions{})
			return err
		})
	}
	for i := 0; i < s.Ingresses; i += 10 {
		calls = append(calls, func(ctx context.Context) error {
			ing, err := cs.NetworkingV1().Ingresses(ns).Get(ctx, fmt.Sprintf("ing-%d", i), metav1.GetOptions{})
			if err != nil {
				return err
			}
			ing.Status.LoadBalancer = networkingv1.IngressLoadBalancerStatus{}
			_, err = cs.NetworkingV1().Ingresses(ns).UpdateStatus(ctx, ing, metav1.UpdateOptions{})
			return err
		})
	}
	parallel(t, 16, calls)
	return len(calls)
}

// requestCounts reads fairway's counts of its own API requests and status
// write results, keyed "verb resource" and "status kind result".
func requestCounts(f *fairway) map[string]float64 {
	_, body := f.get("/metrics")
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		var a, b string
		var v float64
		switch {
		case strings.HasPrefix(line, "fairway_kube_requests_total{"):
			if _, err := fmt.Sscanf(line, `fairway_kube_requests_total{resource=%q,verb=%q} %g`, &a, &b, &v); err == nil {
				out[b+" "+a] = v
			}
		case strings.HasPrefix(line, "fairway_status_writes_total{"):
			if _, err := fmt.Sscanf(line, `fairway_status_writes_total{kind=%q,result=%q} %g`, &a, &b, &v); err == nil {
				out["status "+a+" "+b] = v
			}
		}
	}
	return out
}

func delta(before, after map[string]float64) map[string]float64 {
	d := map[string]float64{}
	for k, v := range after {
		if v != before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}

// leaseAcquired is when the current holder took the Lease.
func leaseAcquired(t *testing.T, cs kubernetes.Interface, ns string) time.Time {
	t.Helper()
	l, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), "fairway", metav1.GetOptions{})
	if err != nil || l.Spec.AcquireTime == nil {
		t.Fatalf("the Lease has no acquire time: %v", err)
	}
	return l.Spec.AcquireTime.Time
}

// handOver takes the Lease from whoever leads (the test holds it while
// prepare runs), then frees it for the standby, and returns when the
// standby took it. The standby's request counts from just before the
// lease is freed are returned with the time it took the lease.
func handOver(t *testing.T, cs kubernetes.Interface, ns string, leader, standby *fairway, prepare func()) (map[string]float64, time.Time) {
	t.Helper()
	setLease(t, cs, ns, "test-hold", time.Hour)
	eventually(t, 5*time.Second, "the leader stepping down", func() bool { return leader.metric("fairway_leader") == 0 })
	prepare()
	before := requestCounts(standby)
	setLease(t, cs, ns, "", 0)
	eventually(t, 10*time.Second, "the standby taking the lease", func() bool { return leaseHolder(t, cs, ns) == "b" })
	return before, leaseAcquired(t, cs, ns)
}

// TestKubeFailoverStatusWrites: a standby that takes over from a leader
// compares status with its informers' cache and writes only what differs.
// Where all status is right it makes no status write and no per-object
// read; where some was lost, exactly those objects are written, still with
// no read. The time from taking the lease to complete status, and the
// requests by verb, are logged; FAIRWAY_FAILOVER_SCALE=large runs it on
// the Performance section's large workload.
func TestKubeFailoverStatusWrites(t *testing.T) {
	cs := kubeClient(t)
	scale := failoverSmall
	if os.Getenv(EnvFailoverScale) == "large" {
		scale = workload.Large
	} else if testing.Short() {
		t.Skip("-short")
	}
	ns := newNamespace(t, cs)
	t.Cleanup(func() { deleteWorkload(t, cs, ns) })
	class := "fairway-" + ns
	createIngressClass(t, cs, ingressClass(class, "fairway.dev/ingress-controller"))
	start := time.Now()
	createWorkload(t, cs, ns, class, scale)
	t.Logf("%s: %d Services (%d LoadBalancer), %d Ingresses, created in %v", scale.Name, scale.Services+scale.LoadBalancers,
		scale.LoadBalancers, scale.Ingresses, time.Since(start).Round(time.Second))

	args := append([]string{"--kubeconfig", controlPlane.Kubeconfig(), "--namespace", ns, "--fairway-namespace", ns,
		"--publish-address", "static=" + fleetAddress}, fastLease...)
	a := startFairwayWithin(t, 5*time.Minute, append(args, "--leader-elect-identity=a")...)
	complete := func() bool {
		s, i := statusCounts(t, cs, ns)
		return s == scale.LoadBalancers && i == scale.Ingresses
	}
	eventually(t, 5*time.Minute, "the first leader writing every status", complete)
	b := startFairwayWithin(t, 5*time.Minute, append(args, "--leader-elect-identity=b")...)

	// All status right: the new leader writes nothing and reads nothing.
	before, took := handOver(t, cs, ns, a, b, a.kill)
	eventually(t, 5*time.Second, "the standby leading", func() bool { return b.metric("fairway_leader") == 1 })
	time.Sleep(2 * time.Second)
	if d := delta(before, requestCounts(b)); d["patch services/status"]+d["patch ingresses/status"]+d["get services"]+d["get ingresses"] != 0 {
		t.Errorf("failover with every status right: requests %v; want no status write and no read", d)
	} else {
		t.Logf("failover with every status right: requests %v", d)
	}

	// Some status lost: exactly those objects are written.
	var lost int
	before, took = handOver(t, cs, ns, b, b, func() { lost = clearStatus(t, cs, ns, scale) })
	eventually(t, 5*time.Minute, "the new leader completing status", complete)
	done := time.Since(took)
	time.Sleep(2 * time.Second)
	d := delta(before, requestCounts(b))
	if w := d["patch services/status"] + d["patch ingresses/status"]; w != float64(lost) || d["get services"]+d["get ingresses"] != 0 {
		t.Errorf("failover with %d statuses lost: requests %v; want exactly %d status patches and no read", lost, d, lost)
	}
	t.Logf("failover with %d statuses lost: status complete %v after the lease was taken; requests %v", lost, done.Round(time.Millisecond), d)
}

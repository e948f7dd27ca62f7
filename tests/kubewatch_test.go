package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/fairwayhq/fairway/translator/translatortest"
)

// etcdCall posts a JSON request to etcd's gRPC gateway and decodes the
// answer: enough to read the revision and compact, without etcd's client.
func etcdCall(t *testing.T, path string, req, resp any) {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.Post(controlPlane.EtcdURL()+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("etcd %s: %s", path, r.Status)
	}
	if err := json.NewDecoder(r.Body).Decode(resp); err != nil {
		t.Fatalf("etcd %s: %v", path, err)
	}
}

// compactEtcd compacts etcd's history up to its current revision, as the
// API server's periodic compaction does, and returns that revision.
func compactEtcd(t *testing.T) string {
	t.Helper()
	var status struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	etcdCall(t, "/v3/maintenance/status", struct{}{}, &status)
	var out map[string]any
	etcdCall(t, "/v3/kv/compaction", map[string]any{"revision": status.Header.Revision, "physical": true}, &out)
	return status.Header.Revision
}

// watchGone reports whether a watch of Services in ns from resourceVersion
// rv is refused as expired (410 Gone), either as the answer or as the
// watch's first event, which is how the API server's watch cache says it.
func watchGone(t *testing.T, cs kubernetes.Interface, ns, rv string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w, err := cs.CoreV1().Services(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
	if err != nil {
		return apierrors.IsGone(err) || apierrors.IsResourceExpired(err)
	}
	defer w.Stop()
	select {
	case e := <-w.ResultChan():
		if e.Type != watch.Error {
			return false
		}
		err := apierrors.FromObject(e.Object)
		return apierrors.IsGone(err) || apierrors.IsResourceExpired(err)
	case <-ctx.Done():
		return false
	}
}

func lists(f *fairway, resource string) float64 {
	return f.metric(fmt.Sprintf(`fairway_kube_requests_total{resource=%q,verb="list"}`, resource))
}

// TestKubeWatchExpiredRelists: fairway's watches break (the API server
// restarts while fairway is cut off) and, meanwhile, the cluster moves on
// and etcd is compacted, so a watch resumed from the resourceVersion
// fairway's informers hold is refused with 410 Gone. The informers re-list
// (fairway_kube_requests_total counts the lists), and since nothing fairway
// reads changed: no xDS version changes, nothing is pushed to the
// connected stream, and no status is written again.
func TestKubeWatchExpiredRelists(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	createLBService(t, cs, ns, "one", 9301)
	proxy := newTCPProxy(t, strings.TrimPrefix(controlPlane.URL(), "https://"))
	f := startKubeFairway(t, kubeconfigFor(t, controlPlane.Config(), "https://"+proxy.addr), ns)
	v := watchADS(t, f.xds, "envoy-0")
	v.waitFor(5*time.Second, "tcp-9301", func() bool { return v.has(resourcev3.ListenerType, "tcp-9301") })
	eventually(t, 10*time.Second, "the Service's status", func() bool { return len(serviceStatus(t, cs, ns, "one")) == 1 })
	time.Sleep(2 * time.Second) // let the status write's own echo settle
	// No informer of fairway's can hold a revision newer than the
	// cluster's, so a watch from held being refused means theirs are too.
	held := currentRevision(t, cs, ns)
	versions, mark, written := f.snapshot().Versions, v.mark(), f.metric(statusWritten)
	before := map[string]float64{}
	for _, r := range []string{"services", "endpointslices", "ingresses"} {
		before[r] = lists(f, r)
	}

	// Cut off, fairway misses writes it does not watch, which move the
	// revision on; the restarted API server's watch cache starts after
	// them, and compaction drops the history in between from etcd too.
	proxy.pause()
	for i := range 5 {
		create(t, func(ctx context.Context) error {
			_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("c%d", i)}}, metav1.CreateOptions{})
			return err
		})
	}
	if err := controlPlane.KillAPIServer(); err != nil {
		t.Fatal(err)
	}
	compacted := compactEtcd(t)
	if err := controlPlane.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	if !watchGone(t, cs, ns, held) {
		t.Fatalf("a watch from revision %s (compacted up to %s) is not refused as expired: the fault is not real", held, compacted)
	}
	proxy.resume(t)
	resumed := time.Now()
	for r, n := range before {
		eventually(t, 30*time.Second, "fairway re-listing "+r, func() bool { return lists(f, r) > n })
	}
	t.Logf("re-listed %v after fairway could reach the API server again", time.Since(resumed).Round(10*time.Millisecond))
	time.Sleep(3 * time.Second) // a round of translation and publishing, had anything changed
	v.alive()
	if pushed := v.pushesSince(mark); len(pushed) != 0 {
		t.Errorf("the relist pushed %v to the connected stream", pushed)
	}
	if after := f.snapshot().Versions; fmt.Sprint(after) != fmt.Sprint(versions) {
		t.Errorf("versions changed: %v, then %v", versions, after)
	}
	if n := f.metric(statusWritten); n != written {
		t.Errorf("status written %v times before the relist, %v after", written, n)
	}
}

// TestKubePoisonIngressRefused: in a cluster, the API server takes an
// Ingress of 5,000 paths (717 KiB as YAML, within its size limits), and
// fairway refuses it: an ObjectTooLarge Event, no status, no route, while
// the Ingress beside it gets both.
func TestKubePoisonIngressRefused(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	class := "fairway-" + ns
	createIngressClass(t, cs, ingressClass(class, "fairway.dev/ingress-controller"))
	poison := translatortest.ManyPaths(ns, 5000).Ingress
	poison.Spec.IngressClassName, poison.CreationTimestamp = &class, metav1.Time{}
	good := ingress(ns, "good", class, "good."+ns+".example.com", "web", 80)
	create(t, func(ctx context.Context) error {
		if _, err := cs.CoreV1().Services(ns).Create(ctx, clusterIPService(ns, "web", 80, 8080), metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, poison, metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, good, metav1.CreateOptions{})
		return err
	})
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns)
	v := watchADS(t, f.xds, "envoy-0")
	v.waitFor(10*time.Second, "the good Ingress's host", func() bool { return slices.Contains(v.virtualHosts("http"), good.Spec.Rules[0].Host) })
	eventually(t, 10*time.Second, "the good Ingress's status", func() bool { return len(ingressStatus(t, cs, ns, "good")) == 1 })
	eventually(t, 10*time.Second, "an ObjectTooLarge Event on the poison", func() bool {
		return slices.Contains(eventsFor(t, cs, ns, "Ingress", poison.Name), "ObjectTooLarge")
	})
	if slices.Contains(v.virtualHosts("http"), poison.Spec.Rules[0].Host) {
		t.Error("the refused Ingress's host is served")
	}
	if st := ingressStatus(t, cs, ns, poison.Name); len(st) != 0 {
		t.Errorf("the refused Ingress got status %v", st)
	}
}

package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fairwayhq/fairway/tests/serveproc"
	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/translatortest"
)

// The churn soak's settings. The short run in `make test` churns for the
// two minutes the issue asks of it; FAIRWAY_SOAK_DURATION (`make soak DURATION=1h`) sets
// the churn phase of a long one.
const (
	soakDurationEnv   = "FAIRWAY_SOAK_DURATION"
	soakDefaultChurn  = 2 * time.Minute
	soakWarmUp        = 15 * time.Second
	soakEditsPerSec   = 10
	soakStreamEvery   = 300 * time.Millisecond
	soakResidentSotW  = 3
	soakResidentDelta = 3
	// soakHeapGrowth is how far the heap may end above its level after
	// the warm-up: the bound.
	soakHeapGrowth = 0.10
)

// TestChurnSoak: random Ingress, Service and EndpointSlice edits at a fixed
// rate while short-lived SotW and delta streams come and go beside a few
// resident ones. The churn then puts the objects back as they were after
// the warm-up: fairway publishes the same versions as then, its heap is
// back within 10% of its level then, its goroutines are back to their
// count, and every resident stream holds the final versions and
// resources.
func TestChurnSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the churn soak runs for minutes")
	}
	churnFor := soakDuration(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, churn for %v", seed, churnFor)
	dir := t.TempDir()
	ch := newChurn(t, dir, seed)
	f := startFairwayBin(t, soakBinary(t), 15*time.Second, "--manifests", dir)
	resident := openResident(t, f.xds, soakResidentSotW, soakResidentDelta)

	ch.run(t, f.xds, soakWarmUp)
	// The churn ends where it started, so that the heap is compared at the
	// same config (random configs differ in size by more than the bound).
	// /debug/snapshot is read before the heap too, so that whatever its
	// first use sets up is in both readings.
	start := ch.files(t)
	time.Sleep(2 * time.Second)
	startVersions := f.snapshot().Versions["envoy"]
	before := f.settledUsage(t, nil)
	edits0, streams0 := ch.edits.Load(), ch.opened.Load()
	ch.run(t, f.xds, churnFor)
	ch.restore(t, start)
	after := f.settledUsage(t, &before)
	if got := f.snapshot().Versions["envoy"]; !maps.Equal(got, startVersions) {
		t.Errorf("the config restored to the start's has versions %v, want the start's %v", got, startVersions)
	}

	if failed := ch.failed.Load(); failed > 0 {
		t.Errorf("%d of %d short-lived streams did not get their first config within 10 s", failed, ch.opened.Load())
	}
	checkFinalVersions(t, f, resident)
	growth := after.heap/before.heap - 1
	result := fmt.Sprintf("soak: %v of churn, %d edits (%d/s), %d short-lived streams, %d resident; heap %.1f -> %.1f MiB (%+.1f%%), goroutines %d -> %d, RSS %.0f -> %.0f MiB; every resident stream at the final versions",
		churnFor, ch.edits.Load()-edits0, soakEditsPerSec, ch.opened.Load()-streams0, len(resident),
		before.heap/(1<<20), after.heap/(1<<20), 100*growth, before.goroutines, after.goroutines, before.rssMiB, after.rssMiB)
	t.Log(result)
	if growth > soakHeapGrowth {
		t.Errorf("heap grew by %.1f%% over the churn (bound %.0f%%)", 100*growth, 100*soakHeapGrowth)
	}
	if after.goroutines > before.goroutines {
		t.Errorf("goroutines: %d after the churn, %d before", after.goroutines, before.goroutines)
	}
}

// soakBinary is fairway as it ships, without the race detector even when
// the tests have it: with it, the heap gauge grew by 14% (0.8 MiB) over
// a 75 s churn, against 1.3% to 3.0% in the soaks without it, and the
// heap is what the soak measures.
func soakBinary(t *testing.T) string {
	t.Helper()
	if !serveproc.Race {
		return fairwayBin
	}
	bin, err := serveproc.BuildAs(t.TempDir(), "fairway-norace", false)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// soakDuration is the churn phase: FAIRWAY_SOAK_DURATION, or the short
// run's.
func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv(soakDurationEnv)
	if v == "" {
		return soakDefaultChurn
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 1h", soakDurationEnv, v)
	}
	return d
}

// churn makes the soak's changes: object edits in a manifest directory,
// and short-lived streams.
type churn struct {
	dir    string
	u      *translatortest.Universe
	edits  atomic.Int64
	opened atomic.Int64
	failed atomic.Int64
	r      *mrand.Rand // stream lifetimes; used by the stream goroutine only
}

// newChurn writes what stays (fairway's IngressClass, the TLS Secrets the
// random Ingresses name) and a first population of random objects.
func newChurn(t *testing.T, dir string, seed uint64) *churn {
	t.Helper()
	certs := [2][2][]byte{translatortest.MustCertPair(t, "x.com"), translatortest.MustCertPair(t, "y.com")}
	ch := &churn{dir: dir, u: translatortest.NewUniverse(mrand.New(mrand.NewPCG(seed, 1)), certs), r: mrand.New(mrand.NewPCG(seed, 2))}
	class := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "fairway",
		Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}},
		Spec: networkingv1.IngressClassSpec{Controller: translator.DefaultIngressController}}
	writeManifest(t, filepath.Join(dir, "class.json"), "networking.k8s.io/v1", "IngressClass", class)
	for _, ns := range []string{"a", "b"} {
		for i, name := range []string{"s1", "s2", "s3"} {
			pair := certs[i%2]
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
				Data: map[string][]byte{corev1.TLSCertKey: pair[0], corev1.TLSPrivateKeyKey: pair[1]}}
			writeManifest(t, filepath.Join(dir, "secret-"+ns+"-"+name+".json"), "v1", "Secret", s)
		}
	}
	for range 60 {
		if err := ch.edit(); err != nil {
			t.Fatal(err)
		}
	}
	return ch
}

// edit adds, replaces or removes one random Ingress, Service or
// EndpointSlice (the universe's other kinds stay as written).
func (c *churn) edit() error {
	for {
		var in translator.Input
		obj, remove := c.u.Mutate(&in)
		var apiVersion, kind string
		switch obj.(type) {
		case *networkingv1.Ingress:
			apiVersion, kind = "networking.k8s.io/v1", "Ingress"
		case *corev1.Service:
			apiVersion, kind = "v1", "Service"
		case *discoveryv1.EndpointSlice:
			apiVersion, kind = "discovery.k8s.io/v1", "EndpointSlice"
		default:
			continue
		}
		m := obj.(metav1.Object)
		path := filepath.Join(c.dir, fmt.Sprintf("%s-%s-%s.json", kind, m.GetNamespace(), m.GetName()))
		c.edits.Add(1)
		if remove {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			return nil
		}
		return writeManifestFile(path, apiVersion, kind, obj)
	}
}

// churned reports whether a manifest file is one the churn edits.
func churned(name string) bool {
	for _, kind := range []string{"Ingress-", "Service-", "EndpointSlice-"} {
		if strings.HasPrefix(name, kind) {
			return true
		}
	}
	return false
}

// files are the churned manifests as they are now, by file name.
func (c *churn) files(t *testing.T) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if churned(e.Name()) {
			data, err := os.ReadFile(filepath.Join(c.dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = data
		}
	}
	return out
}

// restore puts the churned manifests back as files had them.
func (c *churn) restore(t *testing.T, files map[string][]byte) {
	t.Helper()
	for name := range c.files(t) {
		if _, keep := files[name]; !keep {
			if err := os.Remove(filepath.Join(c.dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, data := range files {
		writeFile(t, filepath.Join(c.dir, name), string(data))
	}
}

// run edits at the soak's rate and opens short-lived streams for d, then
// waits until every short-lived stream is closed.
func (c *churn) run(t *testing.T, xdsAddr string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var streams sync.WaitGroup
	edits := time.NewTicker(time.Second / soakEditsPerSec)
	defer edits.Stop()
	opens := time.NewTicker(soakStreamEvery)
	defer opens.Stop()
	for ctx.Err() == nil {
		select {
		case <-edits.C:
			if err := c.edit(); err != nil {
				t.Fatal(err)
			}
		case <-opens.C:
			n := c.opened.Add(1)
			life := 500*time.Millisecond + time.Duration(c.r.Int64N(int64(1500*time.Millisecond)))
			streams.Add(1)
			go func() {
				defer streams.Done()
				c.shortLived(xdsAddr, n, life)
			}()
		case <-ctx.Done():
		}
	}
	streams.Wait()
}

// shortLived opens a stream on a connection of its own (delta for every
// other one), holds it for life after its first fetch, and ends it: the
// stream alone, or the connection under it, as an Envoy that goes away
// does.
func (c *churn) shortLived(addr string, n int64, life time.Duration) {
	conn, err := dialFault(addr, nil)
	if err != nil {
		c.failed.Add(1)
		return
	}
	defer conn.Close()
	s, err := openFault(conn, n%2 == 0, fmt.Sprint("churn-", n), nil)
	if err != nil {
		c.failed.Add(1)
		return
	}
	if waitSynced([]*faultStream{s}, 10*time.Second) != nil {
		c.failed.Add(1)
	}
	time.Sleep(life)
	if n%3 == 0 {
		conn.Close() // the connection drops under the stream
	}
	s.Close()
}

// openResident opens the streams that stay for the whole soak, each on a
// connection of its own, and waits for their first fetch.
func openResident(t *testing.T, addr string, sotw, delta int) []*faultStream {
	t.Helper()
	var out []*faultStream
	for i := range sotw + delta {
		conn, err := dialFault(addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		s, err := openFault(conn, i >= sotw, fmt.Sprint("resident-", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		out = append(out, s)
	}
	if err := waitSynced(out, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkFinalVersions compares every stream with what fairway publishes:
// a fresh stream's first fetch gives the resources, /debug/snapshot the
// versions. A SotW stream must hold each type's version and the current
// resources (endpoints and routes come as changes, so it may also keep
// some that are gone: SotW never tells a wildcard of those); a delta
// stream must hold exactly the current resources.
func checkFinalVersions(t *testing.T, f *fairway, streams []*faultStream) {
	t.Helper()
	want := f.snapshot().Versions["envoy"]
	fresh := openResident(t, f.xds, 1, 0)[0]
	truth := fresh.state()
	for _, typeURL := range faultTypes {
		if got := truth.versions[typeURL]; got != want[typeName(typeURL)] {
			t.Fatalf("a fresh stream got %s version %s, /debug/snapshot says %s", typeURL, got, want[typeName(typeURL)])
		}
	}
	for _, s := range streams {
		var diff string
		deadline := time.Now().Add(10 * time.Second)
		for diff = s.differsFrom(truth); diff != "" && time.Now().Before(deadline); diff = s.differsFrom(truth) {
			time.Sleep(50 * time.Millisecond)
		}
		if diff != "" {
			t.Errorf("stream %s (delta %v) does not hold the final config: %s", s.node.GetId(), s.delta, diff)
		}
	}
}

// differsFrom says how the stream's state differs from truth, or "".
func (s *faultStream) differsFrom(truth *resumeState) string {
	st := s.state()
	for _, typeURL := range faultTypes {
		if !s.delta && st.versions[typeURL] != truth.versions[typeURL] {
			return fmt.Sprintf("%s version %s, want %s", typeURL, st.versions[typeURL], truth.versions[typeURL])
		}
		exact := s.delta || typeURL == faultTypes[0] || typeURL == faultTypes[2] // clusters, listeners come whole
		if exact && len(st.held[typeURL]) != len(truth.held[typeURL]) {
			return fmt.Sprintf("%s: holds %d resources, want %d", typeURL, len(st.held[typeURL]), len(truth.held[typeURL]))
		}
		for name, r := range truth.held[typeURL] {
			if string(st.held[typeURL][name].value) != string(r.value) {
				return fmt.Sprintf("%s %s differs or is missing", typeURL, name)
			}
		}
	}
	return ""
}

// typeName is the short type name /debug/snapshot uses.
func typeName(typeURL string) string {
	for i, name := range []string{"cluster", "endpoint", "listener", "route"} {
		if faultTypes[i] == typeURL {
			return name
		}
	}
	return typeURL
}

// usage is what the soak measures of fairway.
type usage struct {
	heap       float64 // the heap a forced GC marked live, in bytes
	goroutines int
	rssMiB     float64
}

// settledUsage waits for the streams that just closed to be gone from
// fairway (goroutines back to before's count, when given, within 20 s),
// then reads the heap and goroutines, the least of three readings each
// right after a forced GC.
func (f *fairway) settledUsage(t *testing.T, before *usage) usage {
	t.Helper()
	time.Sleep(2 * time.Second) // the last edits' debounce and publication
	if before != nil {
		deadline := time.Now().Add(20 * time.Second)
		for f.usage(t).goroutines > before.goroutines && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
	}
	u := f.usage(t)
	for range 2 {
		next := f.usage(t)
		u.heap, u.goroutines = min(u.heap, next.heap), min(u.goroutines, next.goroutines)
	}
	u.rssMiB = procStatusMiB(t, f.Cmd.Process.Pid, "VmRSS")
	return u
}

// usage forces a GC (the heap profile's gc=1) and reads the live heap
// and goroutine gauges in one scrape. The heap is go_gc_heap_live_bytes,
// what that GC marked live: go_memstats_heap_alloc_bytes also counts what
// was allocated after it, and the heap profile handler itself allocates a
// copy of every allocation site it has ever recorded, a set that only
// grows with run time: over a five-minute churn heap_alloc read this way
// went from 5.3 to 5.7 MiB (+7%) while the live heap went from 5.2 to 5.3
// (+1.6%). Neither is asked for gzipped: a gzip compressor is some
// 900 KiB, which the metrics handler keeps in a pool.
func (f *fairway) usage(t *testing.T) usage {
	t.Helper()
	if code, body := f.getPlain(t, "/debug/pprof/heap?gc=1&debug=1"); code != http.StatusOK {
		t.Fatalf("/debug/pprof/heap: %d %s", code, body)
	}
	code, body := f.getPlain(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	var u usage
	for _, line := range strings.Split(body, "\n") {
		name, value, _ := strings.Cut(line, " ")
		v, err := strconv.ParseFloat(value, 64)
		switch {
		case err != nil:
		case name == "go_gc_heap_live_bytes":
			u.heap = v
		case name == "go_goroutines":
			u.goroutines = int(v)
		}
	}
	if u.heap == 0 || u.goroutines == 0 {
		t.Fatalf("/metrics has no go_gc_heap_live_bytes or go_goroutines:\n%s", body)
	}
	return u
}

// getPlain fetches an admin path with Accept-Encoding: identity.
func (f *fairway) getPlain(t *testing.T, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+f.admin+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// writeManifest writes one object with its apiVersion and kind.
func writeManifest(t *testing.T, path, apiVersion, kind string, obj any) {
	t.Helper()
	if err := writeManifestFile(path, apiVersion, kind, obj); err != nil {
		t.Fatal(err)
	}
}

// writeManifestFile writes aside and renames, so the watcher never reads
// half a file.
func writeManifestFile(path, apiVersion, kind string, obj any) error {
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	data := append([]byte(fmt.Sprintf(`{"apiVersion":%q,"kind":%q,`, apiVersion, kind)), body[1:]...)
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

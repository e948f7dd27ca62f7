// Package load is the fan-out load test: a real fairway serve on a
// generated workload, N real ADS clients on loopback (SotW and delta, like
// Envoys: clusters, endpoints by name, listeners, the route table, every
// response ACKed), changes applied to the manifests, and the time until
// every client has each change.
package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/tests/serveproc"
	"github.com/fairwayhq/fairway/tests/workload"
)

// Config is one load run.
type Config struct {
	FairwayBin string
	Scale      workload.Scale
	Streams    int
	// DeltaEvery makes every n-th stream delta (2: half); 0: all SotW.
	DeltaEvery int
	// Changes is how many Ingress changes and endpoint changes to make.
	Changes int
	Log     io.Writer
	// CPUProfile, when set, is where fairway's CPU profile over the
	// changes is written (from its /debug/pprof).
	CPUProfile string
	// MaxStreams is fairway's --max-streams. 0 is no cap: the bench
	// measures one replica holding every stream. Streams over a cap are
	// refused, counted in the report, and left out of the measurements.
	MaxStreams int
}

// Report is what a run measured.
type Report struct {
	Scale          string
	Streams, Delta int
	// Refused is how many streams fairway refused at its cap (their
	// clients saw RESOURCE_EXHAUSTED); ServerRefused is what fairway's
	// fairway_xds_refused_streams_total{reason="max_streams"} counted. The
	// changes are measured on the streams admitted, Streams - Refused.
	Refused, ServerRefused int
	Ingress                Convergence
	Endpoint               Convergence
	// TLSHost (TLS scales) is one Ingress added with a new host under an
	// existing wildcard certificate.
	TLSHost Convergence
	// RSSMiB is fairway's resident set with every stream connected and
	// synced; PeakRSSMiB its high-water mark over the run.
	RSSMiB, PeakRSSMiB float64
	// CPUSeconds is fairway's CPU time over the changes.
	CPUSeconds float64
	// Startup is from start until every stream had its initial config.
	Startup time.Duration
}

// Convergence is, over every change and stream, how long after the change
// was written the stream had it, and the bytes each stream got per change.
type Convergence struct {
	P50, P99, Max       time.Duration
	BytesPerStream      float64
	SotWBytesPerStream  float64
	DeltaBytesPerStream float64
}

// Run performs one load run.
func Run(ctx context.Context, cfg Config) (Report, error) {
	rep := Report{Scale: cfg.Scale.Name, Streams: cfg.Streams}
	dir, err := os.MkdirTemp("", "fairway-load")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	in := workload.Generate(cfg.Scale)
	ing := in.Ingresses[len(in.Ingresses)/2]
	slice := in.EndpointSlices[len(in.EndpointSlices)/3]
	if err := writeManifests(dir, in, []any{ing, slice}); err != nil {
		return rep, err
	}
	start := time.Now()
	args := []string{"--manifests", dir, "--max-streams", strconv.Itoa(cfg.MaxStreams)}
	if cfg.Scale.SSLRedirect {
		args = append(args, "--ssl-redirect")
	}
	fw, err := startFairway(cfg.FairwayBin, args, cfg.Log)
	if err != nil {
		return rep, err
	}
	defer fw.stop()
	clients, err := connect(ctx, fw.XDS, cfg)
	if err != nil {
		return rep, err
	}
	rep.Startup = time.Since(start)
	// A copy: DeleteFunc clears the tail, which the clients' goroutines
	// still read.
	clients = slices.DeleteFunc(slices.Clone(clients), func(c *client) bool { return c.refused })
	rep.Refused = cfg.Streams - len(clients)
	for _, c := range clients {
		if c.delta {
			rep.Delta++
		}
	}
	if rep.ServerRefused, err = fw.refusedAtCap(); err != nil {
		return rep, err
	}
	rep.RSSMiB = fw.rssMiB("VmRSS")
	cpu0 := fw.cpuSeconds()
	profiled := make(chan error, 1)
	if cfg.CPUProfile != "" {
		go func() { profiled <- fw.profile(cfg.CPUProfile, 30*time.Second) }()
	} else {
		profiled <- nil
	}
	if err := makeChanges(clients, dir, cfg, ing, slice, &rep); err != nil {
		return rep, err
	}
	rep.CPUSeconds = fw.cpuSeconds() - cpu0
	if err := <-profiled; err != nil {
		return rep, fmt.Errorf("cpu profile: %w", err)
	}
	rep.PeakRSSMiB = fw.rssMiB("VmHWM")
	return rep, nil
}

// makeChanges makes cfg.Changes rounds of changes and measures each: a
// path added to ing, an endpoint of slice moved, and on the TLS scales a
// host added under ing's wildcard certificate.
func makeChanges(clients []*client, dir string, cfg Config, ing *networkingv1.Ingress, slice *discoveryv1.EndpointSlice, rep *Report) error {
	var ingress, endpoint, tlsHost convergence
	for i := range cfg.Changes {
		edited := ing.DeepCopy()
		edited.Spec.Rules[0].HTTP.Paths = append(edited.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{
			Path: fmt.Sprintf("/load-%d", i), PathType: ing.Spec.Rules[0].HTTP.Paths[0].PathType, Backend: ing.Spec.Rules[0].HTTP.Paths[0].Backend,
		})
		if err := measure(clients, filepath.Join(dir, "change-0.json"), edited, firstOf(resourcev3.RouteType), &ingress); err != nil {
			return fmt.Errorf("ingress change %d: %w", i, err)
		}
		moved := slice.DeepCopy()
		moved.Endpoints[0].Addresses[0] = fmt.Sprintf("172.31.%d.%d", i/250, i%250+1)
		if err := measure(clients, filepath.Join(dir, "change-1.json"), moved, firstOf(resourcev3.EndpointType), &endpoint); err != nil {
			return fmt.Errorf("endpoint change %d: %w", i, err)
		}
		if cfg.Scale.HostsPerSecret == 0 {
			continue
		}
		// A new host ends with its route table: after the listener, when
		// the listener names a table of its own.
		added := filepath.Join(dir, fmt.Sprintf("added-%d.json", i))
		if err := measure(clients, added, workload.AddedTLSHost(ing, i), routeAfterListener, &tlsHost); err != nil {
			return fmt.Errorf("TLS host addition %d: %w", i, err)
		}
	}
	rep.Ingress, rep.Endpoint, rep.TLSHost = ingress.result(), endpoint.result(), tlsHost.result()
	return nil
}

// connect starts the clients and waits until each has its initial config
// or was refused at fairway's cap.
func connect(ctx context.Context, addr string, cfg Config) ([]*client, error) {
	clients := make([]*client, cfg.Streams)
	var synced sync.WaitGroup
	errc := make(chan error, cfg.Streams)
	for i := range clients {
		clients[i] = newClient(i, cfg.DeltaEvery > 0 && i%cfg.DeltaEvery == cfg.DeltaEvery-1)
		synced.Add(1)
		go func() {
			var once sync.Once
			done := func() { once.Do(synced.Done) }
			if err := clients[i].run(ctx, addr, done); err != nil && !clients[i].refused {
				errc <- fmt.Errorf("stream %d: %w", i, err)
			}
			done()
		}()
	}
	wait := make(chan struct{})
	go func() { synced.Wait(); close(wait) }()
	select {
	case <-wait:
	case err := <-errc:
		return nil, err
	case <-time.After(5 * time.Minute):
		return nil, errors.New("streams did not sync within 5 minutes")
	}
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	return clients, nil
}

// arrival finds, in a stream's events since a change, when the change
// reached it.
type arrival func(events []event) (time.Time, bool)

// measure writes a change and waits until it has arrived at every client,
// then a quiet second for the bytes that follow it.
func measure(clients []*client, path string, obj any, arrived arrival, conv *convergence) error {
	t0 := time.Now()
	if err := writeObject(path, obj); err != nil {
		return err
	}
	deadline := t0.Add(2 * time.Minute)
	latencies := make([]time.Duration, len(clients))
	for i, c := range clients {
		for {
			if at, ok := arrived(c.since(t0)); ok {
				latencies[i] = at.Sub(t0)
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("stream %d did not get the change within 2 minutes", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(time.Second)
	var sotwBytes, deltaBytes, sotwN, deltaN float64
	for _, c := range clients {
		n := 0
		for _, e := range c.since(t0) {
			n += e.size
		}
		if c.delta {
			deltaBytes, deltaN = deltaBytes+float64(n), deltaN+1
		} else {
			sotwBytes, sotwN = sotwBytes+float64(n), sotwN+1
		}
	}
	conv.add(latencies, sotwBytes, sotwN, deltaBytes, deltaN)
	return nil
}

// firstOf: the change arrived with the first response of typeURL.
func firstOf(typeURL string) arrival {
	return func(events []event) (time.Time, bool) {
		for _, e := range events {
			if e.typeURL == typeURL {
				return e.at, true
			}
		}
		return time.Time{}, false
	}
}

// routeAfterListener: a host added is served once the listener with its
// chain and then the chain's table are in, so it arrived with the first
// route response after a listener response. Any route response would not
// do: the http table changes too, and reaches a stream before the (much
// larger) listener does, so the step would end, and the next one start,
// while listeners are still on their way.
func routeAfterListener(events []event) (time.Time, bool) {
	for i, e := range events {
		if e.typeURL == resourcev3.ListenerType {
			return firstOf(resourcev3.RouteType)(events[i+1:])
		}
	}
	return time.Time{}, false
}

// convergence accumulates one kind of change over the run.
type convergence struct {
	latencies                  []time.Duration
	sotw, delta, sotwN, deltaN float64
}

func (c *convergence) add(lat []time.Duration, sotw, sotwN, delta, deltaN float64) {
	c.latencies = append(c.latencies, lat...)
	c.sotw, c.sotwN, c.delta, c.deltaN = c.sotw+sotw, c.sotwN+sotwN, c.delta+delta, c.deltaN+deltaN
}

func (c *convergence) result() Convergence {
	var r Convergence
	if len(c.latencies) == 0 {
		return r
	}
	slices.Sort(c.latencies)
	pick := func(q float64) time.Duration {
		return c.latencies[min(len(c.latencies)-1, int(q*float64(len(c.latencies))))]
	}
	r.P50, r.P99, r.Max = pick(0.50), pick(0.99), c.latencies[len(c.latencies)-1]
	if c.sotwN > 0 {
		r.SotWBytesPerStream = c.sotw / c.sotwN
	}
	if c.deltaN > 0 {
		r.DeltaBytesPerStream = c.delta / c.deltaN
	}
	r.BytesPerStream = (c.sotw + c.delta) / (c.sotwN + c.deltaN)
	return r
}

// fairway is the serve process under load.
type fairway struct{ *serveproc.Process }

func startFairway(bin string, args []string, logw io.Writer) (*fairway, error) {
	p, err := serveproc.Start(bin, args, 5*time.Minute, func(line string) {
		var e struct {
			Level string `json:"@level"`
		}
		if logw != nil && json.Unmarshal([]byte(line), &e) == nil && e.Level != "debug" && e.Level != "trace" {
			fmt.Fprintln(logw, line)
		}
	})
	if err != nil {
		return nil, err
	}
	if logw != nil {
		fmt.Fprintf(logw, "fairway pid %d: xds %s, admin %s\n", p.Cmd.Process.Pid, p.XDS, p.Admin)
	}
	return &fairway{p}, nil
}

// profile saves fairway's CPU profile over the next d.
func (f *fairway) profile(path string, d time.Duration) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", f.Admin, int(d.Seconds())))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	_, err = io.Copy(out, resp.Body)
	return err
}

// refusedAtCap reads fairway's count of streams refused at its cap.
func (f *fairway) refusedAtCap() (int, error) {
	resp, err := http.Get("http://" + f.Admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	const series = `fairway_xds_refused_streams_total{reason="max_streams"} `
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series); ok {
			n, err := strconv.ParseFloat(v, 64)
			return int(n), err
		}
	}
	return 0, fmt.Errorf("/metrics has no %s", strings.TrimSpace(series))
}

func (f *fairway) stop() { _, _ = f.Stop(15 * time.Second) }

// rssMiB reads a VmRSS or VmHWM line of /proc/<pid>/status.
func (f *fairway) rssMiB(field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", f.Cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuSeconds is the user and system time of the process so far.
func (f *fairway) cpuSeconds() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", f.Cmd.Process.Pid))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data)[strings.LastIndexByte(string(data), ')')+2:])
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

package xds

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

// The stream memory measurement: fairway serves the large workload
// in-process, and a child process (this test binary again, so that the
// clients' own memory is not counted) opens STREAMMEM_N SotW and as many
// delta ADS streams that subscribe as Envoy does: every cluster and
// listener, then every endpoint assignment, route table and secret by
// name, ACKing each response. The test reports the live heap per stream
// once every stream has everything, and the peak while they all fetch at
// once.
//
//	STREAMMEM_N=500 STREAMMEM_SCALE=large-tls STREAMMEM_PROFILE=/tmp/heap.pprof \
//	  go test -run TestStreamMemory -v ./xds/
//
// STREAMMEM_PARTIAL=1 subscribes to all endpoint assignments and route
// tables but one, so that every response is encoded for its stream, and
// STREAMMEM_FULLSENDS sets the bound on those (-1: none).
//
// then go tool pprof -sample_index=inuse_space -top /tmp/heap.pprof, and
// -sample_index=alloc_space -diff_base /tmp/heap.pprof.base for what the
// fetch allocated.
func TestStreamMemory(t *testing.T) {
	if os.Getenv("STREAMMEM_CHILD") != "" {
		streamMemClients(t)
		return
	}
	if testing.Short() {
		t.Skip("the large workload and its streams take seconds")
	}
	n := envInt("STREAMMEM_N", 20)
	scale := workload.Large
	if os.Getenv("STREAMMEM_SCALE") == "large-tls" {
		scale = workload.LargeTLS
	}
	e := translator.NewEngine(benchOptions(scale))
	e.Sync(workload.Generate(scale))
	p := NewPublisher(GroupByNone, hclog.NewNullLogger(), NewMetrics())
	if err := p.Publish(e.Output()); err != nil {
		t.Fatal(err)
	}
	names := subscribedNames(p.Cache())
	if os.Getenv("STREAMMEM_PARTIAL") != "" {
		// All but one: no response is a type's shared list, each is
		// encoded for its stream (what the full-send bound is for).
		names.Endpoints, names.Routes = names.Endpoints[1:], names.Routes[1:]
	}
	e = nil
	srv := startMeasuredServer(t, p)

	before := liveHeapBytes()
	if path := os.Getenv("STREAMMEM_PROFILE"); path != "" {
		writeHeapProfile(t, path+".base") // for -diff_base: what the fetch allocated
	}
	peak := newPeakSampler()
	child, synced := startStreamMemClients(t, srv.Addr().String(), n, names)
	start := time.Now()
	<-synced
	elapsed := time.Since(start)
	peakHeap, peakRSS := peak.stop()
	after := liveHeapBytes()
	streams := 2 * n
	t.Logf("%s, %d streams (%d SotW, %d delta): fetched in %v", scale.Name, streams, n, n, elapsed.Round(time.Millisecond))
	t.Logf("live heap: %.1f MiB before, %.1f MiB after: %.1f KiB per stream", mib(before), mib(after), float64(after-before)/float64(streams)/1024)
	t.Logf("peak while fetching: heap %.1f MiB (%.1f MiB over the live heap before), RSS high-water %.1f MiB", mib(peakHeap), mib(peakHeap-before), mib(peakRSS))
	if path := os.Getenv("STREAMMEM_PROFILE"); path != "" {
		writeHeapProfile(t, path)
	}
	if after < before {
		t.Errorf("the live heap shrank with %d streams open: the measurement measured nothing", streams)
	}
	child.Process.Kill()
	child.Wait()
	runtime.KeepAlive(p)
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// streamMemNames are what an Envoy subscribes to by name.
type streamMemNames struct {
	Endpoints, Routes, Secrets []string
}

func subscribedNames(c *Cache) streamMemNames {
	res := c.Resources(false)
	var n streamMemNames
	for _, r := range res[translator.KindEndpoint] {
		n.Endpoints = append(n.Endpoints, r.Name)
	}
	for _, r := range res[translator.KindRoute] {
		n.Routes = append(n.Routes, r.Name)
	}
	for _, r := range res[translator.KindSecret] {
		n.Secrets = append(n.Secrets, r.Name)
	}
	return n
}

func startMeasuredServer(t *testing.T, p *Publisher) *Server {
	t.Helper()
	nodes := NewNodes(p, hclog.NewNullLogger(), p.metrics)
	ctx, cancel := context.WithCancel(context.Background())
	full, _ := strconv.Atoi(os.Getenv("STREAMMEM_FULLSENDS")) // 0: the default, -1: no bound
	srv, err := NewServer(ctx, ServerConfig{Address: "127.0.0.1:0", ShutdownTimeout: time.Second, MaxFullSends: full}, p, nodes, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	close(ready)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ready) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return srv
}

// liveHeapBytes is the heap that survives a collection.
func liveHeapBytes() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peakSampler follows the heap's objects (live and not yet swept) and
// resets the kernel's RSS high-water mark, to read both peaks.
type peakSampler struct {
	done chan struct{}
	peak atomic.Uint64
	wg   sync.WaitGroup
}

func newPeakSampler() *peakSampler {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	p := &peakSampler{done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > p.peak.Load() {
				p.peak.Store(v)
			}
			select {
			case <-p.done:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *peakSampler) stop() (heap, rss uint64) {
	close(p.done)
	p.wg.Wait()
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			rss = kb << 10
		}
	}
	return p.peak.Load(), rss
}

func writeHeapProfile(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("heap profile: go tool pprof -sample_index=inuse_space -top %s", path)
}

// startStreamMemClients runs the clients in a child process; synced is
// closed when all of them have fetched everything.
func startStreamMemClients(t *testing.T, addr string, n int, names streamMemNames) (*exec.Cmd, chan struct{}) {
	t.Helper()
	file := t.TempDir() + "/names.json"
	b, err := json.Marshal(names)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStreamMemory$", "-test.v")
	cmd.Env = append(os.Environ(), "STREAMMEM_CHILD="+addr, "STREAMMEM_NAMES="+file, "STREAMMEM_N="+strconv.Itoa(n))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	synced := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "STREAMMEM synced") {
				close(synced)
			} else if strings.Contains(sc.Text(), "FAIL") || strings.Contains(sc.Text(), "streammem:") {
				t.Log("client: " + sc.Text())
			}
		}
	}()
	return cmd, synced
}

// streamMemClients is the child: it opens the streams, says when they
// are all synced, and holds them until it is killed.
func streamMemClients(t *testing.T) {
	var names streamMemNames
	b, err := os.ReadFile(os.Getenv("STREAMMEM_NAMES"))
	if err == nil {
		err = json.Unmarshal(b, &names)
	}
	if err != nil {
		t.Fatal(err)
	}
	n := envInt("STREAMMEM_N", 1)
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := streamMemClient(os.Getenv("STREAMMEM_CHILD"), i, i%2 == 1, names); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Println("streammem:", err)
		os.Exit(1)
	}
	fmt.Println("STREAMMEM synced")
	select {}
}

// streamMemClient fetches like Envoy: clusters, endpoints, listeners,
// routes, secrets, each ACKed with the names it wants. The stream stays
// open (and its connection with it) after the function returns.
func streamMemClient(addr string, id int, delta bool, names streamMemNames) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(memRawCodec{encoding.GetCodecV2("proto")}), grpc.MaxCallRecvMsgSize(1<<30)))
	if err != nil {
		return err
	}
	method := "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
	if delta {
		method = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"
	}
	stream, err := conn.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
	if err != nil {
		return err
	}
	node := &corev3.Node{Id: fmt.Sprintf("mem-%d", id), Cluster: "fleet"}
	for _, sub := range []struct {
		url   string
		names []string
	}{{resourcev3.ClusterType, nil}, {resourcev3.EndpointType, names.Endpoints}, {resourcev3.ListenerType, nil}, {resourcev3.RouteType, names.Routes}, {resourcev3.SecretType, names.Secrets}} {
		if sub.names != nil && len(sub.names) == 0 {
			continue
		}
		if err := fetchType(stream, node, delta, sub.url, sub.names); err != nil {
			return fmt.Errorf("stream %d, %s: %w", id, typeName(sub.url), err)
		}
	}
	go func() { // drain later responses, ACKing nothing: nothing changes
		for {
			var r memResponse
			if stream.RecvMsg(&r) != nil {
				return
			}
		}
	}()
	return nil
}

// fetchType subscribes to a type and ACKs its responses until one of that
// type arrives (ordered ADS may send others first).
func fetchType(stream grpc.ClientStream, node *corev3.Node, delta bool, url string, names []string) error {
	var req any = &discoveryv3.DiscoveryRequest{Node: node, TypeUrl: url, ResourceNames: names}
	if delta {
		req = &discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: url, ResourceNamesSubscribe: names}
	}
	if err := stream.SendMsg(req); err != nil {
		return err
	}
	for {
		var r memResponse
		if err := stream.RecvMsg(&r); err != nil {
			return err
		}
		ack := any(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: r.typeURL, ResourceNames: names, VersionInfo: r.version, ResponseNonce: r.nonce})
		if delta {
			ack = &discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: r.typeURL, ResponseNonce: r.nonce}
		}
		if err := stream.SendMsg(ack); err != nil {
			return err
		}
		if r.typeURL == url {
			return nil
		}
	}
}

// memResponse is what a client keeps of a response: not its resources.
type memResponse struct{ version, typeURL, nonce string }

// memRawCodec decodes responses into memResponse.
type memRawCodec struct{ proto encoding.CodecV2 }

func (memRawCodec) Name() string { return "proto" }

func (c memRawCodec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }

// Both response messages have the version as field 1, the type URL as
// field 4 and the nonce as field 5.
func (c memRawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	r, ok := v.(*memResponse)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	b := data.Materialize()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return protowire.ParseError(m)
		}
		if typ == protowire.BytesType {
			val, _ := protowire.ConsumeBytes(b)
			switch num {
			case 1:
				r.version = string(val)
			case 4:
				r.typeURL = string(val)
			case 5:
				r.nonce = string(val)
			}
		}
		b = b[m:]
	}
	return nil
}

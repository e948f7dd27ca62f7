package xds

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/hashicorp/go-hclog"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

// benchOptions are serve's defaults.
var benchOptions = translator.Options{Proxyless: os.Getenv("BENCH_NO_PROXYLESS") == ""}

// BenchmarkPublish measures what serve does per change, translation and
// publication to the xDS cache together, at both scales of the workload:
//   - cold: a new engine translates everything and publishes it;
//   - ingress: one Ingress changes (a path added), and the new snapshot
//     is published;
//   - endpoint: one endpoint of one Service changes, and EDS is published.
//
// cold also reports live-heap-MiB: the heap after a collection, with the
// input, the engine and the published cache held, which is what a running
// fairway keeps.
func BenchmarkPublish(b *testing.B) {
	for _, scale := range []workload.Scale{workload.Small, workload.Large} {
		in := workload.Generate(scale)
		b.Run(scale.Name+"/cold", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				coldPublish(b, in)
			}
			e, p := coldPublish(b, in)
			b.ReportMetric(float64(liveHeap())/(1<<20), "live-heap-MiB")
			runtime.KeepAlive(e)
			runtime.KeepAlive(p)
			runtime.KeepAlive(in)
		})
		b.Run(scale.Name+"/ingress", func(b *testing.B) {
			e, p := coldPublish(b, in)
			orig := in.Ingresses[len(in.Ingresses)/2]
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ing := orig.DeepCopy()
				ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{
					Path: fmt.Sprintf("/v%d", i), PathType: orig.Spec.Rules[0].HTTP.Paths[0].PathType, Backend: orig.Spec.Rules[0].HTTP.Paths[0].Backend,
				})
				i++
				publishChange(b, e, p, ing)
			}
		})
		b.Run(scale.Name+"/endpoint", func(b *testing.B) {
			e, p := coldPublish(b, in)
			orig := in.EndpointSlices[len(in.EndpointSlices)/2]
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				es := orig.DeepCopy()
				es.Endpoints[0].Addresses[0] = fmt.Sprintf("172.16.%d.%d", i/250%250, i%250)
				i++
				publishChange(b, e, p, es)
			}
		})
	}
}

func coldPublish(b testing.TB, in translator.Input) (*translator.Engine, *Publisher) {
	e := translator.NewEngine(benchOptions)
	e.Sync(in)
	p := NewPublisher(GroupByNone, hclog.NewNullLogger(), NewMetrics())
	if err := p.Publish(e.Output()); err != nil {
		b.Fatal(err)
	}
	return e, p
}

func publishChange(b testing.TB, e *translator.Engine, p *Publisher, obj any) {
	if err := e.Upsert(obj); err != nil {
		b.Fatal(err)
	}
	if err := p.Publish(e.Output()); err != nil {
		b.Fatal(err)
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

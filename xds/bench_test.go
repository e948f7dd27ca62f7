package xds

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/hashicorp/go-hclog"
	networkingv1 "k8s.io/api/networking/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

// benchOptions are serve's defaults, with the flags the scale runs with:
// proxyless resources on demand, and no proxyless client asks.
// BENCH_NO_PROXYLESS=1 measures without proxyless at all;
// BENCH_PROXYLESS_ALL=1 with every proxyless resource built, as if a
// client had asked for every Service and host.
func benchOptions(s workload.Scale) translator.Options {
	return translator.Options{Proxyless: os.Getenv("BENCH_NO_PROXYLESS") == "", ProxylessOnDemand: os.Getenv("BENCH_PROXYLESS_ALL") == "", SSLRedirect: s.SSLRedirect}
}

// benchScales are the workloads measured: small, large and large with TLS
// everywhere; BENCH_SCALE=huge measures the ten times larger ones instead
// (make bench SCALE=huge), which need a few GB and minutes.
func benchScales() []workload.Scale {
	if os.Getenv("BENCH_SCALE") == "huge" {
		return []workload.Scale{workload.Huge, workload.HugeTLS}
	}
	return []workload.Scale{workload.Small, workload.Large, workload.LargeTLS, workload.LargeGateway}
}

// BenchmarkPublish measures what serve does per change, translation and
// publication to the xDS cache together, at both scales of the workload:
//   - cold: a new engine translates everything and publishes it;
//   - ingress: one Ingress changes (a path added), and the new snapshot
//     is published;
//   - endpoint: one endpoint of one Service changes, and EDS is published;
//   - tlshost (TLS scales): one Ingress with a new host under an existing
//     wildcard certificate is added, and the new snapshot is published.
//
// cold also reports live-heap-MiB: the heap after a collection, with the
// input, the engine and the published cache held, which is what a running
// fairway keeps; on the TLS scales also https-listener-B, the size of the
// https listener, which a TLS host added or removed may re-send.
func BenchmarkPublish(b *testing.B) {
	for _, scale := range benchScales() {
		in := workload.Generate(scale)
		b.Run(scale.Name+"/cold", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				coldPublish(b, scale, in)
			}
			e, p := coldPublish(b, scale, in)
			b.ReportMetric(float64(liveHeap())/(1<<20), "live-heap-MiB")
			if scale.HostsPerSecret > 0 {
				b.ReportMetric(float64(len(e.Output().Envoy.Get(translator.KindListener, envoy.HTTPSListenerName).Bytes)), "https-listener-B")
			}
			b.ReportMetric(float64(len(e.Output().Envoy.Get(translator.KindRoute, envoy.HTTPRouteConfig).Bytes)), "http-table-B")
			runtime.KeepAlive(e)
			runtime.KeepAlive(p)
			runtime.KeepAlive(in)
		})
		if scale.HTTPRoutes > 0 {
			b.Run(scale.Name+"/httproute", func(b *testing.B) { benchHTTPRouteChange(b, scale, in) })
		}
		if len(in.Ingresses) == 0 {
			continue
		}
		b.Run(scale.Name+"/ingress", func(b *testing.B) {
			e, p := coldPublish(b, scale, in)
			orig := in.Ingresses[len(in.Ingresses)/2]
			pathAdded := func(i int) *networkingv1.Ingress {
				ing := orig.DeepCopy()
				ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{
					Path: fmt.Sprintf("/v%d", i), PathType: orig.Spec.Rules[0].HTTP.Paths[0].PathType, Backend: orig.Spec.Rules[0].HTTP.Paths[0].Backend,
				})
				return ing
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				publishChange(b, e, p, pathAdded(i))
				i++
			}
			resent, http := resentBytes(b, e, p, pathAdded(i))
			b.ReportMetric(float64(resent), "resent-B")
			b.ReportMetric(float64(http), "resent-http-B")
		})
		b.Run(scale.Name+"/endpoint", func(b *testing.B) {
			e, p := coldPublish(b, scale, in)
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
		if scale.HostsPerSecret > 0 {
			b.Run(scale.Name+"/tlshost", func(b *testing.B) {
				e, p := coldPublish(b, scale, in)
				orig := in.Ingresses[len(in.Ingresses)/2]
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					publishChange(b, e, p, workload.AddedTLSHost(orig, i))
					i++
				}
				resent, http := resentBytes(b, e, p, workload.AddedTLSHost(orig, i))
				b.ReportMetric(float64(resent), "resent-B")
				b.ReportMetric(float64(http), "resent-http-B")
			})
		}
	}
}

func coldPublish(b testing.TB, scale workload.Scale, in translator.Input) (*translator.Engine, *Publisher) {
	e := translator.NewEngine(benchOptions(scale))
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

// resentBytes publishes one more change and measures the fleet resources
// whose bytes it changed: what a stream that holds them all is sent again
// (the resources' own bytes, without the response's envelope), and of
// that the http route table's.
func resentBytes(b testing.TB, e *translator.Engine, p *Publisher, obj any) (total, http int) {
	before := map[translator.Kind]map[string]*translator.Resource{}
	for k := range translator.NumKinds {
		before[k] = map[string]*translator.Resource{}
		for _, r := range e.Output().Envoy.Sorted(k) {
			before[k][r.Name] = r
		}
	}
	publishChange(b, e, p, obj)
	for k := range translator.NumKinds {
		for _, r := range e.Output().Envoy.Sorted(k) {
			if old := before[k][r.Name]; old == nil || old.Hash != r.Hash || string(old.Bytes) != string(r.Bytes) {
				total += len(r.Bytes)
				if k == translator.KindRoute && r.Name == envoy.HTTPRouteConfig {
					http = len(r.Bytes)
				}
			}
		}
	}
	return total, http
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// benchHTTPRouteChange measures one HTTPRoute changing (a rule added)
// and the new snapshot published, as the ingress case does for an
// Ingress.
func benchHTTPRouteChange(b *testing.B, scale workload.Scale, in translator.Input) {
	e, p := coldPublish(b, scale, in)
	orig := in.HTTPRoutes[len(in.HTTPRoutes)/2]
	ruleAdded := func(i int) *gatewayv1.HTTPRoute {
		r := orig.DeepCopy()
		rule := *r.Spec.Rules[0].DeepCopy()
		v := fmt.Sprintf("/v%d", i)
		rule.Matches[0].Path.Value = &v
		r.Spec.Rules = append(r.Spec.Rules, rule)
		return r
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		publishChange(b, e, p, ruleAdded(i))
		i++
	}
	resent, http := resentBytes(b, e, p, ruleAdded(i))
	b.ReportMetric(float64(resent), "resent-B")
	b.ReportMetric(float64(http), "resent-http-B")
}

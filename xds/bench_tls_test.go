package xds

import (
	"fmt"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

// BenchmarkTLSHostChange measures, on the large TLS workload with
// --ssl-redirect, what one Ingress change costs now that each TLS host has
// its own chain and route configuration: per path change, the bytes of
// the https resources and of the http table that change (what every
// stream is sent); per host added, the listener's new size. ns/op is the
// translation and publication of one path change. BenchmarkPublish's
// large-tls cases measure the cold build, its heap and a host's cost in
// time; this one adds the bytes.
func BenchmarkTLSHostChange(b *testing.B) {
	in := workload.Generate(workload.LargeTLS)
	e := translator.NewEngine(benchOptions(workload.LargeTLS))
	e.Sync(in)
	c := NewCache(GroupByNone)
	out := e.Output()
	if out.Err != nil {
		b.Fatal(out.Err)
	}
	c.Apply(out.Envoy, out.Proxyless, out.Envoy.TakeChanges(), out.Proxyless.TakeChanges())
	listener := len(out.Envoy.Get(translator.KindListener, envoy.HTTPSListenerName).Bytes)
	orig := in.Ingresses[len(in.Ingresses)/2]
	var https, http, other int
	i := 0
	for b.Loop() {
		ing := orig.DeepCopy()
		ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{
			Path: fmt.Sprintf("/v%d", i), PathType: orig.Spec.Rules[0].HTTP.Paths[0].PathType, Backend: orig.Spec.Rules[0].HTTP.Paths[0].Backend,
		})
		i++
		if err := e.Upsert(ing); err != nil {
			b.Fatal(err)
		}
		out := e.Output()
		changes := out.Envoy.TakeChanges()
		for k, names := range changes {
			for _, name := range names {
				r := out.Envoy.Get(translator.Kind(k), name)
				switch {
				case r == nil:
				case translator.Kind(k) == translator.KindRoute && name == envoy.HTTPRouteConfig:
					http += len(r.Bytes)
				case translator.Kind(k) == translator.KindRoute:
					https += len(r.Bytes)
				default:
					other += len(r.Bytes)
				}
			}
		}
		c.Apply(out.Envoy, out.Proxyless, changes, out.Proxyless.TakeChanges())
	}
	b.ReportMetric(float64(listener)/1024, "https-listener-KiB")
	b.ReportMetric(float64(https)/float64(i), "https-route-B/change")
	b.ReportMetric(float64(http)/float64(i), "http-route-B/change")
	b.ReportMetric(float64(other)/float64(i), "other-B/change")

	// A host added: its Ingress, with a certificate, changes the listener.
	if err := e.Upsert(workload.AddedTLSHost(orig, 0)); err != nil {
		b.Fatal(err)
	}
	out = e.Output()
	b.ReportMetric(float64(len(out.Envoy.Get(translator.KindListener, envoy.HTTPSListenerName).Bytes)-listener), "listener-B/host-added")
}

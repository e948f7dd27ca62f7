package xds

import (
	"fmt"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/translatortest"
)

// tlsWorkload is the large workload with a certificate on every Ingress,
// as most clusters run: one wildcard Secret per namespace, shared by that
// namespace's hosts (200 at the large scale).
func tlsWorkload(b *testing.B, scale workload.Scale) translator.Input {
	in := workload.Generate(scale)
	pair := translatortest.MustCertPair(b, "*.example.com")
	for n := range scale.Namespaces {
		in.Secrets = append(in.Secrets, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "wildcard", Namespace: fmt.Sprintf("ns-%d", n)},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: pair[0], corev1.TLSPrivateKeyKey: pair[1]},
		})
	}
	for i, ing := range in.Ingresses {
		ing = ing.DeepCopy()
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{ing.Spec.Rules[0].Host}, SecretName: "wildcard"}}
		in.Ingresses[i] = ing
	}
	return in
}

// BenchmarkTLSHostChange measures, on the large TLS workload with
// --ssl-redirect, what one Ingress change costs now that each TLS host has
// its own chain and route configuration: per path change, the bytes of
// the https resources and of the http table that change (what every
// stream is sent); per host added, the listener's new size. ns/op is the
// translation and publication of one path change.
func BenchmarkTLSHostChange(b *testing.B) {
	in := tlsWorkload(b, workload.Large)
	opts := benchOptions
	opts.SSLRedirect = true
	e := translator.NewEngine(opts)
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
	added := orig.DeepCopy()
	added.Name, added.Spec.Rules[0].Host = "added", "added.example.com"
	added.Spec.TLS[0].Hosts = []string{"added.example.com"}
	if err := e.Upsert(added); err != nil {
		b.Fatal(err)
	}
	out = e.Output()
	b.ReportMetric(float64(len(out.Envoy.Get(translator.KindListener, envoy.HTTPSListenerName).Bytes)-listener), "listener-B/host-added")
}

// BenchmarkTLSCold is a cold translation and publication of the large TLS
// workload with --ssl-redirect: the https listener has a chain per host.
// live-heap-MiB is the heap after a collection with the input, the engine
// and the cache held.
func BenchmarkTLSCold(b *testing.B) {
	in := tlsWorkload(b, workload.Large)
	opts := benchOptions
	opts.SSLRedirect = true
	b.ReportAllocs()
	cold := func() (*translator.Engine, *Cache) {
		e := translator.NewEngine(opts)
		e.Sync(in)
		out := e.Output()
		if out.Err != nil {
			b.Fatal(out.Err)
		}
		c := NewCache(GroupByNone)
		c.Apply(out.Envoy, out.Proxyless, out.Envoy.TakeChanges(), out.Proxyless.TakeChanges())
		return e, c
	}
	for b.Loop() {
		cold()
	}
	e, c := cold()
	b.ReportMetric(float64(liveHeap())/(1<<20), "live-heap-MiB")
	runtime.KeepAlive(e)
	runtime.KeepAlive(c)
	runtime.KeepAlive(in)
}

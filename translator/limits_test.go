package translator_test

import (
	"bytes"
	"encoding/json"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/translatortest"
)

// poisonBound is how long translating one poison object at the default
// limits may take here, with -race on a shared 2-core machine; the README
// gives the figures measured without -race, well below it.
const poisonBound = 2 * time.Second

// timedTranslate translates in and says how long it took. The first
// translation in a process also pays for one-time setup (about 10 ms
// here), so a small one runs first and the time is the object's own.
func timedTranslate(in translator.Input) (translator.Result, time.Duration) {
	warmUp.Do(func() {
		translator.Translate(poisonInput(translatortest.ManyPaths("apps", 1)), translator.Options{Proxyless: true})
	})
	start := time.Now()
	res := translator.Translate(in, translator.Options{Proxyless: true})
	return res, time.Since(start)
}

var warmUp sync.Once

func poisonInput(p translatortest.Poison) translator.Input {
	in := translator.Input{
		IngressClasses: []*networkingv1.IngressClass{translatortest.PoisonClass()},
		Ingresses:      []*networkingv1.Ingress{p.Ingress, goodIngress()},
		Secrets:        p.Secrets,
	}
	in.Services = append(in.Services, translatortest.PoisonBackend("apps"))
	return in
}

// goodIngress is the well-behaved neighbour every poison sits next to.
func goodIngress() *networkingv1.Ingress {
	ing := translatortest.ManyPaths("apps", 1).Ingress
	ing.Name = "good"
	ing.Spec.Rules[0].Host = "good.example.com"
	return ing
}

// TestPoisonObjectsAreRefusedAtTheDefaultLimits holds the three
// poison shapes against the real defaults: each is refused with one
// ObjectTooLarge naming its field, within poisonBound, and the Ingress
// beside it is served.
func TestPoisonObjectsAreRefusedAtTheDefaultLimits(t *testing.T) {
	cert := translatortest.MustCertPair(t, "tls.example.com")
	for _, c := range []struct {
		poison translatortest.Poison
		field  string
	}{
		{translatortest.HugeAnnotation("apps", 1<<20), "metadata.annotations: 1048592 bytes"},
		{translatortest.ManyPaths("apps", 5000), "spec.rules[*].http.paths: 5000 paths"},
		{translatortest.ManyTLSHosts("apps", 1000, cert), "spec.tls[*].hosts: 1000 hosts"},
	} {
		t.Run(c.poison.Name, func(t *testing.T) {
			res, d := timedTranslate(poisonInput(c.poison))
			t.Logf("translated in %v", d)
			if d > poisonBound {
				t.Errorf("translating took %v, more than %v", d, poisonBound)
			}
			if len(res.Problems) != 1 || res.Problems[0].Reason != translator.ObjectTooLarge ||
				res.Problems[0].Name != c.poison.Ingress.Name || !strings.HasPrefix(res.Problems[0].Message, c.field) {
				t.Fatalf("problems = %v, want one ObjectTooLarge for %s: %s", res.Problems, c.poison.Ingress.Name, c.field)
			}
			if len(res.Problems[0].Message) > 300 {
				t.Errorf("the message carries the object: %d bytes", len(res.Problems[0].Message))
			}
			poisonHost := c.poison.Ingress.Spec.Rules[0].Host
			for _, l := range res.Proxyless.Listeners {
				if strings.Contains(l.GetName(), poisonHost) {
					t.Errorf("proxyless listener %s serves the refused Ingress's host", l.GetName())
				}
			}
			for _, r := range res.Routes {
				for _, vh := range r.GetVirtualHosts() {
					if slices.Contains(vh.GetDomains(), poisonHost) {
						t.Errorf("route table %s serves the refused Ingress's host", r.GetName())
					}
				}
			}
			want := []translator.ObjectRef{{Kind: "Ingress", Namespace: "apps", Name: "good"}}
			if !slices.Equal(res.Admitted.Ingresses, want) {
				t.Errorf("admitted = %v, want only the good Ingress", res.Admitted.Ingresses)
			}
		})
	}
}

// TestPoisonAtTheLimitIsServed is the other side of each limit: an Ingress
// exactly at it is served, whole, in bounded time.
func TestPoisonAtTheLimitIsServed(t *testing.T) {
	cert := translatortest.MustCertPair(t, "tls.example.com")
	annotation := translatortest.HugeAnnotation("apps", 0)
	annotation.Ingress.Annotations["example.com/blob"] = strings.Repeat("x", translator.DefaultMaxAnnotationBytes-len("example.com/blob"))
	for _, p := range []translatortest.Poison{
		annotation,
		translatortest.ManyPaths("apps", translator.DefaultMaxIngressPaths),
		translatortest.ManyTLSHosts("apps", translator.DefaultMaxIngressTLSHosts, cert),
	} {
		t.Run(p.Name, func(t *testing.T) {
			res, d := timedTranslate(poisonInput(p))
			t.Logf("translated in %v", d)
			if d > poisonBound {
				t.Errorf("translating took %v, more than %v", d, poisonBound)
			}
			if len(res.Problems) != 0 || len(res.Admitted.Ingresses) != 2 {
				t.Fatalf("problems = %v, admitted = %v: want both Ingresses served", res.Problems, res.Admitted.Ingresses)
			}
		})
	}
}

// TestAnnotationIsNeverCopied: an Ingress with a 256 KiB annotation gives
// byte-identical resources to the same Ingress without it, and translating
// it allocates no more than a small fraction of the annotation, so a large
// value costs its one copy in the source and nothing per route.
func TestAnnotationIsNeverCopied(t *testing.T) {
	size := translator.DefaultMaxAnnotationBytes - len("example.com/blob")
	with := translatortest.HugeAnnotation("apps", size)
	without := translatortest.HugeAnnotation("apps", 0)
	delete(without.Ingress.Annotations, "example.com/blob")
	withRes, withAlloc := translateMeasured(t, poisonInput(with))
	withoutRes, withoutAlloc := translateMeasured(t, poisonInput(without))
	if !bytes.Equal(withRes, withoutRes) {
		t.Fatal("the annotation changed the resources")
	}
	if extra := int64(withAlloc) - int64(withoutAlloc); extra > int64(size)/4 {
		t.Errorf("translating with a %d-byte annotation allocated %d bytes more than without", size, extra)
	}
}

func translateMeasured(t *testing.T, in translator.Input) ([]byte, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := translator.Translate(in, translator.Options{})
	runtime.ReadMemStats(&after)
	r, err := res.Resources(false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b, after.TotalAlloc - before.TotalAlloc
}

package workload

import (
	"reflect"
	"slices"
	"testing"

	"github.com/fairwayhq/fairway/translator"
)

// TestGenerateShape checks that the generated cluster is what the benchmarks
// claim to measure: every route resolves, every endpoint is used, and every
// LoadBalancer gets its listener.
func TestGenerateShape(t *testing.T) {
	s := Scale{Name: "tiny", Services: 100, Ingresses: 120, EndpointsPerService: 3, LoadBalancers: 7, Namespaces: 10}
	res := translator.Translate(Generate(s), translator.Options{})
	if len(res.Problems) != 0 {
		t.Fatalf("generated workload has problems: %v", res.Problems)
	}
	if err := res.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := len(res.Listeners), s.LoadBalancers+1; got != want {
		t.Errorf("listeners = %d, want %d (http plus one per LoadBalancer)", got, want)
	}
	if got := len(res.Routes[0].VirtualHosts); got != s.Ingresses {
		t.Errorf("virtual hosts = %d, want %d", got, s.Ingresses)
	}
	endpoints := 0
	for _, cla := range res.Endpoints {
		for _, l := range cla.Endpoints {
			endpoints += len(l.LbEndpoints)
		}
	}
	if want := (s.Services + s.LoadBalancers) * s.EndpointsPerService; endpoints != want {
		t.Errorf("endpoints = %d, want %d", endpoints, want)
	}
}

// TestGenerateTLSShape checks the TLS workload: every Ingress has a
// certificate that fairway accepts, the hosts share one wildcard Secret
// per group, the https listener serves them, and --ssl-redirect turns
// their plain-HTTP routes into redirects.
func TestGenerateTLSShape(t *testing.T) {
	s := Scale{Name: "tiny-tls", Services: 100, Ingresses: 100, EndpointsPerService: 1, Namespaces: 5}.WithTLS()
	s.HostsPerSecret = 10
	in := Generate(s)
	if got, want := len(in.Secrets), 10; got != want {
		t.Errorf("secrets = %d, want %d (100 hosts in groups of 10)", got, want)
	}
	users := map[string]int{}
	for _, ing := range in.Ingresses {
		if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].Hosts[0] != ing.Spec.Rules[0].Host {
			t.Fatalf("Ingress %s: tls %v does not cover its host %s", ing.Name, ing.Spec.TLS, ing.Spec.Rules[0].Host)
		}
		users[ing.Namespace+"/"+ing.Spec.TLS[0].SecretName]++
	}
	for _, sec := range in.Secrets {
		if n := users[sec.Namespace+"/"+sec.Name]; n != 10 {
			t.Errorf("Secret %s/%s serves %d hosts, want 10", sec.Namespace, sec.Name, n)
		}
	}
	res := translator.Translate(in, translator.Options{SSLRedirect: s.SSLRedirect})
	if len(res.Problems) != 0 {
		t.Fatalf("generated TLS workload has problems: %v", res.Problems)
	}
	if err := res.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(res.Secrets) != len(in.Secrets) {
		t.Errorf("SDS secrets = %d, want %d", len(res.Secrets), len(in.Secrets))
	}
	https := false
	for _, l := range res.Listeners {
		https = https || l.Name == "https"
	}
	if !https {
		t.Error("no https listener")
	}
	redirects := 0
	for _, rc := range res.Routes {
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				if r.GetRedirect().GetHttpsRedirect() {
					redirects++
				}
			}
		}
	}
	if redirects < s.Ingresses {
		t.Errorf("https redirects = %d, want one per host at least (%d)", redirects, s.Ingresses)
	}
}

// TestGenerateIsDeterministic: the benchmarks compare runs, so the same
// scale must give the same objects, certificates included.
func TestGenerateIsDeterministic(t *testing.T) {
	s := Scale{Name: "tiny-tls", Services: 50, Ingresses: 50, EndpointsPerService: 2, LoadBalancers: 2, Namespaces: 5}.WithTLS()
	if a, b := Generate(s), Generate(s); !reflect.DeepEqual(a, b) {
		t.Error("two generations of the same scale differ")
	}
}

// TestAddedTLSHostIsServed: the host the benchmarks add is served under
// its group's certificate, beside the host it was copied from.
func TestAddedTLSHostIsServed(t *testing.T) {
	s := Scale{Name: "tiny-tls", Services: 20, Ingresses: 20, EndpointsPerService: 1, Namespaces: 2}.WithTLS()
	in := Generate(s)
	orig := in.Ingresses[7]
	added := AddedTLSHost(orig, 3)
	in.Ingresses = append(in.Ingresses, added)
	res := translator.Translate(in, translator.Options{SSLRedirect: true})
	if len(res.Problems) != 0 {
		t.Fatalf("problems after adding %s: %v", added.Spec.Rules[0].Host, res.Problems)
	}
	if got, want := added.Spec.Rules[0].Host, "added-3.g1.example.com"; got != want {
		t.Errorf("added host = %s, want %s (orig %s)", got, want, orig.Spec.Rules[0].Host)
	}
	served := 0
	for _, rc := range res.Routes {
		for _, vh := range rc.VirtualHosts {
			if slices.Contains(vh.Domains, added.Spec.Rules[0].Host) {
				served++
			}
		}
	}
	if served < 2 {
		t.Errorf("added host is in %d route tables, want http (redirect) and https", served)
	}
}

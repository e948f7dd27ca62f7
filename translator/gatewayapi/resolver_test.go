package gatewayapi_test

import (
	mrand "math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
	"github.com/fairwayhq/fairway/translator/translatortest"
)

// TestResolverEqualsResolve walks random changes of the Gateway API
// objects and of the Services, Secrets and Namespaces they read, and
// holds a Resolver kept across all of them to Resolve from scratch after
// every step. Half the seeds give the Resolver lookups for Services and
// Secrets, as the engine does, in place of the lists.
func TestResolverEqualsResolve(t *testing.T) {
	seeds, steps := 200, 40
	if testing.Short() {
		seeds = 40
	}
	certs := [2][2][]byte{translatortest.MustCertPair(t, "x.com"), translatortest.MustCertPair(t, "y.com")}
	reused := 0
	for seed := range seeds {
		r := mrand.New(mrand.NewPCG(uint64(seed), 7))
		u := translatortest.NewUniverse(r, certs)
		gw := translatortest.NewGatewayWalk(mrand.New(mrand.NewPCG(uint64(seed), 17)))
		opts := gatewayapi.Options{ControllerName: translator.DefaultGatewayController, Dedicated: seed%4 == 1}
		rv := gatewayapi.NewResolver()
		var in translator.Input
		var before *gatewayapi.Model
		for step := range steps {
			if r.IntN(3) == 0 {
				u.Mutate(&in)
			}
			gw.Mutate(&in)
			fin := frontInput(in)
			want := gatewayapi.Resolve(fin, opts)
			if seed%2 == 0 {
				fin = withLookups(fin)
			}
			got := rv.Resolve(fin, opts)
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("seed %d step %d: the Resolver differs from Resolve (-Resolve +Resolver):\n%s", seed, step, d)
			}
			reused += sharedRules(before, got)
			before = got
		}
	}
	if reused == 0 {
		t.Fatal("no step reused an HTTPRule: the walk never held a route unchanged, or the memo never holds")
	}
}

// sharedRules counts the HTTPRules of b that are a's, by pointer.
func sharedRules(a, b *gatewayapi.Model) int {
	if a == nil {
		return 0
	}
	old := map[*gatewayapi.HTTPRule]bool{}
	for _, l := range a.Listeners {
		for _, rule := range l.HTTP {
			old[rule] = true
		}
	}
	n := 0
	for _, l := range b.Listeners {
		for _, rule := range l.HTTP {
			if old[rule] {
				n++
			}
		}
	}
	return n
}

func frontInput(in translator.Input) gatewayapi.Input {
	return gatewayapi.Input{
		GatewayClasses: in.GatewayClasses, Gateways: in.Gateways, HTTPRoutes: in.HTTPRoutes, GRPCRoutes: in.GRPCRoutes,
		TLSRoutes: in.TLSRoutes, TCPRoutes: in.TCPRoutes, UDPRoutes: in.UDPRoutes, ReferenceGrants: in.ReferenceGrants,
		Namespaces: in.Namespaces, Services: in.Services, Secrets: in.Secrets,
	}
}

// withLookups replaces the Services and Secrets lists with lookups.
func withLookups(in gatewayapi.Input) gatewayapi.Input {
	services := map[types.NamespacedName]*corev1.Service{}
	for _, s := range in.Services {
		services[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
	}
	secrets := map[types.NamespacedName]*corev1.Secret{}
	for _, s := range in.Secrets {
		secrets[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
	}
	in.Services, in.Secrets = nil, nil
	in.LookupService = func(k types.NamespacedName) *corev1.Service { return services[k] }
	in.LookupSecret = func(k types.NamespacedName) *corev1.Secret { return secrets[k] }
	return in
}

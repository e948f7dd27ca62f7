package gatewayapi_test

import (
	"crypto/tls"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
	"github.com/fairwayhq/fairway/translator/translatortest"
)

// TestResolverEqualsResolve walks random changes of the Gateway API
// objects and of the Services, Secrets and Namespaces they read, and
// holds a Resolver kept across all of them to Resolve from scratch after
// every step. Half the seeds give the Resolver lookups for Services and
// Secrets, as the engine does, in place of the lists; half of those also
// name the Services that changed since the last step, as the engine
// does, so that a kept route's read of any other one is not checked.
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
		gw := translatortest.NewGatewayWalk(mrand.New(mrand.NewPCG(uint64(seed), 17))).WithExtras(mrand.New(mrand.NewPCG(uint64(seed), 19)))
		opts := gatewayapi.Options{ControllerName: translator.DefaultGatewayController, Dedicated: seed%4 == 1, CertificateError: keyPairError}
		rv := gatewayapi.NewResolver()
		var in translator.Input
		var before *gatewayapi.Model
		var services []*corev1.Service
		for step := range steps {
			// Each step changes either what the Gateway API objects
			// read (Services, Secrets, ...) or one of them, so that a
			// read's change alone is seen against a kept stage.
			if r.IntN(2) == 0 {
				u.Mutate(&in)
			} else {
				gw.Mutate(&in)
			}
			fin := frontInput(in)
			want := gatewayapi.Resolve(fin, opts)
			if seed%2 == 0 {
				fin = withLookups(fin)
			}
			if seed%4 == 0 {
				fin.ChangedServices = changedServices(services, in.Services)
			}
			services = slices.Clone(in.Services)
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

// changedServices are the Services added, replaced or removed between
// two lists, by key: never nil, so that none changed says so.
func changedServices(before, after []*corev1.Service) map[types.NamespacedName]bool {
	out := map[types.NamespacedName]bool{}
	was := map[types.NamespacedName]*corev1.Service{}
	for _, s := range before {
		was[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
	}
	for _, s := range after {
		k := types.NamespacedName{Namespace: s.Namespace, Name: s.Name}
		if was[k] != s {
			out[k] = true
		}
		delete(was, k)
	}
	for k := range was {
		out[k] = true
	}
	return out
}

// keyPairError reads a Secret's key pair as the engine does, so that a
// Secret replaced by a broken one changes a listener.
func keyPairError(s *corev1.Secret) error {
	_, err := tls.X509KeyPair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
	return err
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

// TestResolverSecretChange replaces only the Secret an HTTPS listener
// names, by a broken one and back: the Resolver must not keep the
// Gateways it resolved with the old one.
func TestResolverSecretChange(t *testing.T) {
	crt := translatortest.MustCertPair(t, "x.com")
	good := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cert", Namespace: "a"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: crt[0], corev1.TLSPrivateKeyKey: crt[1]}}
	broken := good.DeepCopy()
	broken.Data[corev1.TLSPrivateKeyKey] = []byte("not a key")
	terminate := gatewayv1.TLSModeTerminate
	in := gatewayapi.Input{
		GatewayClasses: []*gatewayv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "fairway"}, Spec: gatewayv1.GatewayClassSpec{ControllerName: translator.DefaultGatewayController}}},
		Gateways: []*gatewayv1.Gateway{{ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "a"}, Spec: gatewayv1.GatewaySpec{GatewayClassName: "fairway", Listeners: []gatewayv1.Listener{{
			Name: "https", Port: 443, Protocol: gatewayv1.HTTPSProtocolType,
			TLS: &gatewayv1.ListenerTLSConfig{Mode: &terminate, CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "cert"}}},
		}}}}},
	}
	opts := gatewayapi.Options{ControllerName: translator.DefaultGatewayController, CertificateError: keyPairError}
	rv := gatewayapi.NewResolver()
	programmed := []int{}
	for _, s := range []*corev1.Secret{good, broken, good} {
		in.Secrets = []*corev1.Secret{s}
		want, got := gatewayapi.Resolve(in, opts), rv.Resolve(in, opts)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("the Resolver differs from Resolve (-Resolve +Resolver):\n%s", d)
		}
		programmed = append(programmed, len(got.Listeners))
	}
	if !slices.Equal(programmed, []int{1, 0, 1}) {
		t.Fatalf("listeners served with a good, broken, good Secret: %v, want [1 0 1]", programmed)
	}
}

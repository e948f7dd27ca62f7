package translator_test

import (
	"bytes"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/translatortest"
)

// TestIncrementalEqualsFromScratch is the guarantee that makes the
// incremental engine safe: after every one of many random adds, updates
// and deletes, an engine that has seen them all, as events (Upsert,
// Delete) or as whole states (Sync), gives byte-identical resources, and
// the same Problems and admissions, as a from-scratch Translate of the
// state at that point.
func TestIncrementalEqualsFromScratch(t *testing.T) {
	seeds, steps := 300, 40
	if testing.Short() {
		seeds = 60
	}
	certs := [2][2][]byte{translatortest.MustCertPair(t, "x.com"), translatortest.MustCertPair(t, "y.com")}
	sharedRedirects, acmeRedirects := 0, 0        // steps with a compact plain side
	addressReasons := map[translator.Reason]int{} // steps with each allocation outcome
	passSteps := 0                                // steps with a passthrough chain
	basicAuthSteps := 0                           // steps with a basic-auth route
	gatewaySteps := 0                             // steps with a Gateway listener or route served
	gatewayAPISteps := 0                          // steps serving a proxyless client a Gateway hostname
	splitSteps := 0                               // steps with a UDPRoute's split cluster
	var nameLosers [2]int                         // steps where a Gateway, an Ingress, lost a name of the https port to the other
	for seed := range seeds {
		r := mrand.New(mrand.NewPCG(uint64(seed), 7))
		u := translatortest.NewUniverse(r, certs)
		opts := translator.Options{Proxyless: r.IntN(2) == 0}
		if r.IntN(3) == 0 {
			opts.LBTarget = translator.LBTargetNodes
		}
		if r.IntN(3) == 0 {
			opts.LBClass = "fairway.dev/lb"
		}
		// --ssl-redirect on some seeds (no draw, as below).
		opts.SSLRedirect = seed%4 == 3
		if seed%3 == 1 { // limits the random Ingresses cross now and then (no draw: the seeds' objects stay as they were)
			opts.Limits = translator.Limits{AnnotationBytes: 30, IngressPaths: 3, IngressTLSHosts: 2}
		}
		// Proxyless on demand on some seeds (no draw): demands and
		// releases come from a source of their own, between the
		// objects' events, and the cold engine is given the same names.
		opts.ProxylessOnDemand = opts.Proxyless && seed%5 < 3
		// Address pools, and Services that ask for addresses, on some
		// seeds (no draw from r: their fields come from a source of
		// their own); a dual-stack fleet on others, for spec.ipFamilies.
		switch seed % 6 {
		case 1, 4:
			opts.LBAddressPools = translatortest.AddressPools
		case 2:
			opts.ListenAddress = "::"
		}
		if seed%6 != 0 {
			u.WithAddressing(mrand.New(mrand.NewPCG(uint64(seed), 13)))
		}
		// The Gateway API's objects on most seeds, from a source of their
		// own (no draw from r).
		var gw *translatortest.GatewayWalk
		if seed%3 != 0 {
			gw = translatortest.NewGatewayWalk(mrand.New(mrand.NewPCG(uint64(seed), 17))).WithExtras(mrand.New(mrand.NewPCG(uint64(seed), 19)))
		}
		dr := mrand.New(mrand.NewPCG(uint64(seed), 11))
		demanded := map[string]bool{}
		var in translator.Input
		e := translator.NewEngine(opts)
		events := seed%2 == 0
		for step := range steps {
			if opts.ProxylessOnDemand {
				demandEvents(e, dr, demanded)
			}
			for range 1 + r.IntN(3) {
				obj, remove := u.Mutate(&in)
				if !events {
					continue
				}
				var err error
				if remove {
					err = e.Delete(obj)
				} else {
					err = e.Upsert(obj)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if gw != nil {
				obj, remove := gw.Mutate(&in)
				if events {
					applyEvent(t, e, obj, remove)
				}
			}
			if !events {
				e.Sync(in)
			}
			warm := e.Output()
			if warm.Err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, warm.Err)
			}
			if shared, acme := translator.RedirectForms(warm); shared > 0 {
				sharedRedirects++
			} else if acme > 0 {
				acmeRedirects++
			}
			for _, set := range []*translator.ResourceSet{warm.Envoy, warm.Proxyless} {
				if fast, slow := set.Check(), translator.CheckAll(set); (fast == nil) != (slow == nil) {
					t.Fatalf("seed %d step %d: counted check %v, full check %v", seed, step, fast, slow)
				}
			}
			countAddressing(warm.Result(), addressReasons)
			passSteps += countPassthrough(warm.Result())
			basicAuthSteps += countBasicAuth(t, warm.Result())
			cold := translator.NewEngine(opts)
			cold.Demand(slices.Sorted(maps.Keys(demanded)))
			cold.Sync(in)
			coldOut := cold.Output()
			if diff := translator.CompareOutputs(warm, coldOut); diff != "" {
				t.Fatalf("seed %d step %d: incremental differs from scratch:\n%s", seed, step, diff)
			}
			if diff := cmp.Diff(coldOut.Result().Gateway, warm.Result().Gateway); diff != "" {
				t.Fatalf("seed %d step %d: the Gateway API status differs from scratch (-cold +incremental):\n%s", seed, step, diff)
			}
			gatewaySteps += countGatewayServed(warm.Result())
			gatewayAPISteps += countGatewayAPIs(warm)
			splitSteps += countSplits(warm.Result())
			countNameLosers(warm.Result(), &nameLosers)
		}
	}
	// The random universe must reach the compact plain forms, so that the
	// steps above hold them to a from-scratch translation too.
	if sharedRedirects == 0 || acmeRedirects == 0 {
		t.Fatalf("steps with a shared redirect: %d, with only the ACME routes and a redirect: %d; the universe never reaches one", sharedRedirects, acmeRedirects)
	}
	t.Logf("steps with a shared redirect: %d, with an ACME redirect (and no shared one): %d", sharedRedirects, acmeRedirects)
	// And passthrough chains, so that their changes are held to it too.
	if passSteps == 0 {
		t.Errorf("no step has a passthrough chain on the https listener")
	}
	t.Logf("steps with a passthrough chain: %d", passSteps)
	// And basic-auth routes, whose users come from Secrets that change
	// on their own.
	if basicAuthSteps == 0 {
		t.Errorf("no step has a route with basic authentication")
	}
	t.Logf("steps with a basic-auth route: %d", basicAuthSteps)
	// And Gateways that serve, beside the Ingresses and Services.
	if gatewaySteps == 0 {
		t.Errorf("no step serves a Gateway listener or route")
	}
	t.Logf("steps serving the Gateway API: %d", gatewaySteps)
	// And Gateway hostnames that proxyless clients asked for.
	if gatewayAPISteps == 0 {
		t.Errorf("no step serves a proxyless client a Gateway's own listener")
	}
	t.Logf("steps serving a proxyless client a Gateway's own listener: %d", gatewayAPISteps)
	// And UDP splits, whose endpoints follow several Services' slices.
	if splitSteps == 0 {
		t.Errorf("no step has a UDPRoute's split cluster")
	}
	t.Logf("steps with a UDP split: %d", splitSteps)
	// And server names of the https port that a Gateway and an Ingress
	// both ask for, won by either, so that their coming and going (the
	// newer taking the name over) is held to it too.
	if nameLosers[0] == 0 || nameLosers[1] == 0 {
		t.Errorf("steps where a Gateway lost a name of the https port to an Ingress: %d, an Ingress to a Gateway: %d; want both", nameLosers[0], nameLosers[1])
	}
	t.Logf("steps where a Gateway lost a name of the https port to an Ingress: %d, an Ingress to a Gateway: %d", nameLosers[0], nameLosers[1])
	// And it must reach every outcome of the address allocation.
	t.Logf("steps with each allocation outcome: %v", addressReasons)
	for _, reason := range []translator.Reason{"Allocated", "Shared", translator.AddressPoolExhausted, translator.AddressTaken,
		translator.AddressNotInPool, translator.InvalidAddress, translator.UnsupportedIPFamily} {
		if addressReasons[reason] == 0 {
			t.Errorf("no step reaches %s: %v", reason, addressReasons)
		}
	}
}

// countAddressing counts a step's allocation outcomes: Services with an
// address ("Allocated"), two sharing one ("Shared"), and each Problem
// reason of the allocation.
func countAddressing(res translator.Result, seen map[translator.Reason]int) {
	step := map[translator.Reason]bool{}
	holders := map[string]int{}
	for _, s := range res.Admitted.Services {
		for _, a := range s.Addresses {
			step["Allocated"] = true
			if holders[a]++; holders[a] > 1 {
				step["Shared"] = true
			}
		}
	}
	for _, p := range res.Problems {
		step[p.Reason] = true
	}
	for r := range step {
		seen[r]++
	}
}

// demandEvents asks for and lets go of a few random proxyless names, as
// the xds layer does when clients subscribe and go away.
func demandEvents(e *translator.Engine, r *mrand.Rand, demanded map[string]bool) {
	for range r.IntN(3) {
		name := translatortest.DemandName(r)
		if r.IntN(3) == 0 {
			e.Release([]string{name})
			delete(demanded, name)
		} else {
			e.Demand([]string{name})
			demanded[name] = true
		}
	}
}

// countBasicAuth is 1 when a route table has a route whose own filter
// chain asks for a password, else 0.
func countBasicAuth(t *testing.T, res translator.Result) int {
	t.Helper()
	for _, rc := range res.Routes {
		b, err := proto.Marshal(rc)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("envoy.extensions.filters.http.basic_auth.v3.BasicAuth")) {
			return 1
		}
	}
	return 0
}

// countPassthrough is 1 when the https listener has a passthrough chain
// (one without a transport socket), else 0.
func countPassthrough(res translator.Result) int {
	for _, l := range res.Listeners {
		for _, fc := range l.GetFilterChains() {
			if l.GetName() == envoy.HTTPSListenerName && fc.GetTransportSocket() == nil {
				return 1
			}
		}
	}
	return 0
}

// countNameLosers counts a step whose https port has a name a Gateway
// lost to an Ingress (losers[0]), or an Ingress to a Gateway (losers[1]).
func countNameLosers(res translator.Result, losers *[2]int) {
	var seen [2]bool
	for _, p := range res.Problems {
		if p.Reason != translator.TLSConflict {
			continue
		}
		switch {
		case p.Kind == "Gateway" && strings.Contains(p.Message, "held by Ingress"):
			seen[0] = true
		case p.Kind == "Ingress" && strings.Contains(p.Message, "of Gateway"):
			seen[1] = true
		}
	}
	for i, s := range seen {
		if s {
			losers[i]++
		}
	}
}

// applyEvent gives the engine one object's event.
func applyEvent(t *testing.T, e *translator.Engine, obj any, remove bool) {
	t.Helper()
	var err error
	if remove {
		err = e.Delete(obj)
	} else {
		err = e.Upsert(obj)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// countGatewayServed is 1 when a step serves a Gateway API route: a
// Gateway's own listener, or a route of one in the shared tables.
// countGatewayAPIs is 1 when a proxyless client is served a Gateway
// hostname on its own listener (<host>:<port>), else 0.
func countGatewayAPIs(out translator.Output) int {
	for _, l := range out.Proxyless.Sorted(translator.KindListener) {
		if strings.HasSuffix(l.Name, ".com:80") || strings.HasSuffix(l.Name, ".com:443") {
			return 1
		}
	}
	return 0
}

func countGatewayServed(res translator.Result) int {
	for _, l := range res.Listeners {
		if strings.HasPrefix(l.GetName(), "gateway/") {
			return 1
		}
	}
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if strings.Contains(r.GetName(), "/r") || strings.Contains(r.GetName(), "/gr") {
					return 1
				}
			}
		}
	}
	return 0
}

// countSplits is 1 when a step publishes a UDPRoute's split cluster with
// a locality of endpoints.
func countSplits(res translator.Result) int {
	for _, cla := range res.Endpoints {
		if strings.HasPrefix(cla.GetClusterName(), envoy.SplitClusterPrefix) && len(cla.GetEndpoints()) > 0 {
			return 1
		}
	}
	return 0
}

package translator

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/fairwayhq/fairway/envoy"
)

// translateGolden translates a golden case's input.
func translateGolden(t *testing.T, name string) Result {
	t.Helper()
	in := readGoldenInput(t, "testdata/"+name+"/input.yaml")
	res := Translate(in.Input, in.Options)
	if err := res.err; err != nil {
		t.Fatal(err)
	}
	return res
}

// routeConfig is the named route configuration of res, or nil.
func routeConfig(res Result, name string) *routev3.RouteConfiguration {
	for _, rc := range res.Routes {
		if rc.GetName() == name {
			return rc
		}
	}
	return nil
}

// TestOtherClassAnswers404 is the conformance scenario: with fairway's
// IngressClass present and only another class's Ingress, a request for
// that Ingress's host reaches the http listener and gets a 404.
func TestOtherClassAnswers404(t *testing.T) {
	res := translateGolden(t, "ingressclass-other-class-404")
	if len(res.Listeners) != 1 || res.Listeners[0].GetName() != envoy.HTTPListenerName {
		t.Fatalf("listeners %v, want only the http listener", res.Listeners)
	}
	rc := routeConfig(res, envoy.HTTPRouteConfig)
	if rc == nil {
		t.Fatal("no http route configuration")
	}
	for _, path := range []string{"/", "/x"} {
		if got := pick(t, rc, "other.example.com", path); got != "404" {
			t.Errorf("other.example.com%s: %s, want 404", path, got)
		}
	}
}

// TestHTTPListenerFollowsClasses: the http listener comes with fairway's
// first IngressClass and goes with its last, whatever the Ingresses, and
// its claim is dated by the oldest class.
func TestHTTPListenerFollowsClasses(t *testing.T) {
	in := readGoldenInput(t, "testdata/ingressclass-other-class-404/input.yaml").Input
	e := NewEngine(Options{})
	e.Sync(Input{Services: in.Services, Ingresses: in.Ingresses})
	if out := e.Output(); out.Envoy.Get(KindListener, envoy.HTTPListenerName) != nil {
		t.Fatal("an http listener without an IngressClass of fairway's")
	}
	e.Sync(in)
	out := e.Output()
	if out.Envoy.Get(KindListener, envoy.HTTPListenerName) == nil {
		t.Fatal("no http listener with fairway's IngressClasses")
	}
	if got := e.claims.httpClaim.ref.Name; got != "fairway-internal" {
		t.Errorf("the http claim is dated by %s, want the oldest class fairway-internal", got)
	}
	e.Sync(Input{Services: in.Services, Ingresses: in.Ingresses})
	if out := e.Output(); out.Envoy.Get(KindListener, envoy.HTTPListenerName) != nil || out.Envoy.Get(KindRoute, envoy.HTTPRouteConfig) != nil {
		t.Fatal("the http listener outlived fairway's IngressClasses")
	}
}

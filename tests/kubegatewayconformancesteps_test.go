package tests

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/fairwayhq/fairway/translator"
)

// statusStep is what a conformance test changes halfway, made through
// the API server, and what the spec then asks of the status there. The
// whole status is held to the translator's again after the change too.
type statusStep struct {
	change func(*testing.T, context.Context, gatewayclient.Interface) error
	check  func(*testing.T, translator.Input)
}

// statusSteps are the later steps of the tests that bump a generation or
// take a permission away: the API server gives the new generation, and
// each condition must then carry it.
var statusSteps = map[string][]statusStep{
	"tests/gatewayclass-observed-generation-bump.yaml": {{
		change: func(_ *testing.T, ctx context.Context, gw gatewayclient.Interface) error {
			c, err := gw.GatewayV1().GatewayClasses().Get(ctx, "gatewayclass-observed-generation-bump", metav1.GetOptions{})
			if err != nil {
				return err
			}
			c.Spec.Description = ptrTo("new")
			_, err = gw.GatewayV1().GatewayClasses().Update(ctx, c, metav1.UpdateOptions{})
			return err
		},
		check: func(t *testing.T, in translator.Input) {
			for _, c := range in.GatewayClasses {
				if c.Name == "gatewayclass-observed-generation-bump" {
					bumped(t, "GatewayClass "+c.Name, c.Generation)
					allAt(t, "GatewayClass "+c.Name, c.Status.Conditions, c.Generation)
					expectCondition(t, "GatewayClass "+c.Name, c.Status.Conditions, "Accepted", metav1.ConditionTrue, "Accepted", c.Generation)
					return
				}
			}
			t.Error("no GatewayClass gatewayclass-observed-generation-bump in the API server")
		},
	}},
	"tests/gateway-observed-generation-bump.yaml": {{
		change: func(_ *testing.T, ctx context.Context, gw gatewayclient.Interface) error {
			g, err := gw.GatewayV1().Gateways(conformanceInfra).Get(ctx, "gateway-observed-generation-bump", metav1.GetOptions{})
			if err != nil {
				return err
			}
			all := gatewayv1.NamespacesFromAll
			g.Spec.Listeners = append(g.Spec.Listeners, gatewayv1.Listener{Name: "alternate", Hostname: ptrTo(gatewayv1.Hostname("foo.com")),
				Port: 80, Protocol: gatewayv1.HTTPProtocolType, AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &all}}})
			_, err = gw.GatewayV1().Gateways(conformanceInfra).Update(ctx, g, metav1.UpdateOptions{})
			return err
		},
		check: func(t *testing.T, in translator.Input) {
			g := findInfraGateway(t, in, "gateway-observed-generation-bump")
			if g == nil {
				return
			}
			bumped(t, "Gateway "+g.Name, g.Generation)
			allAt(t, "Gateway "+g.Name, g.Status.Conditions, g.Generation)
			if len(g.Status.Listeners) != 2 {
				t.Errorf("Gateway %s: %d listeners in status, want 2 after the step", g.Name, len(g.Status.Listeners))
			}
			for _, l := range g.Status.Listeners {
				allAt(t, "Gateway "+g.Name+" listener "+string(l.Name), l.Conditions, g.Generation)
			}
			expectGateway(t, in, g.Name, "Programmed", metav1.ConditionTrue, "Programmed")
		},
	}},
	"tests/httproute-observed-generation-bump.yaml": {{
		change: func(_ *testing.T, ctx context.Context, gw gatewayclient.Interface) error {
			r, err := gw.GatewayV1().HTTPRoutes(conformanceInfra).Get(ctx, "observed-generation-bump", metav1.GetOptions{})
			if err != nil {
				return err
			}
			r.Spec.Rules[0].BackendRefs[0].Name = "infra-backend-v2"
			_, err = gw.GatewayV1().HTTPRoutes(conformanceInfra).Update(ctx, r, metav1.UpdateOptions{})
			return err
		},
		check: func(t *testing.T, in translator.Input) {
			for _, r := range in.HTTPRoutes {
				if r.Namespace == conformanceInfra && r.Name == "observed-generation-bump" {
					bumped(t, "HTTPRoute "+r.Name, r.Generation)
				}
			}
			expectRouteParent(t, in, "HTTPRoute", "observed-generation-bump", "same-namespace", "Accepted", metav1.ConditionTrue, "Accepted")
			expectRouteParent(t, in, "HTTPRoute", "observed-generation-bump", "same-namespace", "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
		},
	}},
	// The suite's steps drop the invalid address, then the unusable one,
	// and want the Gateway accepted but not programmed (AddressNotUsable),
	// then programmed on the usable one, which alone is its address.
	"tests/gateway-static-addresses.yaml": {
		dropAddress("test/fake-invalid-type", func(t *testing.T, in translator.Input) {
			expectGateway(t, in, "gateway-static-addresses", "Accepted", metav1.ConditionTrue, "Accepted")
			expectGateway(t, in, "gateway-static-addresses", "Programmed", metav1.ConditionFalse, "AddressNotUsable")
		}),
		dropAddress(unusableAddress, func(t *testing.T, in translator.Input) {
			expectGateway(t, in, "gateway-static-addresses", "Accepted", metav1.ConditionTrue, "Accepted")
			expectGateway(t, in, "gateway-static-addresses", "Programmed", metav1.ConditionTrue, "Programmed")
			if g := findInfraGateway(t, in, "gateway-static-addresses"); g != nil {
				if a := g.Status.Addresses; len(a) != 1 || a[0].Value != usableAddress || a[0].Type == nil || *a[0].Type != gatewayv1.IPAddressType {
					t.Errorf("Gateway gateway-static-addresses: status.addresses %v, want only IPAddress %s", a, usableAddress)
				}
			}
		}),
	},
	"tests/gateway-modify-listeners.yaml": {
		editListeners("gateway-add-listener", 2, func(ls []gatewayv1.Listener) []gatewayv1.Listener {
			all := gatewayv1.NamespacesFromAll
			return append(ls, gatewayv1.Listener{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType,
				Hostname: ptrTo(gatewayv1.Hostname("data.test.com")), AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &all}}})
		}),
		editListeners("gateway-remove-listener", 1, func(ls []gatewayv1.Listener) []gatewayv1.Listener {
			var keep []gatewayv1.Listener
			for _, l := range ls {
				if l.Name == "http" {
					keep = append(keep, l)
				}
			}
			return keep
		}),
	},
	"tests/tcproute-multiple-routes-attachment.yaml": {newerRoute(&gatewayv1.TCPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: conformanceInfra, Name: "tcproute-attach-newer"},
		Spec: gatewayv1.TCPRouteSpec{CommonRouteSpec: parentSection("tcp-multi-route-attach-gateway", "tcp"),
			Rules: []gatewayv1.TCPRouteRule{{BackendRefs: backendRefTo("tcp-attach-backend-2", 3000)}}}},
		"TCPRoute", "tcproute-attach-older", "tcp-multi-route-attach-gateway", "tcp")},
	"tests/udproute-multiple-routes-attachment.yaml": {newerRoute(&gatewayv1.UDPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: conformanceInfra, Name: "udproute-attach-newer"},
		Spec: gatewayv1.UDPRouteSpec{CommonRouteSpec: parentSection("udp-multi-route-attach-gateway", "udp"),
			Rules: []gatewayv1.UDPRouteRule{{BackendRefs: backendRefTo("udp-attach-backend-2", 8080)}}}},
		"UDPRoute", "udproute-attach-older", "udp-multi-route-attach-gateway", "udp")},
	"tests/httproute-reference-grant.yaml": revokeGrant("gateway-conformance-web-backend", "reference-grant",
		"HTTPRoute", "reference-grant", "same-namespace"),
	"tests/tcproute-reference-grant.yaml": revokeGrant("gateway-conformance-web-backend", "tcp-reference-grant",
		"TCPRoute", "tcp-reference-grant", "tcp-reference-grant-gateway"),
	"tests/udproute-reference-grant.yaml": revokeGrant("gateway-conformance-app-backend", "udp-reference-grant",
		"UDPRoute", "udp-route-reference-grant", "udp-gateway-reference-grant"),
}

// revokeGrant is the step that deletes the ReferenceGrant a route's
// cross-namespace backendRef needs: the route stays accepted, its
// ResolvedRefs turns False with RefNotPermitted.
func revokeGrant(grantNS, grant, kind, route, gateway string) []statusStep {
	return []statusStep{{
		change: func(_ *testing.T, ctx context.Context, gw gatewayclient.Interface) error {
			return gw.GatewayV1().ReferenceGrants(grantNS).Delete(ctx, grant, metav1.DeleteOptions{})
		},
		check: func(t *testing.T, in translator.Input) {
			expectRouteParent(t, in, kind, route, gateway, "ResolvedRefs", metav1.ConditionFalse, "RefNotPermitted")
			expectRouteParent(t, in, kind, route, gateway, "Accepted", metav1.ConditionTrue, "Accepted")
		},
	}}
}

// dropAddress is a step of GatewayStaticAddresses: the address of the
// type or value given leaves the Gateway's spec, every condition
// observes the new generation, and then holds.
func dropAddress(typeOrValue string, then func(t *testing.T, in translator.Input)) statusStep {
	const name = "gateway-static-addresses"
	return statusStep{
		change: func(_ *testing.T, ctx context.Context, gw gatewayclient.Interface) error {
			g, err := gw.GatewayV1().Gateways(conformanceInfra).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			var keep []gatewayv1.GatewaySpecAddress
			for _, a := range g.Spec.Addresses {
				if a.Value != typeOrValue && (a.Type == nil || string(*a.Type) != typeOrValue) {
					keep = append(keep, a)
				}
			}
			g.Spec.Addresses = keep
			_, err = gw.GatewayV1().Gateways(conformanceInfra).Update(ctx, g, metav1.UpdateOptions{})
			return err
		},
		check: func(t *testing.T, in translator.Input) {
			if g := findInfraGateway(t, in, name); g != nil {
				bumped(t, "Gateway "+name, g.Generation)
				allAt(t, "Gateway "+name, g.Status.Conditions, g.Generation)
			}
			then(t, in)
		},
	}
}

// bumped: the API server moved the object's generation on for the step.
func bumped(t *testing.T, what string, generation int64) {
	t.Helper()
	if generation < 2 {
		t.Errorf("%s: generation %d after a spec change", what, generation)
	}
}

// allAt: every condition observed the generation.
func allAt(t *testing.T, what string, conds []metav1.Condition, generation int64) {
	t.Helper()
	if len(conds) == 0 {
		t.Errorf("%s: no conditions in the API server", what)
	}
	for _, c := range conds {
		if c.ObservedGeneration != generation {
			t.Errorf("%s: %s observedGeneration %d, want %d", what, c.Type, c.ObservedGeneration, generation)
		}
	}
}

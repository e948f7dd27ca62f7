package translator

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// The Gateway's and GatewayClass's own tests: listeners' status for bad
// kinds, protocols and certificates, ReferenceGrants to Secrets, attached
// routes, and generations. Their features are Gateway (and ReferenceGrant),
// so they count in the core of every profile.

var httpKinds = []string{httpRouteK}

func findGateway(t *testing.T, in *Input, name string) *gatewayv1.Gateway {
	t.Helper()
	for _, g := range in.Gateways {
		if g.Namespace+"/"+g.Name == name {
			return g
		}
	}
	t.Fatalf("no Gateway %s", name)
	return nil
}

// okListener is a listener the suite wants Accepted and ResolvedRefs
// (any reason) with n routes attached.
func okListener(gw, l string, n int32) []confStatus {
	return listenerState(gw, l, n, httpKinds, "Accepted", conditionOK, "", "ResolvedRefs", conditionOK, "")
}

// atGeneration expects the conditions of ss observed at gen: the
// Gateway's generation after a step changed its spec.
func atGeneration(gen int64, ss []confStatus) []confStatus {
	out := make([]confStatus, len(ss))
	for i, s := range ss {
		s.generation = gen
		out[i] = s
	}
	return out
}

// secretRefCase ports a gateway-secret-*-reference-grant.go test: an
// https listener whose certificate is in another namespace, allowed by
// a ReferenceGrant (the listener is programmed) or not (RefNotPermitted).
func secretRefCase(name string, allowed bool) *conformanceCase {
	gw := infra(name)
	c := port(name2short(name), name, plus(fGW, features.SupportReferenceGrant)...).expect(listenerNames(gw, "https"))
	if allowed {
		return c.expect(listenerState(gw, "https", 0, httpKinds, "Programmed", conditionOK, "Programmed", "ResolvedRefs", conditionOK, "")...)
	}
	return c.expect(listenerState(gw, "https", 0, httpKinds, "ResolvedRefs", "False", "RefNotPermitted")...)
}

func init() {
	register(invalidTLSCase(), unsupportedProtocolCase())
}

// invalidTLSCase ports gateway-invalid-tls-configuration.go: a listener
// whose certificateRef is missing, of another group or kind, or
// malformed does not resolve.
func invalidTLSCase() *conformanceCase {
	invalidTLS := port("GatewayInvalidTLSConfiguration", "gateway-invalid-tls-configuration", fGW...)
	for _, gw := range []string{"gateway-certificate-nonexistent-secret", "gateway-certificate-unsupported-group", "gateway-certificate-unsupported-kind", "gateway-certificate-malformed-secret"} {
		invalidTLS.expect(listenerNames(infra(gw), "https")).
			expect(listenerState(infra(gw), "https", 0, httpKinds, "ResolvedRefs", "False", "InvalidCertificateRef")...)
	}
	return invalidTLS
}

// unsupportedProtocolCase ports gateway-invalid-listeners-unsupported-protocol.go.
func unsupportedProtocolCase() *conformanceCase {
	onlyBad, someBad := infra("gateway-only-unsupported-protocols"), infra("gateway-supported-and-unsupported-protocols")
	return port("GatewayListenerUnsupportedProtocol", "gateway-invalid-listeners-unsupported-protocol", fGW...).
		expect(latest("Gateway", onlyBad, 1), gatewayCond(onlyBad, "Accepted", metav1.ConditionFalse, "ListenersNotValid"),
			listenerNames(onlyBad, "invalid"),
			latest("Gateway", someBad, 1), gatewayCond(someBad, "Accepted", metav1.ConditionTrue, "ListenersNotValid"),
			listenerNames(someBad, "http", "invalid")).
		expect(listenerState(onlyBad, "invalid", 0, nil, "Accepted", "False", "UnsupportedProtocol")...).
		expect(listenerState(someBad, "http", 0, httpKinds, "Accepted", conditionOK, "Accepted")...).
		expect(listenerState(someBad, "invalid", 0, nil, "Accepted", "False", "UnsupportedProtocol")...)
}

func init() {
	register(
		port("GatewayInvalidRouteKind", "gateway-invalid-route-kind", fGW...).
			expect(listenerNames(infra("gateway-only-invalid-route-kind"), "http"),
				listenerNames(infra("gateway-supported-and-invalid-route-kind"), "http")).
			expect(listenerState(infra("gateway-only-invalid-route-kind"), "http", 0, nil, "ResolvedRefs", "False", "InvalidRouteKinds")...).
			expect(listenerState(infra("gateway-supported-and-invalid-route-kind"), "http", 0, httpKinds, "ResolvedRefs", "False", "InvalidRouteKinds")...),
		secretRefCase("gateway-secret-invalid-reference-grant", false),
		secretRefCase("gateway-secret-missing-reference-grant", false),
		secretRefCase("gateway-secret-reference-grant-all-in-namespace", true),
		secretRefCase("gateway-secret-reference-grant-specific", true),
		port("GatewayClassObservedGenerationBump", "gatewayclass-observed-generation-bump", fGW...).
			expect(confStatus{kind: "GatewayClass", name: "gatewayclass-observed-generation-bump", cond: "Accepted"},
				latest("GatewayClass", "gatewayclass-observed-generation-bump", 1)).
			step(confStep{
				change: func(t *testing.T, in *Input) {
					for _, c := range in.GatewayClasses {
						if c.Name == "gatewayclass-observed-generation-bump" {
							c.Spec.Description, c.Generation = refTo("new"), 2
							return
						}
					}
					t.Fatal("no GatewayClass gatewayclass-observed-generation-bump")
				},
				status: []confStatus{{kind: "GatewayClass", name: "gatewayclass-observed-generation-bump", cond: "Accepted", generation: 2},
					latest("GatewayClass", "gatewayclass-observed-generation-bump", 2)},
			}),
		port("GatewayObservedGenerationBump", "gateway-observed-generation-bump", fGW...).
			expect(latest("Gateway", infra("gateway-observed-generation-bump"), 1)).
			step(confStep{
				change: func(t *testing.T, in *Input) {
					g := findGateway(t, in, infra("gateway-observed-generation-bump"))
					g.Spec.Listeners = append(g.Spec.Listeners, gatewayv1.Listener{Name: "alternate", Hostname: refTo(gatewayv1.Hostname("foo.com")),
						Port: 80, Protocol: gatewayv1.HTTPProtocolType,
						AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: refTo(gatewayv1.NamespacesFromAll)}}})
					g.Generation = 2
				},
				status: []confStatus{latest("Gateway", infra("gateway-observed-generation-bump"), 2)},
			}),
		modifyListeners(),
		attachedRoutesCase(),
		port("GatewayWithAttachedRoutesWithPort8080", "gateway-with-attached-routes-with-port-8080", plus(fGW, features.SupportGatewayPort8080, features.SupportHTTPRoute)...).
			expect(listenerNames(infra("gateway-with-two-listeners-and-one-attached-route"), "http-unattached", "http")).
			expect(okListener(infra("gateway-with-two-listeners-and-one-attached-route"), "http-unattached", 0)...).
			expect(okListener(infra("gateway-with-two-listeners-and-one-attached-route"), "http", 1)...),
	)
}

// name2short is the suite's ShortName of the gateway-secret-* tests.
func name2short(name string) string {
	return map[string]string{
		"gateway-secret-invalid-reference-grant":          "GatewaySecretInvalidReferenceGrant",
		"gateway-secret-missing-reference-grant":          "GatewaySecretMissingReferenceGrant",
		"gateway-secret-reference-grant-all-in-namespace": "GatewaySecretReferenceGrantAllInNamespace",
		"gateway-secret-reference-grant-specific":         "GatewaySecretReferenceGrantSpecific",
	}[name]
}

// modifyListeners ports gateway-modify-listeners.go: a listener added to
// a Gateway takes its routes, a listener removed drops them.
func modifyListeners() *conformanceCase {
	add, remove := infra("gateway-add-listener"), infra("gateway-remove-listener")
	return port("GatewayModifyListeners", "gateway-modify-listeners", fGW...).
		expect(latest("Gateway", add, 1), latest("Gateway", remove, 1)).
		step(confStep{
			change: func(t *testing.T, in *Input) {
				g := findGateway(t, in, add)
				g.Spec.Listeners = append(g.Spec.Listeners, gatewayv1.Listener{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType,
					Hostname:      refTo(gatewayv1.Hostname("data.test.com")),
					AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: refTo(gatewayv1.NamespacesFromAll)}}})
				g.Generation = 2
			},
			status: append(append([]confStatus{listenerNames(add, "https", "http"), latest("Gateway", add, 2)},
				atGeneration(2, okListener(add, "https", 1))...), atGeneration(2, okListener(add, "http", 1))...),
		}).
		step(confStep{
			change: func(t *testing.T, in *Input) {
				g := findGateway(t, in, remove)
				if len(g.Spec.Listeners) != 2 {
					t.Fatalf("Gateway %s has %d listeners, the test needs 2", remove, len(g.Spec.Listeners))
				}
				var keep []gatewayv1.Listener
				for _, l := range g.Spec.Listeners {
					if l.Name == "http" {
						keep = append(keep, l)
					}
				}
				g.Spec.Listeners, g.Generation = keep, 2
			},
			status: append([]confStatus{listenerNames(remove, "http"), latest("Gateway", remove, 2)}, atGeneration(2, okListener(remove, "http", 1))...),
		})
}

// attachedRoutesCase ports gateway-with-attached-routes.go's
// GatewayWithAttachedRoutes: attachedRoutes counts the routes a listener
// accepts, also while the Gateway's references do not resolve.
func attachedRoutesCase() *conformanceCase {
	one, two := infra("gateway-with-one-attached-route"), infra("gateway-with-two-attached-routes")
	unresolved := infra("unresolved-gateway-with-one-attached-unresolved-route")
	return port("GatewayWithAttachedRoutes", "gateway-with-attached-routes", plus(fGW, features.SupportHTTPRoute)...).
		expect(listenerNames(one, "http"), listenerNames(two, "http"), listenerNames(unresolved, "tls")).
		expect(okListener(one, "http", 1)...).
		expect(okListener(two, "http", 2)...).
		expect(routeCond(httpRouteK, infra("http-route-not-accepted"), two, "Accepted", metav1.ConditionFalse, "NoMatchingListenerHostname")).
		expect(listenerState(unresolved, "tls", 1, httpKinds, "Programmed", "False", "", "ResolvedRefs", "False", "")...).
		expect(routeCond(httpRouteK, infra("http-route-4"), unresolved, "ResolvedRefs", metav1.ConditionFalse, ""))
}

package translator

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// GATEWAY-TLS: connections by SNI to TLS listeners, passed through or
// terminated, and the listeners' and routes' status.

// tlsTo is a TLS connection on port with sni that reaches backend
// (refused when backend is "").
func tlsTo(gateway string, port int, sni, backend string) confStream {
	return confStream{gateway: gateway, port: port, sni: sni, backend: backend, refused: backend == ""}
}

// tlsIntersection ports tlsroute-hostname-intersection.go: TLSRoutes'
// hostnames intersected with the listener's, on four Gateways.
func tlsIntersection() *conformanceCase {
	tlsBackend2 := infra("tls-backend-2")
	intersection := port("TLSRouteHostnameIntersection", "tlsroute-hostname-intersection", fTLS...)
	for _, g := range []struct {
		gw      string
		routes  []string
		noMatch string
		both    bool
	}{
		{"gw-tlsroute-exact-hostname-x-1", []string{"tlsroute-more-specific-wc-hostname-x-1"}, "non.matching.com", false},
		{"gw-tlsroute-more-specific-wc-hostname-x-2", []string{"tlsroute-exact-hostname-x-2", "tlsroute-less-specific-wc-hostname-x-2"}, "non.matching.com", true},
		{"gw-tlsroute-less-specific-wc-hostname-x-3", []string{"tlsroute-exact-hostname-x-3", "tlsroute-more-specific-wc-hostname-x-3"}, "non.matching.com", true},
		{"gw-tlsroute-empty-hostname-x-4", []string{"tlsroute-exact-hostname-x-4", "tlsroute-less-specific-wc-hostname-x-4"}, "non.matching.org", true},
	} {
		gw := infra(g.gw)
		var routes []string
		for _, r := range g.routes {
			routes = append(routes, infra(r))
		}
		intersection.on(gw).accepted(tlsRouteK, gw, routes...).resolved(tlsRouteK, gw, routes...).
			connect(tlsTo(gw, 443, "abc.example.com", confTLSBackend), tlsTo(gw, 443, g.noMatch, ""))
		if g.both {
			intersection.connect(tlsTo(gw, 443, "other.example.com", tlsBackend2))
		}
	}
	return intersection
}

func init() {
	resolvedFalse := func(route, gw, reason string) confStatus {
		return routeCond(tlsRouteK, infra(route), infra(gw), "ResolvedRefs", metav1.ConditionFalse, reason)
	}
	register(
		tlsIntersection(),
		mixedTermination(),
		port("TLSRouteTerminateSimpleSameNamespace", "tlsroute-terminate-simple-same-namespace", plus(fTLS, features.SupportTLSRouteModeTerminate)...).
			on(infra("gateway-tlsroute-terminate")).
			accepted(tlsRouteK, infra("gateway-tlsroute-terminate"), infra("tlsroute-terminated-test")).
			connect(confStream{port: 8443, sni: "tls.example.com", backend: tcpBackend, terminated: true}),
		port("TLSRouteSimpleSameNamespace", "tlsroute-simple-same-namespace", fTLS...).on(infra("gateway-tlsroute")).
			accepted(tlsRouteK, infra("gateway-tlsroute"), infraRoute).
			connect(tlsTo(infra("gateway-tlsroute"), 443, "abc.example.com", tcpBackend)),
		port("TLSRouteInvalidBackendRefNonexistent", "tlsroute-invalid-backendref-nonexistent", fTLS...).on(infra("gateway-tlsroute-invalid-backend-ref-nonexistent")).
			accepted(tlsRouteK, infra("gateway-tlsroute-invalid-backend-ref-nonexistent"), infra("invalid-backend-ref-nonexistent")).
			expect(resolvedFalse("invalid-backend-ref-nonexistent", "gateway-tlsroute-invalid-backend-ref-nonexistent", "BackendNotFound")).
			connect(tlsTo("", 443, "example.com", "")),
		port("TLSRouteInvalidBackendRefUnknownKind", "tlsroute-invalid-backendref-unknown-kind", fTLS...).on(infra("gateway-tlsroute-invalid-backend-ref-unknown-kind")).
			accepted(tlsRouteK, infra("gateway-tlsroute-invalid-backend-ref-unknown-kind"), infra("invalid-backend-ref-unknown-kind")).
			expect(resolvedFalse("invalid-backend-ref-unknown-kind", "gateway-tlsroute-invalid-backend-ref-unknown-kind", "InvalidKind")).
			connect(tlsTo("", 443, "example.com", "")),
	)
}

// The TLS tests that check status only.
func init() {
	notAccepted := func(route, gw, reason string) confStatus {
		return routeCond(tlsRouteK, infra(route), infra(gw), "Accepted", metav1.ConditionFalse, reason)
	}
	resolvedFalse := func(route, gw, reason string) confStatus {
		return routeCond(tlsRouteK, infra(route), infra(gw), "ResolvedRefs", metav1.ConditionFalse, reason)
	}
	listener := func(gw, l, cond string, status metav1.ConditionStatus, reason string) confStatus {
		return listenerCond(infra(gw), l, cond, status, reason)
	}
	register(
		port("TLSRouteInvalidNoMatchingListenerHostname", "tlsroute-invalid-no-matching-listener-hostname", fTLS...).
			expect(notAccepted("tlsroute-hostname-mismatch-1", "gateway-tls-exact-hostname", "NoMatchingListenerHostname"),
				notAccepted("tlsroute-hostname-mismatch-2", "gateway-tls-wildcard-hostname", "NoMatchingListenerHostname"),
				confStatus{kind: tlsRouteK, name: infra("tlsroute-hostname-mismatch-1"), noAcceptedParent: true},
				confStatus{kind: tlsRouteK, name: infra("tlsroute-hostname-mismatch-2"), noAcceptedParent: true},
				zeroRoutes(infra("gateway-tls-exact-hostname")), zeroRoutes(infra("gateway-tls-wildcard-hostname"))),
		port("TLSRouteInvalidNoMatchingListener", "tlsroute-invalid-no-matching-listener", fTLS...).
			expect(notAccepted("tlsroute-not-allowed-protocol-http", "gateway-tlsroute-http-only", "NotAllowedByListeners"),
				notAccepted("tlsroute-not-allowed-protocol-https", "gateway-tlsroute-https-only", "NotAllowedByListeners"),
				notAccepted("tlsroute-no-matching-section-name", "gateway-tlsroute-tls-passthrough-only", "NoMatchingParent"),
				confStatus{kind: tlsRouteK, name: infra("tlsroute-not-allowed-protocol-http"), noAcceptedParent: true},
				confStatus{kind: tlsRouteK, name: infra("tlsroute-not-allowed-protocol-https"), noAcceptedParent: true},
				confStatus{kind: tlsRouteK, name: infra("tlsroute-no-matching-section-name"), noAcceptedParent: true},
				zeroRoutes(infra("gateway-tlsroute-http-only")), zeroRoutes(infra("gateway-tlsroute-https-only"))),
		port("TLSRouteInvalidReferenceGrant", "tlsroute-invalid-reference-grant", plus(fTLS, features.SupportReferenceGrant)...).
			accepted(tlsRouteK, infra("gateway-tlsroute-referencegrant"), infraRoute).
			expect(resolvedFalse("gateway-conformance-infra-test", "gateway-tlsroute-referencegrant", "RefNotPermitted")),
		port("TLSRouteListenerPassthroughSupportedKinds", "tlsroute-listener-passthrough-supported-kinds", fTLS...).
			expect(supportedKinds(infra("gateway-tlsroute-passthrough-supported-kind"), "tls-passthrough", tlsRouteK),
				listener("gateway-tlsroute-passthrough-supported-kind", "tls-passthrough", "ResolvedRefs", metav1.ConditionFalse, "InvalidRouteKinds"),
				attachedRoutes(infra("gateway-tlsroute-passthrough-supported-kind"), "tls-passthrough", 0)),
		port("TLSRouteListenerTerminateSupportedKinds", "tlsroute-listener-terminate-supported-kinds", plus(fTLS, features.SupportTLSRouteModeTerminate)...).
			expect(supportedKinds(infra("gateway-tlsroute-terminate-supported"), "tls-terminate", tlsRouteK),
				listener("gateway-tlsroute-terminate-supported", "tls-terminate", "Accepted", metav1.ConditionTrue, "Accepted"),
				attachedRoutes(infra("gateway-tlsroute-terminate-supported"), "tls-terminate", 0)),
		unless(features.SupportTLSRouteModeTerminate, port("TLSRouteListenerTerminateNotSupported", "tlsroute-listener-terminate-not-supported", fTLS...).
			expect(listener("gateway-tlsroute-terminate-unsupported", "tls-terminate", "Accepted", metav1.ConditionFalse, "UnsupportedValue"),
				attachedRoutes(infra("gateway-tlsroute-terminate-unsupported"), "tls-terminate", 0))),
		unless(features.SupportTLSRouteModeMixed, port("TLSRouteListenerMixedTerminationNotSupported", "tlsroute-listener-mixed-termination-not-supported",
			plus(fTLS, features.SupportTLSRouteModeTerminate)...).
			expect(listener("gateway-tlsroute-mixed-termination-not-supported", "tls-terminate", "Accepted", metav1.ConditionFalse, "ProtocolConflict"),
				listener("gateway-tlsroute-mixed-termination-not-supported", "tls-passthrough", "Accepted", metav1.ConditionFalse, "ProtocolConflict"),
				attachedRoutes(infra("gateway-tlsroute-mixed-termination-not-supported"), "tls-terminate", 0),
				attachedRoutes(infra("gateway-tlsroute-mixed-termination-not-supported"), "tls-passthrough", 0))),
	)
}

func unless(f features.FeatureName, c *conformanceCase) *conformanceCase {
	c.unless = f
	return c
}

// mixedTermination ports tlsroute-mixed-termination-same-namespace.go:
// one port, a terminating and a passthrough listener told apart by SNI.
func mixedTermination() *conformanceCase {
	gw := infra("gateway-tlsroute-mixed-termination")
	c := port("TLSRouteMixedTerminationSameNamespace", "tlsroute-mixed-termination-same-namespace",
		plus(fTLS, features.SupportTLSRouteModeTerminate, features.SupportTLSRouteModeMixed)...).on(gw).
		accepted(tlsRouteK, gw, infra("gateway-conformance-mixed-passthroughroute")).
		accepted(tlsRouteK, gw, infra("gateway-conformance-mixed-terminateroute"))
	for _, l := range []string{"tls-terminate", "tls-passthrough"} {
		c.expect(supportedKinds(gw, l, tlsRouteK), listenerCond(gw, l, "Accepted", metav1.ConditionTrue, "Accepted"), attachedRoutes(gw, l, 1))
	}
	return c.connect(confStream{port: 8883, sni: "tls.example.com", backend: tcpBackend, terminated: true},
		confStream{port: 8883, sni: "abc.example.com", backend: tcpBackend})
}

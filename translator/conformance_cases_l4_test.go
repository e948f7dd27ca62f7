package translator

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// GATEWAY-TCP and GATEWAY-UDP: connections to TCP and UDP listeners, and
// the routes' status. The suite's weight tests count a distribution over
// many connections; here the configured weights must be the shares.

func tcpConn(gateway string, port int, backend string) confStream {
	return confStream{gateway: gateway, port: port, backend: backend}
}

func udpConn(gateway string, port int, backend string) confStream {
	return confStream{gateway: gateway, port: port, udp: true, backend: backend}
}

// newerRoute is a step that applies a route after the others (the suite
// waits a second and creates it), so that it is the youngest.
func newerRoute(add func(in *Input, meta metav1.ObjectMeta)) func(*testing.T, *Input) {
	return func(_ *testing.T, in *Input) {
		meta := metav1.ObjectMeta{Namespace: conformanceInfra, Generation: 1,
			CreationTimestamp: metav1.NewTime(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))}
		add(in, meta)
	}
}

func backendRef(name string, port int32) []gatewayv1.BackendRef {
	return []gatewayv1.BackendRef{{BackendObjectReference: gatewayv1.BackendObjectReference{
		Name: gatewayv1.ObjectName(name), Port: refTo(gatewayv1.PortNumber(port))}}}
}

func parentSection(gw, section string) gatewayv1.CommonRouteSpec {
	return gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{
		Name: gatewayv1.ObjectName(gw), SectionName: refTo(gatewayv1.SectionName(section))}}}
}

// resolved and accepted are a stream route's parent conditions, by name
// in the infrastructure namespace.
func resolved(kind, route, gw string, status metav1.ConditionStatus, reason string) confStatus {
	return routeCond(kind, infra(route), infra(gw), "ResolvedRefs", status, reason)
}

func accepted(kind, route, gw string) confStatus {
	return routeCond(kind, infra(route), infra(gw), "Accepted", metav1.ConditionTrue, "Accepted")
}

func init() {
	register(tcpCases()...)
	register(udpCases()...)
}

func tcpCases() []*conformanceCase {
	attachAll, byPort := infra("tcp-attach-all-gateway"), infra("tcp-multi-listener-gateway")
	multi := infra("tcp-multi-route-attach-gateway")
	return []*conformanceCase{
		port("TCPRouteInvalidBackendRefNonexistent", "tcproute-invalid-backendref-nonexistent", fTCP...).
			expect(resolved(tcpRouteK, "tcp-route-invalid-backend-ref-nonexistent", "tcp-gateway-invalid-backend", metav1.ConditionFalse, "BackendNotFound")),
		port("TCPRouteInvalidCrossNamespaceBackendRef", "tcproute-invalid-cross-namespace-backend-ref", plus(fTCP, features.SupportReferenceGrant)...).
			accepted(tcpRouteK, "tcp-invalid-cross-namespace-backend-ref-gateway/tcp", infra("tcp-invalid-cross-namespace-backend-ref")).
			expect(resolved(tcpRouteK, "tcp-invalid-cross-namespace-backend-ref", "tcp-invalid-cross-namespace-backend-ref-gateway", metav1.ConditionFalse, "RefNotPermitted")),
		port("TCPRouteInvalidNonTCPListener", "tcproute-invalid-non-tcp-listener", fTCP...).
			expect(routeCond(tcpRouteK, infra("tcp-route"), infra("tcp-mixed-protocol-gateway"), "Accepted", metav1.ConditionFalse, "NotAllowedByListeners"),
				zeroRoutes(infra("tcp-mixed-protocol-gateway"))),
		port("TCPRouteMultipleRoutesAttachment", "tcproute-multiple-routes-attachment", fTCP...).on(multi).
			accepted(tcpRouteK, "tcp-multi-route-attach-gateway/tcp", infra("tcproute-attach-older")).
			step(confStep{
				change: newerRoute(func(in *Input, meta metav1.ObjectMeta) {
					meta.Name = "tcproute-attach-newer"
					in.TCPRoutes = append(in.TCPRoutes, &gatewayv1.TCPRoute{ObjectMeta: meta, Spec: gatewayv1.TCPRouteSpec{
						CommonRouteSpec: parentSection("tcp-multi-route-attach-gateway", "tcp"),
						Rules:           []gatewayv1.TCPRouteRule{{BackendRefs: backendRef("tcp-attach-backend-2", 3000)}}}})
				}),
				status: []confStatus{accepted(tcpRouteK, "tcproute-attach-older", "tcp-multi-route-attach-gateway"),
					accepted(tcpRouteK, "tcproute-attach-newer", "tcp-multi-route-attach-gateway"),
					supportedKinds(multi, "tcp", tcpRouteK), listenerCond(multi, "tcp", "Accepted", metav1.ConditionTrue, "Accepted"),
					attachedRoutes(multi, "tcp", 2)},
				streams: []confStream{tcpConn(multi, 9310, infra("tcp-attach-backend-1"))},
			}),
		port("TCPRouteParentRefAttachAll", "tcproute-parentref-attach-all", fTCP...).on(attachAll).
			expect(routeAccepted(tcpRouteK, infra("tcp-route-attach-all"), attachAll)).
			connect(tcpConn(attachAll, 9310, infra("tcp-echo-attach-all")), tcpConn(attachAll, 9311, infra("tcp-echo-attach-all")),
				tcpConn(attachAll, 9312, infra("tcp-echo-attach-all")), tcpConn(attachAll, 9313, infra("tcp-echo-attach-all"))),
		port("TCPRouteParentRefPortAndSectionName", "tcproute-parentref-port-and-section-name", fTCP...).on(byPort).
			expect(routeAccepted(tcpRouteK, infra("tcp-route-by-port"), byPort), routeAccepted(tcpRouteK, infra("tcp-route-by-section"), byPort),
				routeAccepted(tcpRouteK, infra("tcp-route-by-section-and-port"), byPort)).
			connect(tcpConn(byPort, 9300, infra("tcp-echo-one")), tcpConn(byPort, 9301, infra("tcp-echo-two")), tcpConn(byPort, 9302, infra("tcp-echo-three"))),
		port("TCPRouteReferenceGrant", "tcproute-reference-grant", plus(fTCP, features.SupportReferenceGrant)...).on(infra("tcp-reference-grant-gateway")).
			accepted(tcpRouteK, "tcp-reference-grant-gateway/tcp", infra("tcp-reference-grant")).
			connect(tcpConn("", 9320, conformanceWeb+"/tcp-reference-grant-backend")).
			step(confStep{change: deleteReferenceGrant(conformanceWeb, "tcp-reference-grant"),
				status: []confStatus{resolved(tcpRouteK, "tcp-reference-grant", "tcp-reference-grant-gateway", metav1.ConditionFalse, "RefNotPermitted")}}),
		port("TCPRouteWeightedRouting", "tcproute-weighted-routing", fTCP...).on(infra("tcp-weighted-gateway")).
			accepted(tcpRouteK, "tcp-weighted-gateway/tcp", infra("tcp-weighted-route")).
			connect(confStream{port: 9300, weights: map[string]int{infra("tcp-backend-v1"): 7, infra("tcp-backend-v2"): 3}}),
	}
}

func udpCases() []*conformanceCase {
	udpAll, udpByPort, udpMulti := infra("udp-attach-all-listeners-gateway"), infra("udp-multi-listener-gateway"), infra("udp-multi-route-attach-gateway")
	notAllowed := port("UDPRouteNotAllowedByListeners", "udproute-not-allowed-by-listeners", fUDP...).
		expect(routeCond(udpRouteK, infra("udproute-not-allowed-by-listeners"), infra("udproute-tls-only-gateway"), "Accepted", metav1.ConditionFalse, "NotAllowedByListeners"),
			zeroRoutes(infra("udproute-tls-only-gateway")))
	notAllowed.only = features.SupportTLSRoute
	allListeners := port("UDPRouteParentRefAttachAllListeners", "udproute-parentref-attach-all-listeners", fUDP...).on(udpAll).
		expect(routeAccepted(udpRouteK, infra("udp-route-attach-all"), udpAll))
	for i, l := range []string{"udp-1", "udp-2", "udp-3"} {
		allListeners.expect(supportedKinds(udpAll, l, udpRouteK), attachedRoutes(udpAll, l, 1),
			listenerCond(udpAll, l, "Accepted", metav1.ConditionTrue, ""), listenerCond(udpAll, l, "ResolvedRefs", metav1.ConditionTrue, "")).
			connect(udpConn(udpAll, 5310+i, infra("udp-echo-attach-all")))
	}
	return []*conformanceCase{
		port("UDPRouteInvalidBackendRefNonexistent", "udproute-invalid-backendref-nonexistent", fUDP...).
			expect(resolved(udpRouteK, "udp-route-invalid-backend-ref-nonexistent", "udp-gateway-invalid-backend", metav1.ConditionFalse, "BackendNotFound")),
		port("UDPRouteInvalidCrossNamespaceBackendRef", "udproute-invalid-cross-namespace-backend-ref", plus(fUDP, features.SupportReferenceGrant)...).
			accepted(udpRouteK, infra("udp-gateway-invalid-cross-namespace-backend-ref"), infra("udp-route-invalid-cross-namespace-backend-ref")).
			expect(resolved(udpRouteK, "udp-route-invalid-cross-namespace-backend-ref", "udp-gateway-invalid-cross-namespace-backend-ref", metav1.ConditionFalse, "RefNotPermitted")),
		port("UDPRouteMultipleRoutesAttachment", "udproute-multiple-routes-attachment", fUDP...).on(udpMulti).
			accepted(udpRouteK, "udp-multi-route-attach-gateway/udp", infra("udproute-attach-older")).
			step(confStep{
				change: newerRoute(func(in *Input, meta metav1.ObjectMeta) {
					meta.Name = "udproute-attach-newer"
					in.UDPRoutes = append(in.UDPRoutes, &gatewayv1.UDPRoute{ObjectMeta: meta, Spec: gatewayv1.UDPRouteSpec{
						CommonRouteSpec: parentSection("udp-multi-route-attach-gateway", "udp"),
						Rules:           []gatewayv1.UDPRouteRule{{BackendRefs: backendRef("udp-attach-backend-2", 8080)}}}})
				}),
				status: []confStatus{accepted(udpRouteK, "udproute-attach-older", "udp-multi-route-attach-gateway"),
					accepted(udpRouteK, "udproute-attach-newer", "udp-multi-route-attach-gateway"),
					supportedKinds(udpMulti, "udp", udpRouteK), listenerCond(udpMulti, "udp", "Accepted", metav1.ConditionTrue, "Accepted"),
					attachedRoutes(udpMulti, "udp", 2)},
				streams: []confStream{udpConn(udpMulti, 5301, infra("udp-attach-backend-1"))},
			}),
		notAllowed,
		allListeners,
		port("UDPRouteParentRefPortAndSectionName", "udproute-parentref-port-and-section-name", fUDP...).on(udpByPort).
			expect(routeAccepted(udpRouteK, infra("udp-route-by-port"), udpByPort), routeAccepted(udpRouteK, infra("udp-route-by-section"), udpByPort),
				routeAccepted(udpRouteK, infra("udp-route-by-section-and-port"), udpByPort)).
			connect(udpConn(udpByPort, 5300, infra("udp-echo-by-port")), udpConn(udpByPort, 5301, infra("udp-echo-by-section")),
				udpConn(udpByPort, 5302, infra("udp-echo-by-section-and-port"))),
		port("UDPRouteReferenceGrant", "udproute-reference-grant", plus(fUDP, features.SupportReferenceGrant)...).on(infra("udp-gateway-reference-grant")).
			accepted(udpRouteK, infra("udp-gateway-reference-grant"), infra("udp-route-reference-grant")).
			expect(resolved(udpRouteK, "udp-route-reference-grant", "udp-gateway-reference-grant", metav1.ConditionTrue, "ResolvedRefs")).
			connect(udpConn("", 5300, conformanceApp+"/udp-echo-reference-grant")).
			step(confStep{change: deleteReferenceGrant(conformanceApp, "udp-reference-grant"),
				status: []confStatus{resolved(udpRouteK, "udp-route-reference-grant", "udp-gateway-reference-grant", metav1.ConditionFalse, "RefNotPermitted")}}),
		port("UDPRoute", "udproute-simple", fUDP...).on(infra("udp-gateway")).
			accepted(udpRouteK, infra("udp-gateway"), infra("udp-coredns")).
			connect(udpConn("", 5300, coreDNS)),
		port("UDPRouteWeightedRouting", "udproute-weighted-routing", fUDP...).on(infra("udp-weighted-gateway")).
			accepted(udpRouteK, "udp-weighted-gateway/udp", infra("udp-weighted-route")).
			connect(confStream{port: 5300, udp: true, weights: map[string]int{infra("udp-backend-v1"): 7, infra("udp-backend-v2"): 3}}),
	}
}

package translator

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// GATEWAY-HTTP, core: routing by path, header and host; the
// expectations of each test's http.ExpectedResponse list, in its order.

func init() {
	register(
		port("HTTPRouteSimpleSameNamespace", "httproute-simple-same-namespace", fHTTP...).on(sameNS).
			accepted(httpRouteK, sameNS, infraRoute).resolved(httpRouteK, sameNS, infraRoute).
			get(to("/", infraV1)),
		port("HTTPRouteCrossNamespace", "httproute-cross-namespace", fHTTP...).on(backendNS).
			accepted(httpRouteK, backendNS, conformanceWeb+"/cross-namespace").resolved(httpRouteK, backendNS, conformanceWeb+"/cross-namespace").
			get(to("/", webBackend)),
		port("HTTPRouteExactPathMatching", "httproute-exact-path-matching", fHTTP...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("exact-matching")).resolved(httpRouteK, sameNS, infra("exact-matching")).
			get(to("/one", infraV1), to("/two", infraV2), answered("/", 404), answered("/one/example", 404),
				answered("/two/", 404), answered("/Two", 404)),
		port("HTTPRouteHeaderMatching", "httproute-header-matching", fHTTP...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("header-matching")).resolved(httpRouteK, sameNS, infra("header-matching")).
			get(to("/", infraV1).with("Version", "one"), to("/", infraV2).with("Version", "two"),
				to("/", infraV1).with("Version", "two", "Color", "orange"), to("/", infraV2).with("Version", "two", "Color", "blue"),
				answered("/", 404).with("Color", "orange"), answered("/", 404).with("Some-Other-Header", "one"),
				to("/", infraV1).with("Color", "blue"), to("/", infraV1).with("Color", "green"),
				to("/", infraV2).with("Color", "red"), to("/", infraV2).with("Color", "yellow"),
				answered("/", 404).with("Color", "purple")),
		port("HTTPRouteMatching", "httproute-matching", fHTTP...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("matching")).resolved(httpRouteK, sameNS, infra("matching")).
			get(to("/", infraV1), to("/example", infraV1), to("/", infraV1).with("Version", "one"),
				to("/v2", infraV2), to("/v2/example", infraV2), to("/", infraV2).with("Version", "two"),
				to("/v2/", infraV2), to("/v2example", infraV1), to("/foo/v2/example", infraV1)),
		hostnameIntersection(),
		port("HTTPRouteListenerHostnameMatching", "httproute-listener-hostname-matching", fHTTP...).on(infra("httproute-listener-hostname-matching")).
			accepted(httpRouteK, "httproute-listener-hostname-matching/listener-1", infra("backend-v1")).
			resolved(httpRouteK, infra("httproute-listener-hostname-matching"), infra("backend-v1")).
			accepted(httpRouteK, "httproute-listener-hostname-matching/listener-2", infra("backend-v2")).
			resolved(httpRouteK, infra("httproute-listener-hostname-matching"), infra("backend-v2")).
			accepted(httpRouteK, "httproute-listener-hostname-matching/listener-3", infra("backend-v3")).
			accepted(httpRouteK, "httproute-listener-hostname-matching/listener-4", infra("backend-v3")).
			resolved(httpRouteK, infra("httproute-listener-hostname-matching"), infra("backend-v3")).
			get(hostTo("bar.com", "/", infraV1), hostTo("foo.bar.com", "/", infraV2), hostTo("baz.bar.com", "/", infraV3),
				hostTo("boo.bar.com", "/", infraV3), hostTo("multiple.prefixes.bar.com", "/", infraV3),
				hostTo("multiple.prefixes.foo.com", "/", infraV3),
				confRequest{host: "foo.com", path: "/", status: 404}, confRequest{host: "no.matching.host", path: "/", status: 404}),
		port("HTTPRouteMatchingAcrossRoutes", "httproute-matching-across-routes", fHTTP...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("matching-part1"), infra("matching-part2")).
			resolved(httpRouteK, sameNS, infra("matching-part1"), infra("matching-part2")).
			get(hostTo("example.com", "/", infraV1), hostTo("example.com", "/example", infraV1),
				hostTo("example.net", "/example", infraV1), hostTo("example.com", "/example", infraV1).with("Version", "one"),
				hostTo("example.com", "/v2", infraV2), hostTo("example.net", "/v2", infraV1),
				hostTo("example.com", "/v2/example", infraV2), hostTo("example.com", "/", infraV2).with("Version", "two")),
		port("HTTPRoutePathMatchOrder", "httproute-path-match-order", fHTTP...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("path-matching-order")).resolved(httpRouteK, sameNS, infra("path-matching-order")).
			get(to("/match/exact/one", infraV3), to("/match/exact", infraV2), to("/match", infraV1),
				to("/match/prefix/one/any", infraV2), to("/match/prefix/any", infraV1), to("/match/any", infraV3)),
		port("HTTPRouteMultipleGateways", "httproute-multiple-gateways", fHTTP...).on(sameNS, allNS).
			accepted(httpRouteK, sameNS, infra("multiple-gateways-shared-route"), infra("same-namespace-dedicated-route")).
			accepted(httpRouteK, allNS, infra("multiple-gateways-shared-route"), infra("all-namespaces-dedicated-route")).
			get(to("/shared", infraV1), to("/", infraV2),
				confRequest{gateway: allNS, path: "/shared", backend: infraV1}, confRequest{gateway: allNS, path: "/", backend: infraV3}),
	)
}

// hostnameIntersection ports httproute-hostname-intersection.go: routes
// whose hostnames intersect the listeners' are served on the
// intersection; one that intersects none is not accepted, and counts in
// no listener's attachedRoutes.
func hostnameIntersection() *conformanceCase {
	gw, all := infra("httproute-hostname-intersection"), infra("httproute-hostname-intersection-all")
	routes := []string{infra("specific-host-matches-listener-specific-host"), infra("specific-host-matches-listener-wildcard-host"),
		infra("wildcard-host-matches-listener-specific-host"), infra("wildcard-host-matches-listener-wildcard-host")}
	miss := func(host, path string) confRequest { return confRequest{host: host, path: path, status: 404} }
	allTo := func(host string) confRequest {
		return confRequest{gateway: all, host: host, path: "/", backend: infraV2}
	}
	return port("HTTPRouteHostnameIntersection", "httproute-hostname-intersection", fHTTP...).on(gw, all).
		accepted(httpRouteK, gw, routes...).resolved(httpRouteK, gw, routes...).
		get(hostTo("very.specific.com", "/s1", infraV1), hostTo("very.specific.com:1234", "/s1", infraV1),
			miss("non.matching.com", "/s1"), miss("foo.nonmatchingwildcard.io", "/s1"), miss("foo.wildcard.io", "/s1"),
			miss("very.specific.com", "/non-matching-prefix"),
			hostTo("foo.wildcard.io", "/s2", infraV2), hostTo("bar.wildcard.io", "/s2", infraV2), hostTo("foo.bar.wildcard.io", "/s2", infraV2),
			miss("non.matching.com", "/s2"), miss("wildcard.io", "/s2"), miss("very.specific.com", "/s2"),
			miss("foo.wildcard.io", "/non-matching-prefix"),
			hostTo("very.specific.com", "/s3", infraV3), miss("non.matching.com", "/s3"), miss("foo.specific.com", "/s3"),
			miss("foo.wildcard.io", "/s3"), miss("very.specific.com", "/non-matching-prefix"),
			hostTo("foo.anotherwildcard.io", "/s4", infraV1), hostTo("bar.anotherwildcard.io", "/s4", infraV1),
			hostTo("foo.bar.anotherwildcard.io", "/s4", infraV1), miss("anotherwildcard.io", "/s4"), miss("foo.wildcard.io", "/s4"),
			miss("very.specific.com", "/s4"), miss("foo.anotherwildcard.io", "/non-matching-prefix"),
			miss("specific.but.wrong.com", "/s5"), miss("wildcard.io", "/s5"),
			allTo("first.com"), allTo("sub.first.com"), allTo("second.com"), allTo("sub.second.com"),
			confRequest{gateway: all, host: "third.com", path: "/", status: 404}, confRequest{gateway: all, host: "sub.third.com", path: "/", status: 404}).
		expect(routeCond(httpRouteK, infra("no-intersecting-hosts"), gw, "Accepted", metav1.ConditionFalse, "NoMatchingListenerHostname"),
			attachedRoutes(gw, "listener-1", 2), attachedRoutes(gw, "listener-2", 1), attachedRoutes(gw, "listener-3", 1),
			listenerCond(gw, "*", "Accepted", metav1.ConditionTrue, ""), listenerCond(gw, "*", "ResolvedRefs", metav1.ConditionTrue, "")).
		accepted(httpRouteK, all, infra("httproute-hostname-intersection-all")).resolved(httpRouteK, all, infra("httproute-hostname-intersection-all"))
}

// GATEWAY-HTTP, core: what is invalid, and what a ReferenceGrant allows.
func init() {
	resolvedFalse := func(route, reason string) confStatus {
		return routeCond(httpRouteK, route, sameNS, "ResolvedRefs", metav1.ConditionFalse, reason)
	}
	notAllowed := func(route, parent, reason string) confStatus {
		return routeCond(httpRouteK, route, parent, "Accepted", metav1.ConditionFalse, reason)
	}
	register(
		port("HTTPRouteInvalidBackendRefUnknownKind", "httproute-invalid-backendref-unknown-kind", fHTTP...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("invalid-backend-ref-unknown-kind")).
			expect(resolvedFalse(infra("invalid-backend-ref-unknown-kind"), "InvalidKind")).
			get(answered("/v2", 500)),
		port("HTTPRouteInvalidCrossNamespaceBackendRef", "httproute-invalid-cross-namespace-backend-ref", plus(fHTTP, "ReferenceGrant")...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("invalid-cross-namespace-backend-ref")).
			expect(resolvedFalse(infra("invalid-cross-namespace-backend-ref"), "RefNotPermitted")).
			get(answered("/", 500)),
		port("HTTPRouteInvalidCrossNamespaceParentRef", "httproute-invalid-cross-namespace-parent-ref", fHTTP...).
			resolved(httpRouteK, sameNS, conformanceWeb+"/invalid-cross-namespace-parent-ref").
			expect(notAllowed(conformanceWeb+"/invalid-cross-namespace-parent-ref", sameNS, "NotAllowedByListeners"),
				notAccepted(httpRouteK, conformanceWeb+"/invalid-cross-namespace-parent-ref"), zeroRoutes(sameNS)),
		port("HTTPRouteInvalidNonExistentBackendRef", "httproute-invalid-nonexistent-backendref", fHTTP...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("invalid-nonexistent-backend-ref")).
			expect(resolvedFalse(infra("invalid-nonexistent-backend-ref"), "BackendNotFound")).
			get(answered("/", 500)),
		port("HTTPRouteInvalidParentRefNotMatchingListenerPort", "httproute-invalid-parentref-not-matching-listener-port", plus(fHTTP, "HTTPRouteDestinationPortMatching")...).
			resolved(httpRouteK, sameNS, infra("httproute-listener-not-matching-route-port")).
			expect(notAllowed(infra("httproute-listener-not-matching-route-port"), sameNS, "NoMatchingParent"),
				notAccepted(httpRouteK, infra("httproute-listener-not-matching-route-port")), zeroRoutes(sameNS)),
		port("HTTPRouteInvalidParentRefNotMatchingSectionName", "httproute-invalid-parentref-not-matching-section-name", fHTTP...).
			expect(notAllowed(infra("httproute-listener-not-matching-section-name"), sameNS, "NoMatchingParent"),
				notAccepted(httpRouteK, infra("httproute-listener-not-matching-section-name")), zeroRoutes(sameNS)),
		port("HTTPRouteInvalidParentRefSectionNameNotMatchingPort", "httproute-invalid-parentref-section-name-not-matching-port", plus(fHTTP, "HTTPRouteParentRefPort")...).
			expect(notAllowed(infra("httproute-listener-section-name-not-matching-port"), infra("gateway-with-one-not-matching-port-and-section-name-route"), "NoMatchingParent"),
				notAccepted(httpRouteK, infra("httproute-listener-section-name-not-matching-port")),
				zeroRoutes(infra("gateway-with-one-not-matching-port-and-section-name-route"))),
		port("HTTPRouteInvalidReferenceGrant", "httproute-invalid-reference-grant", plus(fHTTP, "ReferenceGrant")...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("reference-grant")).
			expect(resolvedFalse(infra("reference-grant"), "RefNotPermitted")).
			get(answered("/", 500)),
		port("HTTPRouteDisallowedKind", "httproute-disallowed-kind", plus(fHTTP, "TLSRoute")...).
			resolved(httpRouteK, infra("tlsroutes-only"), infra("disallowed-kind")).
			expect(notAllowed(infra("disallowed-kind"), infra("tlsroutes-only"), "NotAllowedByListeners"),
				notAccepted(httpRouteK, infra("disallowed-kind")), zeroRoutes(infra("tlsroutes-only"))),
		port("HTTPRouteReferenceGrant", "httproute-reference-grant", plus(fHTTP, "ReferenceGrant")...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("reference-grant")).resolved(httpRouteK, sameNS, infra("reference-grant")).
			get(to("/", webBackend)).
			step(confStep{change: deleteReferenceGrant(conformanceWeb, "reference-grant"), requests: []confRequest{answered("/", 500)}}),
		port("HTTPRouteNoBackendRefs", "httproute-omitted-backendrefs", fHTTP...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("omitted-backendrefs")).resolved(httpRouteK, sameNS, infra("omitted-backendrefs")).
			get(to("/forward", infraV1), answered("/omitted-no-forward", 500), answered("/empty-no-forward", 500)),
		port("HTTPRoutePartiallyInvalidViaInvalidReferenceGrant", "httproute-partially-invalid-via-invalid-reference-grant", plus(fHTTP, "ReferenceGrant")...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("invalid-reference-grant")).
			expect(resolvedFalse(infra("invalid-reference-grant"), "RefNotPermitted")).
			get(answered("/v2", 500), to("/", appV1)),
	)
}

// deleteReferenceGrant is a step that deletes a ReferenceGrant.
func deleteReferenceGrant(ns, name string) func(*testing.T, *Input) {
	return func(t *testing.T, in *Input) {
		for i, g := range in.ReferenceGrants {
			if g.Namespace == ns && g.Name == name {
				in.ReferenceGrants = append(in.ReferenceGrants[:i:i], in.ReferenceGrants[i+1:]...)
				return
			}
		}
		t.Fatalf("no ReferenceGrant %s/%s to delete", ns, name)
	}
}

// GATEWAY-HTTP, core: HTTPS, ports, weights, Service kinds, generations.
func init() {
	httpsTo := func(host, backend string, status int) confRequest {
		return confRequest{https: true, host: host, path: "/", backend: backend, status: status}
	}
	portGW := infra("httproute-listener-port-matching")
	register(
		port("HTTPRouteHTTPSListener", "httproute-https-listener", fHTTP...).on(httpsGW).
			accepted(httpRouteK, httpsGW, infra("httproute-https-test"), infra("httproute-https-test-no-hostname")).
			resolved(httpRouteK, httpsGW, infra("httproute-https-test"), infra("httproute-https-test-no-hostname")).
			get(httpsTo("example.org", infraV1, 0), httpsTo("unknown-example.org", "", 404), httpsTo("second-example.org", infraV2, 0)),
		port("HTTPRouteListenerPortMatching", "httproute-listener-port-matching", plus(fHTTP, "HTTPRouteParentRefPort")...).on(portGW).
			accepted(httpRouteK, "httproute-listener-port-matching/listener-1", infra("backend-v1")).resolved(httpRouteK, portGW, infra("backend-v1")).
			accepted(httpRouteK, "httproute-listener-port-matching/listener-2", infra("backend-v2")).resolved(httpRouteK, portGW, infra("backend-v2")).
			accepted(httpRouteK, "httproute-listener-port-matching/listener-4", infra("backend-v3")).resolved(httpRouteK, portGW, infra("backend-v3")).
			get(hostTo("foo.com", "/", infraV1), confRequest{port: 8080, host: "foo.com:8080", path: "/", backend: infraV2},
				confRequest{port: 8080, host: "bar.com:8080", path: "/", backend: infraV2},
				confRequest{port: 8090, host: "foo.com:8090", path: "/", backend: infraV3},
				confRequest{port: 8090, host: "bar.com:8090", path: "/", status: 404}),
		// The suite counts 70/30/0 over many requests; one request cannot,
		// so the configured weights must be those shares.
		port("HTTPRouteWeight", "httproute-weight", fHTTP...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("weighted-backends")).resolved(httpRouteK, sameNS, infra("weighted-backends")).
			get(confRequest{path: "/", weights: map[string]int{infraV1: 7, infraV2: 3}}),
		// The suite points the manual EndpointSlices at infra-backend-v1's
		// pods; what routing decides is the Service each path reaches.
		port("HTTPRouteServiceTypes", "httproute-service-types", fHTTP...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("service-types")).resolved(httpRouteK, sameNS, infra("service-types")).
			get(to("/manual-endpointslices", infra("manual-endpointslices")), to("/headless-manual-endpointslices", infra("headless-manual-endpointslices")),
				to("/headless", infra("headless"))),
		port("HTTPRouteObservedGenerationBump", "httproute-observed-generation-bump", fHTTP...).on(sameNS).
			expect(latest(httpRouteK, infra("observed-generation-bump"), 1)).
			step(confStep{
				change: func(t *testing.T, in *Input) {
					r := findHTTPRoute(t, in, infra("observed-generation-bump"))
					r.Spec.Rules[0].BackendRefs[0].Name = "infra-backend-v2"
					r.Generation = 2
				},
				status: []confStatus{
					{kind: httpRouteK, name: infra("observed-generation-bump"), parent: sameNS, cond: "Accepted", status: metav1.ConditionTrue, generation: 2},
					{kind: httpRouteK, name: infra("observed-generation-bump"), parent: sameNS, cond: "ResolvedRefs", status: metav1.ConditionTrue, reason: "ResolvedRefs", generation: 2},
					latest(httpRouteK, infra("observed-generation-bump"), 2),
				},
			}),
	)
}

func findHTTPRoute(t *testing.T, in *Input, name string) *gatewayv1.HTTPRoute {
	t.Helper()
	for _, r := range in.HTTPRoutes {
		if r.Namespace+"/"+r.Name == name {
			return r
		}
	}
	t.Fatalf("no HTTPRoute %s", name)
	return nil
}

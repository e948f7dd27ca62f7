package translator

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

package translator

import (
	"time"

	"sigs.k8s.io/gateway-api/pkg/features"
)

// GATEWAY-HTTP, extended: URLRewrite, RequestMirror, query and method
// matches, timeouts and named rules.

// rewritten is a GET of path (on host, when given) that backend receives
// with seenPath and seenHost.
func rewritten(host, path, backend, seenPath, seenHost string) confRequest {
	return confRequest{host: host, path: path, backend: backend, seenPath: seenPath, seenHost: seenHost}
}

func init() {
	edits := pairedHeaderEdits
	register(
		oneRoute("HTTPRouteRewriteHost", "httproute-rewrite-host", "rewrite-host", plus(fHTTP, features.SupportHTTPRouteHostRewrite)...).
			get(rewritten("rewrite.example", "/one", infraV1, "", "one.example.org"),
				rewritten("rewrite.example", "/two", infraV2, "", "example.org"),
				edits(rewritten("rewrite.example", "/rewrite-host-and-modify-headers", infraV2, "", "test.example.org").
					with("X-Header-Remove", "remove-val", "X-Header-Add-Append", "append-val-1"))),
		oneRoute("HTTPRouteRewritePath", "httproute-rewrite-path", "rewrite-path", plus(fHTTP, features.SupportHTTPRoutePathRewrite)...).
			get(rewritten("", "/prefix/one/two", infraV1, "/one/two", ""),
				rewritten("", "/strip-prefix/three", infraV1, "/three", ""),
				rewritten("", "/strip-prefix", infraV1, "/", ""),
				rewritten("", "/full/one/two", infraV1, "/one", ""),
				edits(rewritten("", "/full/rewrite-path-and-modify-headers/test", infraV1, "/test", "").
					with("X-Header-Remove", "remove-val", "X-Header-Add-Append", "append-val-1", "X-Header-Set", "set-val")),
				edits(rewritten("", "/prefix/rewrite-path-and-modify-headers/one", infraV1, "/prefix/one", "").
					with("X-Header-Remove", "remove-val", "X-Header-Add-Append", "append-val-1", "X-Header-Set", "set-val"))),
	)
}

// pairedHeaderEdits are the header edits the rewrite and mirror tests pair
// with their filter.
func pairedHeaderEdits(r confRequest) confRequest {
	return r.sees("X-Header-Add", "header-val-1", "X-Header-Add-Append", "append-val-1,header-val-2", "X-Header-Set", "set-overwrites-values").
		unseen("X-Header-Remove")
}

func init() {
	edits := pairedHeaderEdits
	mirror := func(path string, to map[string]float64) confRequest {
		return confRequest{path: path, backend: infraV1, mirroredTo: to}
	}
	register(
		port("HTTPRouteRequestMirror", "httproute-request-mirror", plus(fHTTP, features.SupportHTTPRouteRequestMirror)...).
			on(sameNS).accepted(httpRouteK, sameNS, infra("request-mirror")).
			get(mirror("/mirror", map[string]float64{infraV2: 0}),
				edits(mirror("/mirror-and-modify-headers", map[string]float64{infraV2: 0}).with("X-Header-Remove", "remove-val", "X-Header-Add-Append", "append-val-1"))),
		port("HTTPRouteRequestMultipleMirrors", "httproute-request-multiple-mirrors",
			plus(fHTTP, features.SupportHTTPRouteRequestMirror, features.SupportHTTPRouteRequestMultipleMirrors)...).
			on(sameNS).accepted(httpRouteK, sameNS, infra("request-multiple-mirrors")).
			get(mirror("/multi-mirror", map[string]float64{infraV2: 0, infraV3: 0}),
				edits(mirror("/multi-mirror-and-modify-request-headers", map[string]float64{infraV2: 0, infraV3: 0}).with("X-Header-Remove", "remove-val", "X-Header-Add-Append", "append-val-1"))),
		// The suite counts the mirrored share over many requests; the
		// configured share must be the test's percent.
		oneRoute("HTTPRouteRequestPercentageMirror", "httproute-request-percentage-mirror", "request-percentage-mirror",
			plus(fHTTP, features.SupportHTTPRouteRequestPercentageMirror)...).
			get(mirror("/percent-mirror", map[string]float64{infraV2: 20}),
				mirror("/percent-mirror-fraction", map[string]float64{infraV2: 50}),
				edits(mirror("/percent-mirror-and-modify-headers", map[string]float64{infraV2: 35}).with("X-Header-Remove", "remove-val", "X-Header-Add-Append", "append-val-1"))),
	)
}

func init() {
	q := func(path, backend string) confRequest { return to(path, backend) }
	register(oneRoute("HTTPRouteQueryParamMatching", "httproute-query-param-matching", "query-param-matching", plus(fHTTP, features.SupportHTTPRouteQueryParamMatching)...).
		get(q("/?animal=whale", infraV1), q("/?animal=dolphin", infraV2), q("/?animal=dolphin&color=blue", infraV3),
			q("/?ANIMAL=Whale", infraV3), q("/?animal=whale&otherparam=irrelevant", infraV1), q("/?animal=dolphin&color=yellow", infraV2),
			answered("/?color=blue", 404), answered("/?animal=dog", 404), answered("/?animal=whaledolphin", 404), answered("/", 404),
			q("/path1?animal=whale", infraV1), q("/?animal=whale", infraV2).with("version", "one"), q("/path2?animal=whale", infraV3).with("version", "two"),
			q("/path3?animal=shark", infraV1), q("/path4?animal=kraken", infraV1).with("version", "three"),
			answered("/?animal=shark", 404), answered("/path4?animal=kraken", 404),
			q("/path5?animal=hydra", infraV1), q("/?animal=hydra", infraV3).with("version", "four")))
	m := func(method, path, backend string) confRequest {
		return confRequest{method: method, path: path, backend: backend}
	}
	register(oneRoute("HTTPRouteMethodMatching", "httproute-method-matching", "method-matching", plus(fHTTP, features.SupportHTTPRouteMethodMatching)...).
		get(m("POST", "/", infraV1), m("GET", "/", infraV2), confRequest{method: "HEAD", path: "/", status: 404},
			m("GET", "/path1", infraV1), m("PUT", "/", infraV2).with("version", "one"), m("POST", "/path2", infraV3).with("version", "two"),
			m("PATCH", "/path3", infraV1), m("DELETE", "/path4", infraV1).with("version", "three"),
			confRequest{method: "PUT", path: "/", status: 404}, confRequest{method: "DELETE", path: "/path4", status: 404},
			m("PATCH", "/path5", infraV1), m("PATCH", "/", infraV2).with("version", "four")))
	// The suite's backend waits for ?delay=; the evaluator compares that
	// wait with the route's timeouts, as Envoy would when it runs out.
	slow := func(path string, status int) confRequest {
		return confRequest{path: path + "?delay=1s", delay: time.Second, backend: conformanceInfra + "/", status: status}
	}
	register(
		oneRoute("HTTPRouteTimeoutRequest", "httproute-timeout-request", "request-timeout", plus(fHTTP, features.SupportHTTPRouteRequestTimeout)...).
			get(to("/request-timeout", conformanceInfra+"/"), slow("/request-timeout", 504), slow("/disable-request-timeout", 0)),
		oneRoute("HTTPRouteTimeoutBackendRequest", "httproute-timeout-backend-request", "backend-request-timeout", plus(fHTTP, features.SupportHTTPRouteBackendTimeout)...).
			get(to("/backend-timeout", conformanceInfra+"/"), slow("/backend-timeout", 504), slow("/disable-backend-timeout", 0)),
		oneRoute("HTTPRouteNamedRule", "httproute-named-rule", "http-named-rules", plus(fHTTP, features.SupportHTTPRouteNamedRouteRule)...).
			get(to("/named", conformanceInfra+"/"), to("/unnamed", conformanceInfra+"/")),
	)
}

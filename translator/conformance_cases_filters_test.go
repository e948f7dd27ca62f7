package translator

import "sigs.k8s.io/gateway-api/pkg/features"

// GATEWAY-HTTP: the header modifier filters, core (request) and
// extended (response, per backend).

func init() {
	v1 := func(path string) confRequest { return to(path, infraV1) }
	requestModifier(port("HTTPRouteRequestHeaderModifier", "httproute-request-header-modifier", fHTTP...), v1)
	// The backend filters' test is the same test over its own manifest.
	backend := port("HTTPRouteBackendRequestHeaderModifier", "httproute-request-header-modifier", plus(fHTTP, features.SupportHTTPRouteBackendRequestHeaderModification)...)
	backend.manifests = []string{"tests/httproute-request-header-modifier-backend.yaml"}
	requestModifier(backend, v1)
	register(port("HTTPRouteRequestHeaderModifierBackendWeights", "httproute-request-header-modifier-backend-weights", plus(fHTTP, features.SupportHTTPRouteBackendRequestHeaderModification)...).on(sameNS).
		accepted(httpRouteK, sameNS, infra("request-header-modifier-backend-weights")).
		resolved(httpRouteK, sameNS, infra("request-header-modifier-backend-weights")).
		get(confRequest{path: "/", perBackend: map[string]map[string]string{
			infraV1: {"Backend": "infra-backend-v1"}, infraV2: {"Backend": "infra-backend-v2"}}}))
}

// requestModifier is httproute-request-header-modifier.go's test, which
// the suite runs over two manifests.
func requestModifier(c *conformanceCase, v1 func(string) confRequest) {
	route := infra("request-header-modifier")
	register(c.on(sameNS).
		accepted(httpRouteK, sameNS, route).resolved(httpRouteK, sameNS, route).
		get(
			v1("/set").with("Some-Other-Header", "val").sees("Some-Other-Header", "val", "X-Header-Set", "set-overwrites-values"),
			v1("/set").with("Some-Other-Header", "val", "X-Header-Set", "some-other-value").sees("Some-Other-Header", "val", "X-Header-Set", "set-overwrites-values"),
			v1("/add").with("Some-Other-Header", "val").sees("Some-Other-Header", "val", "X-Header-Add", "add-appends-values"),
			v1("/add").with("Some-Other-Header", "val", "X-Header-Add", "some-other-value").sees("Some-Other-Header", "val", "X-Header-Add", "some-other-value,add-appends-values"),
			v1("/remove").with("X-Header-Remove", "val").unseen("X-Header-Remove"),
			v1("/multiple").with("X-Header-Set-2", "set-val-2", "X-Header-Add-2", "add-val-2", "X-Header-Remove-2", "remove-val-2", "Another-Header", "another-header-val").
				sees("X-Header-Set-1", "header-set-1", "X-Header-Set-2", "header-set-2", "X-Header-Add-1", "header-add-1",
					"X-Header-Add-2", "add-val-2,header-add-2", "X-Header-Add-3", "header-add-3", "Another-Header", "another-header-val").
				unseen("X-Header-Remove-1", "X-Header-Remove-2"),
			v1("/case-insensitivity").with("x-header-set", "original-val-set", "x-header-add", "original-val-add", "x-header-remove", "original-val-remove", "Another-Header", "another-header-val").
				sees("X-Header-Set", "header-set", "X-Header-Add", "original-val-add,header-add", "Another-Header", "another-header-val").
				unseen("x-header-remove", "X-Header-Remove")))
}

func init() {
	v1 := func(path string) confRequest { return to(path, infraV1) }
	resp := infra("response-header-modifier")
	register(port("HTTPRouteResponseHeaderModifier", "httproute-response-header-modifier", plus(fHTTP, features.SupportHTTPRouteResponseHeaderModification)...).on(sameNS).
		accepted(httpRouteK, sameNS, resp).resolved(httpRouteK, sameNS, resp).
		get(v1("/set").backendSets("Some-Other-Header", "val").responds("Some-Other-Header", "val", "X-Header-Set", "set-overwrites-values"),
			v1("/set").backendSets("Some-Other-Header", "val", "X-Header-Set", "some-other-value").responds("Some-Other-Header", "val", "X-Header-Set", "set-overwrites-values"),
			v1("/add").backendSets("Some-Other-Header", "val").responds("Some-Other-Header", "val", "X-Header-Add", "add-appends-values"),
			v1("/add").backendSets("Some-Other-Header", "val", "X-Header-Add", "some-other-value").responds("Some-Other-Header", "val", "X-Header-Add", "some-other-value,add-appends-values"),
			v1("/remove").backendSets("X-Header-Remove", "val").unanswered("X-Header-Remove"),
			v1("/multiple").backendSets("X-Header-Set-2", "set-val-2", "X-Header-Add-2", "add-val-2", "X-Header-Remove-2", "remove-val-2", "Another-Header", "another-header-val", "X-Header-Remove-1", "val").
				responds("X-Header-Set-1", "header-set-1", "X-Header-Set-2", "header-set-2", "X-Header-Add-1", "header-add-1",
					"X-Header-Add-2", "add-val-2,header-add-2", "X-Header-Add-3", "header-add-3", "Another-Header", "another-header-val").
				unanswered("X-Header-Remove-1", "X-Header-Remove-2"),
			v1("/case-insensitivity").backendSets("x-header-set", "original-val-set", "x-header-add", "original-val-add", "x-header-remove", "original-val-remove", "Another-Header", "another-header-val").
				responds("X-Header-Set", "header-set", "X-Header-Add", "original-val-add,header-add", "X-Lowercase-Add", "lowercase-add",
					"X-Mixedcase-Add-1", "mixedcase-add-1", "X-Mixedcase-Add-2", "mixedcase-add-2", "X-Uppercase-Add", "uppercase-add", "Another-Header", "another-header-val").
				unanswered("x-header-remove", "X-Header-Remove"),
			v1("/response-and-request-header-modifiers").with("X-Header-Remove", "remove-val", "X-Header-Add-Append", "append-val-1", "X-Header-Echo", "echo").
				backendSets("X-Header-Set-2", "set-val-2", "X-Header-Add-2", "add-val-2", "X-Header-Remove-2", "remove-val-2", "Another-Header", "another-header-val", "X-Header-Remove-1", "remove-val-1", "X-Header-Echo", "echo").
				sees("X-Header-Add", "header-val-1", "X-Header-Set", "set-overwrites-values", "X-Header-Add-Append", "append-val-1,header-val-2", "X-Header-Echo", "echo").
				unseen("X-Header-Remove").
				responds("X-Header-Set-1", "header-set-1", "X-Header-Set-2", "header-set-2", "X-Header-Add-1", "header-add-1",
					"X-Header-Add-2", "add-val-2,header-add-2", "Another-Header", "another-header-val", "X-Header-Echo", "echo").
				unanswered("X-Header-Remove-1", "X-Header-Remove-2")))
}

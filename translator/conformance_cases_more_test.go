package translator

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// The rest of the profiles' tests: listener isolation, misdirected
// requests, an HTTP/2 client, parametersRef and addresses; and the tests
// not ported, each with the reason.

func init() {
	register(isolationCase(), misdirectedCase())
}

// isolationCase ports gateway-http-listener-isolation.go: a request is
// served by the listener whose hostname matches it most specifically,
// and only by the routes attached there.
func isolationCase() *conformanceCase {
	isolation := port("GatewayHTTPListenerIsolation", "gateway-http-listener-isolation", plus(fHTTP, features.SupportGatewayHTTPListenerIsolation)...)
	isolation.manifests = append(isolation.manifests, "tests/gateway-http-listener-isolation-with-hostname-intersection.yaml")
	for _, g := range []struct{ gw, suffix string }{{"http-listener-isolation", ""}, {"http-listener-isolation-with-hostname-intersection", "-with-hostname-intersection"}} {
		gw := infra(g.gw)
		var routes []string
		for _, r := range []string{"attaches-to-empty-hostname", "attaches-to-wildcard-example-com", "attaches-to-wildcard-foo-example-com", "attaches-to-abc-foo-example-com"} {
			routes = append(routes, infra(r+g.suffix))
		}
		isolation.on(gw).accepted(httpRouteK, gw, routes...).resolved(httpRouteK, gw, routes...)
		hit := func(host, path string) confRequest {
			return confRequest{gateway: gw, host: host, path: path, backend: infraV1}
		}
		miss := func(host, path string) confRequest {
			return confRequest{gateway: gw, host: host, path: path, status: 404}
		}
		isolation.get(hit("bar.com", "/empty-hostname"), miss("bar.com", "/wildcard-example-com"), miss("bar.com", "/wildcard-foo-example-com"),
			miss("bar.com", "/abc-foo-example-com"),
			miss("bar.example.com", "/empty-hostname"), hit("bar.example.com", "/wildcard-example-com"), miss("bar.example.com", "/wildcard-foo-example-com"),
			miss("bar.example.com", "/abc-foo-example-com"),
			miss("bar.foo.example.com", "/empty-hostname"), miss("bar.foo.example.com", "/wildcard-example-com"),
			hit("bar.foo.example.com", "/wildcard-foo-example-com"), miss("bar.foo.example.com", "/abc-foo-example-com"),
			miss("abc.foo.example.com", "/empty-hostname"), miss("abc.foo.example.com", "/wildcard-example-com"),
			miss("abc.foo.example.com", "/wildcard-foo-example-com"), hit("abc.foo.example.com", "/abc-foo-example-com"))
	}
	return isolation
}

// misdirectedCase ports httproute-https-listener-detect-misdirected-requests.go:
// a request whose Host another listener of the port serves than the one
// its SNI picked is answered 421.
func misdirectedCase() *conformanceCase {
	misdirected := port("HTTPRouteHTTPSListenerDetectMisdirectedRequests", "httproute-https-listener-detect-misdirected-requests",
		plus(fHTTP, features.SupportGatewayHTTPSListenerDetectMisdirectedRequests)...).on(httpsGW)
	var routes []string
	for _, n := range []string{"1", "2", "3", "4"} {
		routes = append(routes, infra("https-listener-detect-misdirected-requests-test-"+n))
	}
	misdirected.accepted(httpRouteK, httpsGW, routes...).resolved(httpRouteK, httpsGW, routes...)
	for _, c := range []struct {
		sni, host, backend string
		status             int
	}{
		{"example.org", "example.org", infraV1, 0}, {"example.org", "second-example.org", "", 421}, {"example.org", "unknown-example.org", "", 404},
		{"second-example.org", "second-example.org", infraV2, 0}, {"second-example.org", "example.org", "", 421},
		{"second-example.org", "unknown-example.org", "", 421},
		{"third-example.wildcard.org", "third-example.wildcard.org", infraV3, 0}, {"third-example.wildcard.org", "fith-example.wildcard.org", infraV3, 0},
		{"third-example.wildcard.org", "fourth-example.wildcard.org", "", 421}, {"third-example.wildcard.org", "second-example.org", "", 421},
		{"third-example.wildcard.org", "unknown-example.org", "", 421},
		{"fourth-example.wildcard.org", "fourth-example.wildcard.org", infraV1, 0}, {"fourth-example.wildcard.org", "fith-example.wildcard.org", "", 421},
		{"unknown-example.org", "example.org", infraV1, 0}, {"unknown-example.org", "unknown-example.org", "", 404},
	} {
		misdirected.get(confRequest{https: true, sni: c.sni, host: c.host, path: "/detect-misdirected-requests", backend: c.backend, status: c.status})
	}
	return misdirected
}

func init() {
	params := infra("gateway-invalid-parameters-ref")
	// The test lives in gateway-infrastructure.go with a manifest of its own.
	paramsRef := port("GatewayInvalidParametersRef", "gateway-infrastructure", plus(fGW, features.SupportGatewayInfrastructure)...).
		expect(latest("Gateway", params, 1), gatewayCond(params, "Accepted", metav1.ConditionFalse, "InvalidParameters"))
	paramsRef.manifests = []string{"tests/gateway-invalid-parameters-ref.yaml"}
	register(
		port("HTTPRouteBackendProtocolH2C", "httproute-backend-protocol-h2c", plus(fHTTP, features.SupportHTTPRouteBackendProtocolH2C)...).on(sameNS).
			accepted(httpRouteK, sameNS, infra("backend-protocol-h2c")).
			get(confRequest{path: "/", h2c: true, backend: infraV1}),
		paramsRef,
		staticAddresses(),
		port("GatewayOptionalAddressValue", "gateway-optional-address-value", plus(fGW, features.SupportGatewayAddressEmpty)...).
			expect(latest("Gateway", infra("gateway-without-address-value"), 1),
				confStatus{kind: "Gateway", name: infra("gateway-without-address-value"), addressed: true}),
	)
}

func init() {

	skip("GatewayInfrastructureMetadata", "gateway-infrastructure",
		"it reads the labels and annotations of the resources an implementation creates per Gateway (Services, Deployments); fairway creates none: every Gateway is served by the one fleet",
		plus(fGW, features.SupportGatewayInfrastructure)...)
	skip("HTTPRouteBackendProtocolWebSocket", "httproute-backend-protocol-websocket",
		"it exchanges WebSocket frames over the upgraded connection; the evaluator follows requests, not upgraded streams",
		plus(fHTTP, features.SupportHTTPRouteBackendProtocolWebSocket)...)
	skip("HTTPRouteCORS", "httproute-cors",
		"the CORS filter is not among issue 18's HTTPRoute filters (RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, URLRewrite, RequestMirror)",
		plus(fHTTP, features.SupportHTTPRouteCORS)...)
	skip("HTTPRouteRetry", "httproute-retry",
		"retries need backends that fail on demand and count attempts; HTTPRoute retry is not in issue 18's scope",
		plus(fHTTP, features.SupportHTTPRouteRetry)...)
	for _, c := range []struct {
		short, name string
		fs          []features.FeatureName
	}{
		{"GatewayFrontendClientCertificateValidation", "gateway-with-clientcertificate-validation",
			plus(fHTTP, features.SupportGatewayFrontendClientCertificateValidation)},
		{"GatewayFrontendClientCertificateValidationInsecureFallback", "gateway-with-clientcertificate-validation-insecure-fallback",
			plus(fHTTP, features.SupportGatewayFrontendClientCertificateValidation, features.SupportGatewayFrontendClientCertificateValidationInsecureFallback)},
		{"GatewayInvalidFrontendClientCertificateValidation", "gateway-with-invalid-clientcertificate-validation",
			plus(fHTTP, features.SupportReferenceGrant, features.SupportGatewayFrontendClientCertificateValidation)},
		{"GatewayFrontendInvalidDefaultClientCertificateValidation", "gateway-invalid-default-frontend-client-certificate-validation",
			plus(fHTTP, features.SupportGatewayFrontendClientCertificateValidation)},
	} {
		skip(c.short, c.name, "a Gateway's frontend client certificate validation (spec.tls.frontend) is not in issue 18's scope", c.fs...)
	}
	for _, c := range []struct{ short, name string }{
		{"GatewayInvalidTLSBackendConfiguration", "gateway-invalid-tls-backend-configuration"},
		{"GatewayTLSBackendClientCertificate", "gateway-tls-backend-client-certificate"},
	} {
		skip(c.short, c.name, "BackendTLSPolicy and a Gateway's backend client certificate are not among the kinds issue 18 serves (translator.Input has no BackendTLSPolicy)",
			plus(fHTTP, features.SupportGatewayBackendClientCertificate, features.SupportBackendTLSPolicy)...)
	}
}

// The BackendTLSPolicy and ListenerSet tests count in the profiles'
// extended results (the suite puts those features there); neither kind
// is in issue 18's scope, so their manifests are not copied.
func init() {
	for _, c := range []struct{ short, name string }{
		{"BackendTLSPolicy", "backendtlspolicy"},
		{"BackendTLSPolicyConflictResolution", "backendtlspolicy-conflict-resolution"},
		{"BackendTLSPolicyInvalidCACertificateRef", "backendtlspolicy-invalid-ca-certificate-ref"},
		{"BackendTLSPolicyInvalidKind", "backendtlspolicy-invalid-kind"},
		{"BackendTLSPolicyObservedGenerationBump", "backendtlspolicy-observed-generation-bump"},
	} {
		skip(c.short, c.name, "BackendTLSPolicy is not among the kinds issue 18 serves (translator.Input has none)", plus(fHTTP, features.SupportBackendTLSPolicy)...)
	}
	skip("BackendTLSPolicySANValidation", "backendtlspolicy-san", "BackendTLSPolicy is not among the kinds issue 18 serves (translator.Input has none)",
		plus(fHTTP, features.SupportBackendTLSPolicy, features.SupportBackendTLSPolicySANValidation)...)
	ls := plus(fGW, features.SupportListenerSet)
	for _, c := range []struct {
		short, name string
		more        []features.FeatureName
	}{
		{"ListenerSetAllowedNamespaceNone", "listenerset-allowed-namespace-none", nil},
		{"ListenerSetAllowedNamespaceSame", "listenerset-allowed-namespace-same", nil},
		{"ListenerSetAllowedNamespaceSelector", "listenerset-allowed-namespace-selector", nil},
		{"ListenerSetAllowedRoutesNamespaces", "listenerset-allowed-routes-namespaces", []features.FeatureName{features.SupportHTTPRoute, features.SupportReferenceGrant}},
		{"ListenerSetAllowedRoutesSupportedKinds", "listenerset-allowed-routes-supported-kinds", []features.FeatureName{features.SupportTLSRoute}},
		{"ListenerSetDefaultNotAllowed", "listenerset-default-not-allowed", nil},
		{"ListenerSetDualParentRefIndependence", "listenerset-dual-parentref-independence", []features.FeatureName{features.SupportHTTPRoute}},
		{"ListenerSetGatewayParentSectionNameNotFound", "listenerset-gateway-parent-section-name-not-found", []features.FeatureName{features.SupportHTTPRoute}},
		{"ListenerSetHostnameConflict", "listenerset-hostname-conflict", nil},
		{"ListenerSetHTTPRouting", "listenerset-http-routing", []features.FeatureName{features.SupportHTTPRoute}},
		{"ListenerSetProtocolConflict", "listenerset-protocol-conflict", nil},
		{"ListenerSetReferenceGrant", "listenerset-reference-grant", []features.FeatureName{features.SupportReferenceGrant}},
		{"ListenerSetRouteStatusScopedToParentRef", "listenerset-route-status-scoped-to-parentref", []features.FeatureName{features.SupportHTTPRoute}},
	} {
		skip(c.short, c.name, "ListenerSet is not among the kinds issue 18 serves (translator.Input has none)", plus(ls, c.more...)...)
	}
}

// The addresses the suite's runner gives GatewayStaticAddresses for its
// placeholders: one inside conformanceOptions' pool, one in none.
const (
	confUsableAddress   = "10.9.0.200"
	confUnusableAddress = "203.0.113.7"
)

// staticAddresses is gateway-static-addresses.go: an address of a type
// fairway does not bind makes the Gateway Accepted=False; once it is
// removed, the unusable address leaves it Accepted but not Programmed
// (AddressNotUsable); once that is removed too, it is Programmed, on
// the usable address alone.
func staticAddresses() *conformanceCase {
	gw := infra("gateway-static-addresses")
	drop := func(value string, gen int64) func(t *testing.T, in *Input) {
		return func(t *testing.T, in *Input) {
			g := findGateway(t, in, gw)
			n := len(g.Spec.Addresses)
			g.Spec.Addresses = slices.DeleteFunc(slices.Clone(g.Spec.Addresses), func(a gatewayv1.GatewaySpecAddress) bool { return a.Value == value })
			if len(g.Spec.Addresses) != n-1 {
				t.Fatalf("Gateway %s has no address %q", gw, value)
			}
			g.Generation = gen
		}
	}
	return port("GatewayStaticAddresses", "gateway-static-addresses", plus(fGW, features.SupportGatewayStaticAddresses)...).
		expect(latest("Gateway", gw, 1), gatewayCond(gw, "Accepted", metav1.ConditionFalse, "UnsupportedAddress")).
		step(confStep{change: drop("fake address teehee!", 2), status: []confStatus{
			latest("Gateway", gw, 2),
			{kind: "Gateway", name: gw, cond: "Accepted", status: metav1.ConditionTrue, reason: "Accepted", generation: 2},
			{kind: "Gateway", name: gw, cond: "Programmed", status: metav1.ConditionFalse, reason: "AddressNotUsable", generation: 2},
		}}).
		step(confStep{change: drop(confUnusableAddress, 3), status: append([]confStatus{
			latest("Gateway", gw, 3),
			{kind: "Gateway", name: gw, cond: "Accepted", status: metav1.ConditionTrue, reason: "Accepted", generation: 3},
			{kind: "Gateway", name: gw, cond: "Programmed", status: metav1.ConditionTrue, reason: "Programmed", generation: 3},
			listenerNames(gw, "http"),
			{kind: "Gateway", name: gw, addresses: []string{confUsableAddress}},
		}, atGeneration(3, okListener(gw, "http", 0))...)})
}

package translator

import (
	"strings"

	"sigs.k8s.io/gateway-api/pkg/features"
)

// Names the suite's tests use (utils/suite/consts.go and the base
// manifests), as "namespace/name".
const (
	sameNS         = conformanceInfra + "/same-namespace"
	httpsGW        = conformanceInfra + "/same-namespace-with-https-listener"
	allNS          = conformanceInfra + "/all-namespaces"
	backendNS      = conformanceInfra + "/backend-namespaces"
	infraV1        = conformanceInfra + "/infra-backend-v1"
	infraV2        = conformanceInfra + "/infra-backend-v2"
	infraV3        = conformanceInfra + "/infra-backend-v3"
	grpcV1         = conformanceInfra + "/grpc-infra-backend-v1"
	grpcV2         = conformanceInfra + "/grpc-infra-backend-v2"
	grpcV3         = conformanceInfra + "/grpc-infra-backend-v3"
	webBackend     = conformanceWeb + "/web-backend"
	appV1          = conformanceApp + "/app-backend-v1"
	appV2          = conformanceApp + "/app-backend-v2"
	confTLSBackend = conformanceInfra + "/tls-backend"
	tcpBackend     = conformanceInfra + "/tcp-backend"
	coreDNS        = conformanceInfra + "/coredns"
	infraRoute     = conformanceInfra + "/gateway-conformance-infra-test"
	httpRouteK     = "HTTPRoute"
	grpcRouteK     = "GRPCRoute"
	tlsRouteK      = "TLSRoute"
	tcpRouteK      = "TCPRoute"
	udpRouteK      = "UDPRoute"
	conditionOK    = "True"
)

// infra is a name in the suite's infrastructure namespace.
func infra(name string) string { return conformanceInfra + "/" + name }

// port starts a case for tests/<name>.go with its own manifest
// tests/<name>.yaml and the test's features.
func port(short, name string, fs ...features.FeatureName) *conformanceCase {
	return &conformanceCase{short: short, file: "tests/" + name + ".go", manifests: []string{"tests/" + name + ".yaml"}, features: fs}
}

// on names the Gateways the test sends to.
func (c *conformanceCase) on(gateways ...string) *conformanceCase {
	c.gateways = append(c.gateways, gateways...)
	return c
}

// accepted is the suite's GatewayAnd<Kind>RoutesMustBeAccepted: the
// Gateway's listeners (all, or the named ones: "gw" or "gw/section")
// ready, and each route accepted by it.
func (c *conformanceCase) accepted(kind, gateway string, routes ...string) *conformanceCase {
	gw, section, _ := strings.Cut(strings.TrimPrefix(gateway, conformanceInfra+"/"), "/")
	gw = conformanceInfra + "/" + gw
	parent := gw
	var listeners []string
	if section != "" {
		parent, listeners = gw+"/"+section, []string{section}
	}
	c.status = append(c.status, listenersReady(gw, listeners...)...)
	for _, r := range routes {
		c.status = append(c.status, routeAccepted(kind, r, parent))
	}
	return c
}

// resolved is the suite's <Kind>RouteMustHaveResolvedRefsConditionsTrue.
func (c *conformanceCase) resolved(kind, parent string, routes ...string) *conformanceCase {
	for _, r := range routes {
		c.status = append(c.status, refsResolved(kind, r, parent))
	}
	return c
}

func (c *conformanceCase) expect(s ...confStatus) *conformanceCase {
	c.status = append(c.status, s...)
	return c
}

// step adds a later step of the test.
func (c *conformanceCase) step(s confStep) *conformanceCase {
	c.then = append(c.then, s)
	return c
}

// zeroRoutes is the suite's GatewayMustHaveZeroRoutes.
func zeroRoutes(gateway string) confStatus { return attachedRoutes(gateway, "*", 0) }

// notAccepted is the suite's <Kind>MustHaveNoAcceptedParents.
func notAccepted(kind, route string) confStatus {
	return confStatus{kind: kind, name: route, noAcceptedParent: true}
}

func (c *conformanceCase) get(r ...confRequest) *conformanceCase {
	c.requests = append(c.requests, r...)
	return c
}

func (c *conformanceCase) connect(s ...confStream) *conformanceCase {
	c.streams = append(c.streams, s...)
	return c
}

// to is a GET of path forwarded to backend.
func to(path, backend string) confRequest { return confRequest{path: path, backend: backend} }

// hostTo is a GET of path on host forwarded to backend.
func hostTo(host, path, backend string) confRequest {
	return confRequest{host: host, path: path, backend: backend}
}

// answered is a GET of path that Envoy answers itself with status.
func answered(path string, status int) confRequest { return confRequest{path: path, status: status} }

// with adds request headers.
func (r confRequest) with(kv ...string) confRequest {
	r.headers = mergeHeaders(r.headers, pairs(kv))
	return r
}

// sees adds headers the backend must see.
func (r confRequest) sees(kv ...string) confRequest {
	r.seenHeaders = mergeHeaders(r.seenHeaders, pairs(kv))
	return r
}

// unseen adds headers the backend must not see.
func (r confRequest) unseen(names ...string) confRequest {
	r.notSeen = append(append([]string{}, r.notSeen...), names...)
	return r
}

// backendSets adds headers the backend answers with.
func (r confRequest) backendSets(kv ...string) confRequest {
	r.backendResponse = mergeHeaders(r.backendResponse, pairs(kv))
	return r
}

// responds adds headers the response must carry.
func (r confRequest) responds(kv ...string) confRequest {
	r.responseHeaders = mergeHeaders(r.responseHeaders, pairs(kv))
	return r
}

// unanswered adds headers the response must not carry.
func (r confRequest) unanswered(names ...string) confRequest {
	r.noResponse = append(append([]string{}, r.noResponse...), names...)
	return r
}

func pairs(kv []string) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func register(cases ...*conformanceCase) { conformanceCases = append(conformanceCases, cases...) }

func skip(short, name, reason string, fs ...features.FeatureName) {
	skippedConformance = append(skippedConformance, skippedCase{short: short, file: "tests/" + name + ".go", features: fs, reason: reason})
}

// Feature lists the tests name most.
var (
	fHTTP = []features.FeatureName{features.SupportGateway, features.SupportHTTPRoute}
	fGRPC = []features.FeatureName{features.SupportGateway, features.SupportGRPCRoute}
	fTLS  = []features.FeatureName{features.SupportGateway, features.SupportTLSRoute}
	fTCP  = []features.FeatureName{features.SupportGateway, features.SupportTCPRoute}
	fUDP  = []features.FeatureName{features.SupportGateway, features.SupportUDPRoute}
	fGW   = []features.FeatureName{features.SupportGateway}
)

// plus is a feature list with more features.
func plus(base []features.FeatureName, more ...features.FeatureName) []features.FeatureName {
	return append(append([]features.FeatureName{}, base...), more...)
}

// refTo is a pointer to v, for the optional fields of the API types.
func refTo[T any](v T) *T { return &v }

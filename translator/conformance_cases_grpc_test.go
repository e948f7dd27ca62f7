package translator

import "sigs.k8s.io/gateway-api/pkg/features"

// GATEWAY-GRPC: the suite's calls to its echo service, evaluated as the
// HTTP/2 POSTs to /service/method they are. A call no route takes is
// Envoy's 404, which a gRPC client reads as UNIMPLEMENTED.

const grpcEcho = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho"

// call is a call of the echo service's method that backend answers, or,
// with backend "", one answered UNIMPLEMENTED.
func call(method, backend string) confRequest {
	r := confRequest{grpc: &grpcCall{service: grpcEcho, method: method}, backend: backend}
	if backend == "" {
		r.status = 404
	}
	return r
}

// authority is a call of Echo with that :authority.
func authority(host, backend string) confRequest {
	r := call("Echo", backend)
	r.host = host
	return r
}

func init() {
	hostGW := infra("grpcroute-listener-hostname-matching")
	register(
		port("GRPCExactMethodMatching", "grpcroute-exact-method-matching", fGRPC...).on(sameNS).
			accepted(grpcRouteK, sameNS, infra("exact-matching")).
			get(call("Echo", grpcV1), call("EchoTwo", grpcV2), call("EchoThree", "")),
		port("GRPCRouteHeaderMatching", "grpcroute-header-matching", fGRPC...).on(sameNS).
			accepted(grpcRouteK, sameNS, infra("grpc-header-matching")).
			get(call("Echo", grpcV1).with("Version", "one"), call("Echo", grpcV2).with("Version", "two"),
				call("Echo", grpcV1).with("Version", "two", "Color", "orange"), call("Echo", grpcV2).with("Version", "two", "Color", "blue"),
				call("Echo", "").with("Color", "orange"), call("Echo", "").with("Some-Other-Header", "one"),
				call("Echo", grpcV1).with("Color", "blue"), call("Echo", grpcV1).with("Color", "green"),
				call("Echo", grpcV2).with("Color", "red"), call("Echo", grpcV2).with("Color", "yellow"),
				call("Echo", "").with("Color", "purple")),
		port("GRPCRouteListenerHostnameMatching", "grpcroute-listener-hostname-matching", fGRPC...).on(hostGW).
			accepted(grpcRouteK, "grpcroute-listener-hostname-matching/listener-1", infra("backend-v1")).
			accepted(grpcRouteK, "grpcroute-listener-hostname-matching/listener-2", infra("backend-v2")).
			accepted(grpcRouteK, "grpcroute-listener-hostname-matching/listener-3", infra("backend-v3")).
			accepted(grpcRouteK, "grpcroute-listener-hostname-matching/listener-4", infra("backend-v3")).
			get(authority("bar.com", grpcV1), authority("foo.bar.com", grpcV2), authority("baz.bar.com", grpcV3),
				authority("boo.bar.com", grpcV3), authority("multiple.prefixes.bar.com", grpcV3),
				authority("multiple.prefixes.foo.com", grpcV3), authority("foo.com", ""), authority("no.matching.host", "")),
		port("GRPCRouteNamedRule", "grpcroute-named-rule", plus(fGRPC, features.SupportGRPCRouteNamedRouteRule)...).on(sameNS).
			accepted(grpcRouteK, sameNS, infra("grpc-named-rules")).
			get(call("Echo", grpcV1), call("EchoTwo", grpcV2)),
		// The suite counts 70/30/0 over many calls; one call cannot, so the
		// configured weights must be those shares.
		port("GRPCRouteWeight", "grpcroute-weight", fGRPC...).on(sameNS).
			accepted(grpcRouteK, sameNS, infra("weighted-backends")).
			get(confRequest{grpc: &grpcCall{service: grpcEcho, method: "Echo"}, weights: map[string]int{grpcV1: 7, grpcV2: 3}}),
	)
}

package gatewayapi

import (
	"fmt"
	"regexp"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/policy"
)

// lowerGRPCRoute turns a GRPCRoute's rules into path matches on gRPC's
// /<service>/<method> paths, so that one back end serves HTTPRoute and
// GRPCRoute rules alike, to Envoy and to proxyless gRPC clients. Its
// filters are the HTTPRoute filters that apply to gRPC (header
// modifiers, mirrors).
func (r *resolver) lowerGRPCRoute(st *routeState, gr *gatewayv1.GRPCRoute) []loweredRule {
	from := routeRef{kindGRPCRoute, gr.Namespace}
	out := make([]loweredRule, 0, matchCount(gr.Spec.Rules, func(r gatewayv1.GRPCRouteRule) int { return len(r.Matches) }))
	for i, rule := range gr.Spec.Rules {
		fields := fieldsOfRule(i)
		field := fields.rule
		pol := r.httpFilters(st, from, grpcFilters(rule.Filters), fields.filters)
		if rule.SessionPersistence != nil {
			st.reject(gatewayv1.RouteReasonUnsupportedValue, field+".sessionPersistence is not supported")
		}
		set := ruleBackends(r, st, from, fields, rule.BackendRefs, grpcBackendRef)
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gatewayv1.GRPCRouteMatch{{}}
		}
		for j, m := range matches {
			mf := fields.match(j)
			lr := loweredRule{rule: i, match: j, policy: pol, backends: set, grpc: true}
			lr.path = grpcPath(st, m.Method, fields.method(j))
			seen := map[string]bool{}
			for k, h := range m.Headers {
				checkName(st, string(h.Name), fmt.Sprintf("%s.headers[%d].name", mf, k))
				if !firstName(seen, string(h.Name), true) {
					continue
				}
				regex := deref(h.Type, gatewayv1.GRPCHeaderMatchExact) == gatewayv1.GRPCHeaderMatchRegularExpression
				if regex {
					checkRegex(st, h.Value, fmt.Sprintf("%s.headers[%d].value", mf, k))
				}
				lr.request.Headers = append(lr.request.Headers, policy.ValueMatch{Name: string(h.Name), Value: h.Value, Regex: regex})
			}
			out = append(out, lr)
		}
	}
	return out
}

// grpcFilters are a GRPCRoute's filters as the HTTPRoute filters they
// share; the types fairway does not implement keep their names, so that
// the route is rejected naming them.
func grpcFilters(in []gatewayv1.GRPCRouteFilter) []gatewayv1.HTTPRouteFilter {
	out := make([]gatewayv1.HTTPRouteFilter, 0, len(in))
	for _, f := range in {
		out = append(out, gatewayv1.HTTPRouteFilter{
			Type:                   gatewayv1.HTTPRouteFilterType(f.Type),
			RequestHeaderModifier:  f.RequestHeaderModifier,
			ResponseHeaderModifier: f.ResponseHeaderModifier,
			RequestMirror:          f.RequestMirror,
			ExtensionRef:           f.ExtensionRef,
		})
	}
	return out
}

// grpcPath maps a method match onto the request path /<service>/<method>:
// Exact service and method is an exact path, a service alone the
// segment-wise prefix /<service> (every method of it), a method alone a
// regex over any service; RegularExpression builds one regex from the
// parts, an absent part matching any segment.
func grpcPath(st *routeState, m *gatewayv1.GRPCMethodMatch, field string) policy.PathMatch {
	if m == nil {
		return policy.PathMatch{Kind: policy.PathPrefix, Value: "/"}
	}
	svc, method := deref(m.Service, ""), deref(m.Method, "")
	switch deref(m.Type, gatewayv1.GRPCMethodMatchExact) {
	case gatewayv1.GRPCMethodMatchExact:
		switch {
		case svc != "" && method != "":
			return policy.PathMatch{Kind: policy.PathExact, Value: "/" + svc + "/" + method}
		case svc != "":
			return policy.PathMatch{Kind: policy.PathPrefix, Value: "/" + svc}
		case method != "":
			return policy.PathMatch{Kind: policy.PathRegex, Value: `/[^/]+/` + regexp.QuoteMeta(method)}
		}
		return policy.PathMatch{Kind: policy.PathPrefix, Value: "/"}
	case gatewayv1.GRPCMethodMatchRegularExpression:
		if svc == "" {
			svc = `[^/]+`
		} else {
			checkRegex(st, svc, field+".service")
		}
		if method == "" {
			method = `[^/]+`
		} else {
			checkRegex(st, method, field+".method")
		}
		return policy.PathMatch{Kind: policy.PathRegex, Value: "/" + svc + "/" + method}
	}
	st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s.type %q is not supported", field, *m.Type))
	return policy.PathMatch{}
}

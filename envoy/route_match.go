package envoy

import (
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// QueryCondition is one query parameter a route requires: its value equal
// to Exact, or else matching the RE2 Regex as a whole. Envoy compares the
// name exactly, as the Gateway API asks.
//
// gRPC's xDS clients skip a route with query parameter matchers rather
// than reject the table; a gRPC call has no query, so such a route could
// never take one of its calls anyway.
type QueryCondition struct {
	Name, Exact, Regex string
}

// HeaderConditionOf is a request header condition as the Gateway API
// writes one. Envoy compares header names case-insensitively, but a gRPC
// client compares its metadata's keys, which are lower case, with the
// name as it is sent: the name goes lower-cased, so that both read it
// the same way.
func HeaderConditionOf(name, value string, regex bool) HeaderCondition {
	h := HeaderCondition{Name: strings.ToLower(name)}
	if regex {
		h.Regex = value
	} else {
		h.Exact = value
	}
	return h
}

// MethodCondition requires the request's method. Envoy and gRPC's xDS
// clients both expose it as the :method pseudo-header, which is how
// Envoy Gateway matches it too; a gRPC call is always a POST.
func MethodCondition(method string) HeaderCondition {
	return HeaderCondition{Name: ":method", Exact: method}
}

// applyQuery adds the route's query parameter conditions to its match.
func applyQuery(p *RoutePolicy, r *routev3.Route, _ bool) {
	for _, q := range p.Query {
		r.Match.QueryParameters = append(r.Match.QueryParameters, queryMatcher(q))
	}
}

func queryMatcher(q QueryCondition) *routev3.QueryParameterMatcher {
	sm := &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: q.Exact}}
	if q.Regex != "" {
		sm.MatchPattern = &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: q.Regex}}
	}
	return &routev3.QueryParameterMatcher{Name: q.Name, QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm}}
}

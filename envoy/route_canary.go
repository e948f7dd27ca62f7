package envoy

import (
	"regexp"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// HeaderCondition is one more request header a route requires: its value
// equal to Exact, or else matching the RE2 Regex as a whole (Envoy's
// safe_regex matches the whole value; gRPC's xDS clients do the same).
type HeaderCondition struct {
	Name, Exact, Regex string
}

// Split sends a route's requests to two clusters by weight, in place of
// its one cluster: a canary release's share. Both weights are above 0;
// a share of nothing or of everything is a plain route to one cluster,
// so that a rollout's first and last steps are the routes without a
// split.
type Split struct {
	Main, Canary             string
	MainWeight, CanaryWeight uint32
	// ByHash draws the split from the route's hash policy instead of at
	// random (use_hash_policy): requests with one affinity cookie land on
	// one side while the weights stand.
	ByHash bool
}

// CookieCondition requires a cookie name=value among the request's
// cookies. Cookies come in one header joined by "; ", or in several
// (HTTP/2's crumbs), which Envoy joins with "," for matching; the name
// is quoted, so that its '.' or '+' mean themselves.
func CookieCondition(name, value string) HeaderCondition {
	return HeaderCondition{Name: "cookie", Regex: `(.*[;,] *)?` + regexp.QuoteMeta(name) + "=" + regexp.QuoteMeta(value) + `( *[;,].*)?`}
}

// applyCanary adds the route's header conditions to its match and puts
// the split in place of its cluster. It runs first, so that a redirect
// or an access refusal later replaces the action whole.
func applyCanary(p *RoutePolicy, r *routev3.Route, edge bool) {
	for _, h := range p.Headers {
		if !edge && h == MethodCondition("POST") {
			continue // a gRPC call is a POST, and grpc-go matches no :method
		}
		r.Match.Headers = append(r.Match.Headers, headerMatcher(h))
	}
	action := r.GetRoute()
	if p.Split == nil || action == nil {
		return
	}
	wc := &routev3.WeightedCluster{
		Clusters: []*routev3.WeightedCluster_ClusterWeight{
			{Name: p.Split.Main, Weight: wrapperspb.UInt32(p.Split.MainWeight)},
			{Name: p.Split.Canary, Weight: wrapperspb.UInt32(p.Split.CanaryWeight)},
		},
	}
	if p.Split.ByHash && edge {
		wc.RandomValueSpecifier = &routev3.WeightedCluster_UseHashPolicy{UseHashPolicy: wrapperspb.Bool(true)}
	}
	action.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
}

func headerMatcher(h HeaderCondition) *routev3.HeaderMatcher {
	sm := &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: h.Exact}}
	if h.Regex != "" {
		sm.MatchPattern = &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: h.Regex}}
	}
	return &routev3.HeaderMatcher{Name: h.Name, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm}}
}

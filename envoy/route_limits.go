package envoy

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	bodysizev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/body_size_limit/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// RouteMaxTries bounds the tries of a route that sets its own: nginx's
// "0" (as many as there are servers) and anything above it become this
// many. fairway retries only failures before a request reached a pod,
// each on the next pod, so ten tries outlast a rollout of any usual
// Deployment while a dead Service still fails within a second or so of
// Envoy's retry back-off.
const RouteMaxTries = 10

// applyLimits sets a route's idle timeout, retries and body limit. They
// are the fleet's alone: a proxyless client applies its own deadlines and
// retries (from its service config), and the body it sends is its own.
func applyLimits(p *RoutePolicy, r *routev3.Route, edge bool) {
	if !edge {
		return
	}
	if a := r.GetRoute(); a != nil {
		if p.IdleTimeout > 0 {
			a.IdleTimeout = durationpb.New(p.IdleTimeout)
		}
		if p.Retries != nil {
			a.RetryPolicy = &routev3.RetryPolicy{RetryOn: RouteRetryOn, NumRetries: wrapperspb.UInt32(*p.Retries)}
		}
	}
}

// bodyLimitFilters are a route's body limit: the body_size_limit filter
// in the route's own filter chain. The filter streams: it answers 413 at
// once when Content-Length is over the limit, and otherwise counts the
// body (chunked included) as it passes and answers 413 (or resets, once
// the response has begun) when the count goes over, without buffering
// it. It has no per-route configuration of its own; filter_chain is how
// Envoy's documentation applies it per route.
func bodyLimitFilters(p *RoutePolicy) []*corev3.TypedExtensionConfig {
	if p.MaxRequestBytes == 0 {
		return nil
	}
	return []*corev3.TypedExtensionConfig{{
		Name:        bodySizeLimitFilter,
		TypedConfig: mustAny(&bodysizev3.BodySizeLimit{MaxRequestBytes: wrapperspb.UInt64(p.MaxRequestBytes)}),
	}}
}

// setPerFilterConfig sets the route's configuration of one HTTP filter.
func setPerFilterConfig(r *routev3.Route, filter string, config proto.Message) {
	if r.TypedPerFilterConfig == nil {
		r.TypedPerFilterConfig = map[string]*anypb.Any{}
	}
	r.TypedPerFilterConfig[filter] = mustAny(config)
}

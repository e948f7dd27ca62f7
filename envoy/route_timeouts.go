package envoy

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// applyTimeouts sets a route's own timeouts (the Gateway API's
// timeouts.request and timeouts.backendRequest). Timeout replaces the
// fleet's route timeout (RouteTimeout, none) for the whole exchange,
// retries included. PerTryTimeout bounds each try at a backend: Envoy
// has it on the retry policy only, so the route gets the fleet's retry
// policy (the virtual host's, which a route's own replaces) with it, or
// the route's own number of retries when it has one. They are the
// fleet's alone: a gRPC client keeps its own deadlines.
func applyTimeouts(p *RoutePolicy, r *routev3.Route, edge bool) {
	action := r.GetRoute()
	if !edge || action == nil {
		return
	}
	if p.Timeout > 0 {
		action.Timeout = durationpb.New(p.Timeout)
	}
	if p.PerTryTimeout > 0 {
		if action.RetryPolicy == nil {
			action.RetryPolicy = edgeRetryPolicy()
		}
		action.RetryPolicy.PerTryTimeout = durationpb.New(p.PerTryTimeout)
	}
}

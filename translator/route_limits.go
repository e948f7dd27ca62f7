package translator

import (
	"github.com/fairwayhq/fairway/envoy"
)

// limitsPolicy maps an Ingress's timeouts, retries and body limit.
//
// nginx's proxy_read_timeout and proxy_send_timeout bound the wait
// between two reads from, or two writes to, the backend. Envoy's closest
// setting is the route's idle_timeout: one timer, reset by any byte in
// either direction. It gets the larger of the two that are set, so that
// neither direction is cut before the user allowed; the route's overall
// timeout stays off, so a long upload or download never ends while
// bytes move.
func limitsPolicy(r *httpRoute, out *envoy.RoutePolicy) bool {
	p := r.policy
	set := false
	if idle := max(p.Timeouts.Read, p.Timeouts.Send); idle > 0 {
		out.IdleTimeout, set = idle, true
	}
	if p.Retries != nil {
		tries := p.Retries.Attempts
		if tries == 0 || tries > envoy.RouteMaxTries {
			tries = envoy.RouteMaxTries
		}
		retries := tries - 1
		out.Retries, set = &retries, true
	}
	if p.BodyLimit != nil && *p.BodyLimit > 0 {
		out.MaxRequestBytes, set = uint64(*p.BodyLimit), true
	}
	return set
}

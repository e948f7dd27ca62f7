package translator

import (
	"time"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/policy"
)

// rateLimitedStatus is ingress-nginx's answer to a request over a limit:
// its limit-req-status-code ConfigMap key defaults to 503.
const rateLimitedStatus = 503

// rateLimitPolicy maps an Ingress's per-client rate limits onto token
// buckets. nginx's limit_req with burst B and nodelay, as ingress-nginx
// writes it, passes a request while the client's excess (requests not
// yet drained at the rate) is at most B, and counts a client's first
// request as no excess: B+1 requests pass at once, and then one per
// 1/rate. A token bucket holding B+1 and refilled at the rate passes the
// same requests, and a refused request takes no token in either.
func rateLimitPolicy(r *httpRoute, out *envoy.RoutePolicy) bool {
	l := r.policy.RateLimit
	if l == nil || (l.PerSecond == 0 && l.PerMinute == 0) {
		return false
	}
	p := &envoy.RateLimitPolicy{Exempt: l.Exempt, Status: rateLimitedStatus}
	if l.PerSecond > 0 {
		p.Buckets = append(p.Buckets, requestBucket("rps", l, l.PerSecond, time.Second))
	}
	if l.PerMinute > 0 {
		p.Buckets = append(p.Buckets, requestBucket("rpm", l, l.PerMinute, time.Minute))
	}
	out.RateLimit = p
	return true
}

// requestBucket is one nginx zone's bucket; the annotations' bounds keep
// burst+1 within 32 bits.
func requestBucket(name string, l *policy.RateLimit, rate uint32, period time.Duration) envoy.RequestBucket {
	return envoy.RequestBucket{Name: name, Requests: rate, Period: period, MaxTokens: uint32(l.Burst(rate) + 1)}
}

package envoy

import (
	"net/netip"
	"time"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// LocalRateLimitFilter is the local_ratelimit filter's name in a route's
// own filter chain.
const LocalRateLimitFilter = "envoy.filters.http.local_ratelimit"

// The descriptor entries of a client's bucket: which limit (RequestBucket
// Name), that the client is not exempt, and the client's address (the key
// Envoy's remote_address action writes).
const (
	rateLimitKey         = "limit"
	rateLimitExemptKey   = "exempt"
	rateLimitExemptValue = "no"
	rateLimitClientKey   = "remote_address"
)

// RateLimitClients is how many client addresses one bucket of a route
// keeps (max_dynamic_descriptors); past it, the client seen longest ago
// is forgotten and starts again with a full bucket. It is what
// ingress-nginx's 5 MB limit_req zone holds: 81920 states of 64 bytes.
const RateLimitClients = 81920

// rateLimitStatPrefix roots the filter's stats, the same on every route
// (<prefix>.http_local_rate_limit.*), so that they add up per Envoy.
const rateLimitStatPrefix = "route_rate_limit"

// minFillInterval is the shortest fill_interval Envoy takes.
const minFillInterval = 50 * time.Millisecond

// RateLimitPolicy limits each client address's requests on one route:
// every bucket must have a token for a request to pass. Clients in Exempt
// take no tokens.
type RateLimitPolicy struct {
	Buckets []RequestBucket
	Exempt  []netip.Prefix
	// Status is the answer to a request over a limit.
	Status uint32
}

// RequestBucket is one token bucket per client: Requests tokens come
// back per Period, and it holds at most MaxTokens, which is how many
// requests a client that has been quiet may send at once.
type RequestBucket struct {
	Name      string // the descriptor's limit value: "rps", "rpm"
	Requests  uint32
	Period    time.Duration
	MaxTokens uint32
}

// rateLimitFilters are a route's rate limit: local_ratelimit with one
// bucket per client address and limit. Its own rate_limits build a
// request's descriptors: (limit, name), then (exempt, no) only when the
// client is outside every exempt range (remote_address_match inverted:
// an action that adds no entry adds no descriptor, so an exempt client
// matches no bucket), then (remote_address, the client). The
// descriptors leave the address empty, which makes one bucket per value
// seen. Both actions read the address Envoy trusts after
// X-Forwarded-For's trusted hops and the PROXY protocol, as RBAC's
// remote_ip does. There is no default bucket: a request that matches no
// descriptor passes.
// A route that redirects has none (routeChainFilters).
func rateLimitFilters(p *RoutePolicy) []*corev3.TypedExtensionConfig {
	l := p.RateLimit
	if l == nil || len(l.Buckets) == 0 {
		return nil
	}
	always := &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}
	cfg := &localratelimitv3.LocalRateLimit{
		StatPrefix:     rateLimitStatPrefix,
		Status:         &typev3.HttpStatus{Code: typev3.StatusCode(l.Status)},
		FilterEnabled:  always,
		FilterEnforced: always,
		// One bucket per Envoy, not per connection: a client opening
		// connections must not multiply its rate.
		LocalRateLimitPerDownstreamConnection: false,
		MaxDynamicDescriptors:                 wrapperspb.UInt32(RateLimitClients),
	}
	for _, b := range l.Buckets {
		cfg.Descriptors = append(cfg.Descriptors, b.descriptor(len(l.Exempt) > 0))
		cfg.RateLimits = append(cfg.RateLimits, &routev3.RateLimit{Actions: clientActions(b.Name, l.Exempt)})
	}
	return []*corev3.TypedExtensionConfig{{Name: LocalRateLimitFilter, TypedConfig: mustAny(cfg)}}
}

// descriptor is the bucket's descriptor, with the client's address left
// empty: one bucket per address.
func (b RequestBucket) descriptor(exempt bool) *ratelimitv3.LocalRateLimitDescriptor {
	entries := []*ratelimitv3.RateLimitDescriptor_Entry{{Key: rateLimitKey, Value: b.Name}}
	if exempt {
		entries = append(entries, &ratelimitv3.RateLimitDescriptor_Entry{Key: rateLimitExemptKey, Value: rateLimitExemptValue})
	}
	entries = append(entries, &ratelimitv3.RateLimitDescriptor_Entry{Key: rateLimitClientKey})
	interval, tokens := fillInterval(b.Requests, b.Period)
	return &ratelimitv3.LocalRateLimitDescriptor{Entries: entries, TokenBucket: &typev3.TokenBucket{
		MaxTokens:     b.MaxTokens,
		TokensPerFill: wrapperspb.UInt32(tokens),
		FillInterval:  durationpb.New(interval),
	}}
}

func clientActions(name string, exempt []netip.Prefix) []*routev3.RateLimit_Action {
	actions := []*routev3.RateLimit_Action{{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: &routev3.RateLimit_Action_GenericKey{
		DescriptorKey: rateLimitKey, DescriptorValue: name,
	}}}}
	if len(exempt) > 0 {
		ranges := make([]*xdscorev3.CidrRange, len(exempt))
		for i, p := range exempt {
			r := cidrRange(p)
			ranges[i] = &xdscorev3.CidrRange{AddressPrefix: r.AddressPrefix, PrefixLen: r.PrefixLen}
		}
		actions = append(actions, &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddressMatch_{RemoteAddressMatch: &routev3.RateLimit_Action_RemoteAddressMatch{
			DescriptorKey: rateLimitExemptKey, DescriptorValue: rateLimitExemptValue,
			AddressMatcher: &matcherv3.AddressMatcher{Ranges: ranges, InvertMatch: true},
		}}})
	}
	return append(actions, &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}}})
}

// fillInterval writes requests per period as a token bucket Envoy takes:
// a fill_interval of at least 50 ms with a whole number of tokens per
// fill, the shortest such (10 per second is 1 every 100 ms, 7 per second
// 7 every second, 100 per second 5 every 50 ms). Envoy's bucket refills
// continuously at tokens_per_fill / fill_interval, as nginx drains its
// excess continuously, so only that ratio matters, and it is exact.
func fillInterval(requests uint32, period time.Duration) (time.Duration, uint32) {
	ms := uint64(period / time.Millisecond)
	d := gcd(uint64(requests), ms)
	for g := min(d, ms/uint64(minFillInterval/time.Millisecond)); g > 1; g-- {
		if d%g == 0 {
			return time.Duration(ms/g) * time.Millisecond, uint32(uint64(requests) / g)
		}
	}
	return period, requests
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

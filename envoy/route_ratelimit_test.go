package envoy

import (
	"net/netip"
	"testing"
	"time"

	filterchainv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/filter_chain/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
)

// TestFillInterval: the average rate is exact, the interval at least
// Envoy's 50 ms and as short as whole tokens allow.
func TestFillInterval(t *testing.T) {
	cases := []struct {
		requests uint32
		period   time.Duration
		interval time.Duration
		tokens   uint32
	}{
		{1, time.Second, time.Second, 1},
		{10, time.Second, 100 * time.Millisecond, 1},
		{7, time.Second, time.Second, 7},
		{100, time.Second, 50 * time.Millisecond, 5},
		{1000000, time.Second, 50 * time.Millisecond, 50000},
		{30, time.Minute, 2 * time.Second, 1},
		{1, time.Minute, time.Minute, 1},
		{7, time.Minute, time.Minute, 7},
		{60000000, time.Minute, 50 * time.Millisecond, 50000},
	}
	for _, c := range cases {
		interval, tokens := fillInterval(c.requests, c.period)
		if interval != c.interval || tokens != c.tokens {
			t.Errorf("%d per %v: %d every %v, want %d every %v", c.requests, c.period, tokens, interval, c.tokens, c.interval)
		}
		if interval < minFillInterval || time.Duration(tokens)*c.period != time.Duration(c.requests)*interval {
			t.Errorf("%d per %v: %d every %v is not the same rate, or too often", c.requests, c.period, tokens, interval)
		}
	}
}

// TestRateLimitRoute: the fleet's route runs local_ratelimit, enforced on
// every request, one bucket per Envoy (not per connection) and per
// client; a proxyless route, which runs no HTTP filters, has none.
func TestRateLimitRoute(t *testing.T) {
	spec := RouteSpec{Name: "shop/web", Path: "/", Cluster: "shop/web/80", Policy: &RoutePolicy{RateLimit: &RateLimitPolicy{
		Status:  503,
		Exempt:  []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Buckets: []RequestBucket{{Name: "rps", Requests: 10, Period: time.Second, MaxTokens: 51}},
	}}}
	r := spec.Routes()[0]
	if err := r.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	var per filterchainv3.FilterChainConfigPerRoute
	if err := r.GetTypedPerFilterConfig()[filterChainFilter].UnmarshalTo(&per); err != nil {
		t.Fatal(err)
	}
	chain := per.GetFilterChain().GetFilters()
	if len(chain) != 1 || chain[0].GetName() != LocalRateLimitFilter {
		t.Fatalf("chain = %v, want local_ratelimit alone", chain)
	}
	var cfg localratelimitv3.LocalRateLimit
	if err := chain[0].GetTypedConfig().UnmarshalTo(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	if cfg.GetFilterEnforced().GetDefaultValue().GetNumerator() != 100 || cfg.GetFilterEnabled().GetDefaultValue().GetNumerator() != 100 ||
		cfg.GetLocalRateLimitPerDownstreamConnection() || cfg.GetTokenBucket() != nil || cfg.GetStatus().GetCode() != 503 {
		t.Errorf("filter = %v, want enforced on all, per Envoy, no default bucket, 503", &cfg)
	}
	d := cfg.GetDescriptors()
	if len(d) != 1 || len(d[0].GetEntries()) != 3 || d[0].GetEntries()[2].GetKey() != rateLimitClientKey || d[0].GetEntries()[2].GetValue() != "" {
		t.Errorf("descriptors = %v, want one per client", d)
	}
	if a := cfg.GetRateLimits(); len(a) != 1 || len(a[0].GetActions()) != 3 || !a[0].GetActions()[1].GetRemoteAddressMatch().GetAddressMatcher().GetInvertMatch() {
		t.Errorf("rate_limits = %v, want (limit, exempt unless in range, remote_address)", a)
	}
	if pr := spec.routes(false)[0]; pr.GetTypedPerFilterConfig() != nil {
		t.Errorf("proxyless route has filter config: %v", pr.GetTypedPerFilterConfig())
	}
}

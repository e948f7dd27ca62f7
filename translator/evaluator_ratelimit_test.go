package translator

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/fairwayhq/fairway/envoy"
)

func init() { chainFilterEffects[envoy.LocalRateLimitFilter] = rateLimitEffect }

// bucketTake is one token a request asks of one client's bucket: the
// bucket's identity within the route's filter (the descriptor and its
// values; tokenBuckets adds the route, since each route's filter has
// buckets of its own),
// what it holds, how fast it refills, and the answer when it is empty.
type bucketTake struct {
	bucket    string
	maxTokens uint32
	perSecond float64
	status    int
}

// rateLimitEffect is Envoy's local_ratelimit as fairway configures it: the
// filter's own rate_limits build the request's descriptors, each matched
// against the configured descriptors (an empty value matches any, one
// bucket per value), and the request asks a token of each matched bucket.
// One request alone always passes (every bucket holds at least one token);
// takeTokens follows a bucket over many requests. Any other setting of
// the filter fails the test.
func rateLimitEffect(t *testing.T, cfg *anypb.Any, req request, out *outcome) {
	t.Helper()
	c := unpack(t, cfg, &localratelimitv3.LocalRateLimit{})
	status := rateLimitStatus(t, c)
	for _, rl := range c.GetRateLimits() {
		entries, ok := descriptorOf(t, rl, req)
		if !ok {
			continue
		}
		i := slices.IndexFunc(c.GetDescriptors(), func(d *ratelimitv3.LocalRateLimitDescriptor) bool { return descriptorMatches(d, entries) })
		if i < 0 {
			continue
		}
		d := c.GetDescriptors()[i]
		if d.GetShadowMode() {
			t.Fatalf("a descriptor in shadow mode, which this evaluator does not follow: %v", d)
		}
		tb := d.GetTokenBucket()
		if tb.GetMaxTokens() == 0 || tb.GetFillInterval().AsDuration() < 50*time.Millisecond {
			t.Fatalf("a token bucket Envoy would refuse: %v", tb)
		}
		out.rateLimits = append(out.rateLimits, bucketTake{
			bucket:    fmt.Sprintf("%d/%v", i, entries),
			maxTokens: tb.GetMaxTokens(),
			perSecond: float64(tb.GetTokensPerFill().GetValue()) / tb.GetFillInterval().AsDuration().Seconds(),
			status:    status,
		})
	}
}

// rateLimitStatus checks the filter's settings against the ones fairway
// means and this evaluator follows, and returns its answer when limited.
func rateLimitStatus(t *testing.T, c *localratelimitv3.LocalRateLimit) int {
	t.Helper()
	rest := proto.Clone(c).(*localratelimitv3.LocalRateLimit)
	always := func(p interface {
		GetDefaultValue() *typev3.FractionalPercent
		GetRuntimeKey() string
	}) bool {
		return p.GetDefaultValue().GetNumerator() == 100 && p.GetDefaultValue().GetDenominator() == typev3.FractionalPercent_HUNDRED && p.GetRuntimeKey() == ""
	}
	if !always(c.GetFilterEnabled()) || !always(c.GetFilterEnforced()) || c.GetStatus().GetCode() < 400 || c.GetStatPrefix() == "" {
		t.Fatalf("local_ratelimit not enforced on every request, or with a status Envoy replaces: %v", c)
	}
	rest.StatPrefix, rest.Status, rest.FilterEnabled, rest.FilterEnforced = "", nil, nil, nil
	rest.Descriptors, rest.RateLimits, rest.MaxDynamicDescriptors = nil, nil, nil
	if !proto.Equal(rest, &localratelimitv3.LocalRateLimit{}) {
		t.Fatalf("a local_ratelimit setting this evaluator does not know (a default bucket, per-connection buckets, headers, ...): %v", rest)
	}
	return int(c.GetStatus().GetCode())
}

// descriptorOf is the descriptor one rate_limits entry makes of a request,
// or false when an action adds no entry (then it makes none).
func descriptorOf(t *testing.T, rl *routev3.RateLimit, req request) ([][2]string, bool) {
	t.Helper()
	if !proto.Equal(rl, &routev3.RateLimit{Actions: rl.GetActions()}) {
		t.Fatalf("a rate_limits setting this evaluator does not know: %v", rl)
	}
	var entries [][2]string
	for _, a := range rl.GetActions() {
		switch s := a.GetActionSpecifier().(type) {
		case *routev3.RateLimit_Action_GenericKey_:
			entries = append(entries, [2]string{cmpOr(s.GenericKey.GetDescriptorKey(), "generic_key"), s.GenericKey.GetDescriptorValue()})
		case *routev3.RateLimit_Action_RemoteAddress_:
			entries = append(entries, [2]string{"remote_address", clientOf(t, req).String()})
		case *routev3.RateLimit_Action_RemoteAddressMatch_:
			m := s.RemoteAddressMatch
			if m.GetDefaultValue() != "" || m.GetAddressMatcher() == nil {
				t.Fatalf("a remote_address_match this evaluator does not know: %v", m)
			}
			in := slices.ContainsFunc(m.GetAddressMatcher().GetRanges(), func(r *xdscorev3.CidrRange) bool {
				return cidrContains(t, r.GetAddressPrefix(), r.GetPrefixLen().GetValue(), clientOf(t, req))
			})
			if in == m.GetAddressMatcher().GetInvertMatch() {
				return nil, false
			}
			entries = append(entries, [2]string{cmpOr(m.GetDescriptorKey(), "remote_address_match"), m.GetDescriptorValue()})
		default:
			t.Fatalf("a rate limit action this evaluator does not know: %v", a)
		}
	}
	return entries, true
}

// descriptorMatches: the same keys in the same order, and each value
// equal or left empty in the configuration (one bucket per value).
func descriptorMatches(d *ratelimitv3.LocalRateLimitDescriptor, entries [][2]string) bool {
	if len(d.GetEntries()) != len(entries) {
		return false
	}
	for i, e := range d.GetEntries() {
		if e.GetKey() != entries[i][0] || (e.GetValue() != "" && e.GetValue() != entries[i][1]) {
			return false
		}
	}
	return true
}

func clientOf(t *testing.T, req request) netip.Addr {
	t.Helper()
	if !req.client.IsValid() {
		t.Fatalf("a rate-limited route needs the request's client address")
	}
	return req.client.Unmap()
}

func cidrContains(t *testing.T, addr string, bits uint32, client netip.Addr) bool {
	t.Helper()
	p, err := netip.ParsePrefix(addr + "/" + strconv.Itoa(int(bits)))
	if err != nil {
		t.Fatalf("a range Envoy would refuse: %s/%d", addr, bits)
	}
	return p.Contains(client)
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// tokenBuckets are the clients' buckets over time, as Envoy v1.40 keeps
// them (RateLimitTokenBucket): a bucket starts full, refills continuously
// at tokens_per_fill / fill_interval up to max_tokens, and a request
// needs a whole token. now is the time requests are sent at; requests
// sent without moving it arrive together.
type tokenBuckets struct {
	now     time.Duration
	buckets map[string]*tokenBucket
}

type tokenBucket struct {
	tokens float64
	at     time.Duration
}

// send evaluates a request against the buckets, as Envoy's limiter takes
// tokens (local_ratelimit_impl.cc): from each matched bucket in order of
// slowest refill first, and stops at the first empty one, which answers
// with its status and x-envoy-ratelimited (tokens taken before it stay
// taken).
func (b *tokenBuckets) send(t *testing.T, rc *routev3.RouteConfiguration, req request) outcome {
	t.Helper()
	if b.buckets == nil {
		b.buckets = map[string]*tokenBucket{}
	}
	out := evaluate(t, rc, req)
	takes := slices.Clone(out.rateLimits)
	slices.SortStableFunc(takes, func(x, y bucketTake) int {
		switch {
		case x.perSecond < y.perSecond:
			return -1
		case x.perSecond > y.perSecond:
			return 1
		}
		return 0
	})
	for _, take := range takes {
		key := fmt.Sprintf("%p/%s", out.route, take.bucket)
		bk, seen := b.buckets[key]
		if !seen {
			bk = &tokenBucket{tokens: float64(take.maxTokens), at: b.now}
			b.buckets[key] = bk
		}
		bk.tokens = min(float64(take.maxTokens), bk.tokens+take.perSecond*(b.now-bk.at).Seconds())
		bk.at = b.now
		if bk.tokens < 1 {
			out.status, out.cluster = take.status, ""
			setResponseHeader(&out, "x-envoy-ratelimited", "true")
			return out
		}
		bk.tokens--
	}
	return out
}

// TestRateLimitOutcomes sends requests from one client address in one
// instant through the limit goldens' http tables: the bucket lets exactly
// burst+1 through (nginx's limit_req burst=B nodelay passes B+1 at once)
// and answers the rest 503; another address has a bucket of its own; an
// exempt address is never limited; a redirect is answered before any
// limit, as nginx's rewrite phase answers before limit_req.
func TestRateLimitOutcomes(t *testing.T) {
	const web = "default/web/80"
	unlimited := -1
	cases := []struct {
		golden, authority, client string
		passed                    int // requests forwarded of 200; -1: all
	}{
		{"annotation-limit-rps", "app.example.com", "203.0.113.7", 51},
		{"annotation-limit-rps", "app.example.com", "2001:db8:1::7", 51},
		{"annotation-limit-rpm", "app.example.com", "203.0.113.7", 151},
		{"annotation-limit-rpm", "zero.example.com", "203.0.113.7", unlimited},
		{"annotation-limit-burst-multiplier", "app.example.com", "203.0.113.7", 7},
		{"annotation-limit-burst-multiplier", "strict.example.com", "203.0.113.7", 1},
		{"annotation-limit-burst-multiplier", "alone.example.com", "203.0.113.7", unlimited},
		{"annotation-limit-rps-rpm", "app.example.com", "203.0.113.7", 26},
		{"annotation-limit-whitelist", "app.example.com", "192.168.1.7", unlimited},
		{"annotation-limit-whitelist", "app.example.com", "10.200.0.1", unlimited},
		{"annotation-limit-whitelist", "app.example.com", "192.168.1.8", 26},
		{"annotation-limit-whitelist", "app.example.com", "11.0.0.1", 26},
		{"annotation-limit-whitelist-invalid", "app.example.com", "192.168.1.7", unlimited},
		{"annotation-limit-whitelist-invalid", "app.example.com", "10.0.0.1", 26},
		{"annotation-limit-whitelist-invalid", "none.example.com", "10.0.0.1", 26},
		{"annotation-limit-allowlist", "app.example.com", "10.1.2.3", unlimited},
		{"annotation-limit-allowlist", "app.example.com", "2001:db8::1", unlimited},
		{"annotation-limit-allowlist", "app.example.com", "2001:db9::1", 26},
		{"annotation-limit-allowlist", "app.example.com", "203.0.113.7", 26},
		{"annotation-limit-allowlist-invalid", "app.example.com", "10.1.2.3", unlimited},
		{"annotation-limit-allowlist-invalid", "app.example.com", "203.0.113.7", 26},
		{"annotation-limit-allowlist", "both.example.com", "10.1.2.3", unlimited},
		{"annotation-limit-allowlist", "both.example.com", "203.0.113.7", 26},
	}
	for _, c := range cases {
		in := readGoldenInput(t, "testdata/"+c.golden+"/input.yaml")
		rc := routeConfig(Translate(in.Input, in.Options), envoy.HTTPRouteConfig)
		buckets := &tokenBuckets{}
		// Another client first: its requests take nothing from c.client's bucket.
		for range 200 {
			buckets.send(t, rc, request{authority: c.authority, path: "/", client: netip.MustParseAddr("198.51.100.1")})
		}
		passed, limited := 0, 0
		for range 200 {
			out := buckets.send(t, rc, request{authority: c.authority, path: "/", client: netip.MustParseAddr(c.client)})
			switch {
			case out.status == 0 && out.cluster == web:
				passed++
			case out.status == 503 && out.cluster == "" && out.responseHeaders["x-envoy-ratelimited"] == "true":
				limited++
			default:
				t.Fatalf("%s %s from %s: %+v, want forwarded to %s or 503", c.golden, c.authority, c.client, out, web)
			}
		}
		want := c.passed
		if want == unlimited {
			want = 200
		}
		if passed != want || limited != 200-want {
			t.Errorf("%s %s from %s: %d forwarded, %d limited; want %d forwarded", c.golden, c.authority, c.client, passed, limited, want)
		}
	}
}

// TestRateLimitSkipsRedirects: a route that redirects answers every
// request, however many, as nginx's return answers before limit_req.
func TestRateLimitSkipsRedirects(t *testing.T) {
	in := readGoldenInput(t, "testdata/annotation-limit-rps/input.yaml")
	rc := routeConfig(Translate(in.Input, in.Options), envoy.HTTPRouteConfig)
	buckets := &tokenBuckets{}
	for _, host := range []string{"moved.example.com", "forced.example.com"} {
		for range 100 {
			out := buckets.send(t, rc, request{authority: host, path: "/api", client: netip.MustParseAddr("203.0.113.7")})
			if out.status != 301 && out.status != 308 {
				t.Fatalf("%s: %+v, want the redirect", host, out)
			}
		}
	}
}

// TestRateLimitProxyless: a proxyless gRPC client runs no HTTP filters,
// so its routes carry no limit, and still forward.
func TestRateLimitProxyless(t *testing.T) {
	in := readGoldenInput(t, "testdata/annotation-limit-rps/input.yaml")
	in.Options.Proxyless = true
	res := Translate(in.Input, in.Options)
	rc := proxylessRoutes(t, res, "app.example.com")
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			if len(r.GetTypedPerFilterConfig()) != 0 {
				t.Errorf("proxyless route %s has filter config %v", r.GetName(), r.GetTypedPerFilterConfig())
			}
		}
	}
	if out := evaluate(t, rc, request{authority: "app.example.com", path: "/", client: netip.MustParseAddr("203.0.113.7")}); out.status != 0 || out.cluster != "default/web/80" {
		t.Errorf("proxyless: %+v, want forwarded", out)
	}
}

// TestRateLimitRefills: after the burst, a client gets the rate back and
// no more, as nginx drains its excess at the rate: 10 per second is one
// request per 100 ms, 30 per minute one per 2 s; a quiet client is back
// to its full burst, never beyond.
func TestRateLimitRefills(t *testing.T) {
	client := netip.MustParseAddr("203.0.113.7")
	for _, c := range []struct {
		golden   string
		burst    int
		interval time.Duration // between two requests at the rate
	}{
		{"annotation-limit-rps", 51, 100 * time.Millisecond},
		{"annotation-limit-rpm", 151, 2 * time.Second},
		{"annotation-limit-burst-multiplier", 7, 500 * time.Millisecond},
	} {
		in := readGoldenInput(t, "testdata/"+c.golden+"/input.yaml")
		rc := routeConfig(Translate(in.Input, in.Options), envoy.HTTPRouteConfig)
		b := &tokenBuckets{}
		passed := func(n int) int {
			ok := 0
			for range n {
				if out := b.send(t, rc, request{authority: "app.example.com", path: "/", client: client}); out.status == 0 {
					ok++
				}
			}
			return ok
		}
		if got := passed(c.burst + 10); got != c.burst {
			t.Errorf("%s: %d passed at once, want %d", c.golden, got, c.burst)
		}
		b.now += c.interval * 9 / 10
		if got := passed(5); got != 0 {
			t.Errorf("%s: %d passed before one interval, want 0", c.golden, got)
		}
		b.now += c.interval/10 + time.Millisecond
		if got := passed(5); got != 1 {
			t.Errorf("%s: %d passed after one interval, want 1", c.golden, got)
		}
		b.now += 4 * c.interval
		if got := passed(20); got != min(4, c.burst) {
			t.Errorf("%s: %d passed after four intervals, want %d", c.golden, got, min(4, c.burst))
		}
		b.now += time.Duration(c.burst*10) * c.interval
		if got := passed(c.burst + 10); got != c.burst {
			t.Errorf("%s: %d passed after a long quiet, want the burst %d", c.golden, got, c.burst)
		}
	}
}

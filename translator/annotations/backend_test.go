package annotations

import (
	"strings"
	"testing"
	"time"

	"github.com/fairwayhq/fairway/translator/policy"
)

func TestParseBackendProtocol(t *testing.T) {
	for value, want := range map[string]policy.Protocol{
		"HTTP": policy.HTTP, "http": policy.HTTP, "HTTPS": policy.HTTPS, "https": policy.HTTPS,
		"GRPC": policy.H2C, "grpc": policy.H2C, " Grpc ": policy.H2C, "H2C": policy.H2C, "h2c": policy.H2C,
		"GRPCS": policy.GRPCS, "grpcs": policy.GRPCS,
	} {
		var r policy.Route
		if err := parseBackendProtocol(value, &r); err != nil || r.Upstream.Protocol != want {
			t.Errorf("%q: got %q, %v; want %q", value, r.Upstream.Protocol, err, want)
		}
	}
	for value, says := range map[string]string{
		"FCGI": "FastCGI", "fcgi": "FastCGI", "AJP": "AJP", "AUTO_HTTP": "HTTP or HTTPS",
		"": "not one of", "HTTP2": "not one of", "SPDY": "not one of", "HTTP;": "not one of", "GRPC S": "not one of",
	} {
		var r policy.Route
		err := parseBackendProtocol(value, &r)
		if err == nil || !strings.Contains(err.Error(), says) || r.Upstream != (policy.Upstream{}) {
			t.Errorf("%q: got %v, %+v; want an error saying %q and nothing set", value, err, r.Upstream, says)
		}
	}
}

func TestParseLoadBalance(t *testing.T) {
	for value, want := range map[string]policy.Balance{"round_robin": policy.RoundRobin, "ewma": policy.LeastRequest, " ewma ": policy.LeastRequest} {
		r := policy.Route{Upstream: policy.Upstream{Balance: "sentinel"}}
		if err := parseLoadBalance(value, &r); err != nil || r.Upstream.Balance != want {
			t.Errorf("%q: got %q, %v; want %q", value, r.Upstream.Balance, err, want)
		}
	}
	for _, value := range []string{"", "least_conn", "chash", "EWMA", "round-robin", "random"} {
		var r policy.Route
		if err := parseLoadBalance(value, &r); err == nil || r.Upstream.Balance != policy.RoundRobin {
			t.Errorf("%q: got %q, %v; want an error", value, r.Upstream.Balance, err)
		}
	}
}

func TestParseConnectTimeout(t *testing.T) {
	for value, want := range map[string]time.Duration{
		"5": 5 * time.Second, "50": 50 * time.Second, "5s": 5 * time.Second, " 10 ": 10 * time.Second, "3600": time.Hour, "007": 7 * time.Second,
	} {
		var r policy.Route
		if err := parseConnectTimeout(value, &r); err != nil || r.Upstream.ConnectTimeout != want {
			t.Errorf("%q: got %v, %v; want %v", value, r.Upstream.ConnectTimeout, err, want)
		}
	}
	for _, value := range []string{"", "s", "0", "0s", "-5", "+5", "50k", "5m", "500ms", "1.5", "1h", "3601", "99999999999999999999", "5 s", "ten"} {
		var r policy.Route
		if err := parseConnectTimeout(value, &r); err == nil || r.Upstream.ConnectTimeout != 0 {
			t.Errorf("%q: got %v, %v; want an error", value, r.Upstream.ConnectTimeout, err)
		}
	}
}

// TestParseBackendFindings: through Parse, a bad value is an Invalid
// finding naming the value that does not block the Ingress, and the
// other backend annotations still apply.
func TestParseBackendFindings(t *testing.T) {
	r, found := Parse(map[string]string{
		NginxPrefix + "backend-protocol":        "FCGI",
		NginxPrefix + "load-balance":            "ewma",
		FairwayPrefix + "proxy-connect-timeout": "10",
		NginxPrefix + "proxy-connect-timeout":   "50k",
	})
	if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks || found[0].Key != NginxPrefix+"backend-protocol" || !strings.Contains(found[0].Message, `"FCGI"`) {
		t.Fatalf("got %+v, want one Invalid finding for FCGI that does not block", found)
	}
	if want := (policy.Upstream{Balance: policy.LeastRequest, ConnectTimeout: 10 * time.Second}); r.Upstream != want {
		t.Errorf("upstream = %+v, want %+v", r.Upstream, want)
	}
}

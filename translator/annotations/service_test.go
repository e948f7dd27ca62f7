package annotations

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fairwayhq/fairway/translator/policy"
)

// TestParseService: each key's value lands in its typed field, a
// malformed one is Invalid and leaves the default, an unknown
// fairway.dev/ key is Unsupported, other prefixes are not looked at.
func TestParseService(t *testing.T) {
	for _, c := range []struct {
		name  string
		in    map[string]string
		want  policy.Service
		found []Finding
	}{
		{name: "none", in: map[string]string{"metallb.io/loadBalancerIPs": "192.0.2.1"}},
		{name: "proxy v1", in: map[string]string{"fairway.dev/proxy-protocol": "v1"}, want: policy.Service{ProxyProtocol: 1}},
		{name: "proxy v2", in: map[string]string{"fairway.dev/proxy-protocol": "v2"}, want: policy.Service{ProxyProtocol: 2}},
		{name: "proxy invalid", in: map[string]string{"fairway.dev/proxy-protocol": "V2"},
			found: []Finding{{Key: "fairway.dev/proxy-protocol", Kind: Invalid, Message: `"V2": want "v1" or "v2"; the default applies`}}},
		{name: "idle timeout, duration and seconds", in: map[string]string{"fairway.dev/tcp-idle-timeout": "90"}, want: policy.Service{IdleTimeout: 90 * time.Second}},
		{name: "idle timeout too long", in: map[string]string{"fairway.dev/tcp-idle-timeout": "200h"},
			found: []Finding{{Key: "fairway.dev/tcp-idle-timeout", Kind: Invalid, Message: `"200h": want between 1s and 168h0m0s; the default applies`}}},
		{name: "max connections", in: map[string]string{"fairway.dev/max-connections": "64"}, want: policy.Service{MaxConnections: 64}},
		{name: "max connections zero", in: map[string]string{"fairway.dev/max-connections": "0"},
			found: []Finding{{Key: "fairway.dev/max-connections", Kind: Invalid, Message: `"0": want a whole number from 1 to 2147483648; the default applies`}}},
		{name: "health check", in: map[string]string{
			"fairway.dev/health-check": "tcp", "fairway.dev/health-check-interval": "3s", "fairway.dev/health-check-timeout": "500ms",
			"fairway.dev/health-check-healthy-threshold": "1", "fairway.dev/health-check-unhealthy-threshold": "4",
		}, want: policy.Service{HealthCheck: policy.HealthCheck{TCP: true, Interval: 3 * time.Second, Timeout: 500 * time.Millisecond, Healthy: 1, Unhealthy: 4}}},
		{name: "health check tuning alone", in: map[string]string{"fairway.dev/health-check-interval": "3s"},
			found: []Finding{{Key: "fairway.dev/health-check-interval", Kind: Invalid, Message: "applies only with fairway.dev/health-check: tcp; it is ignored"}}},
		{name: "unknown and sharing key", in: map[string]string{"fairway.dev/address-sharing-key": "k", "fairway.dev/nope": "x"},
			found: []Finding{{Key: "fairway.dev/nope", Kind: Unsupported, Message: "fairway does not implement this annotation on a Service; it is ignored"}}},
	} {
		got, found := ParseService(c.in)
		if got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
		if diff := cmp.Diff(c.found, found); diff != "" {
			t.Errorf("%s: findings (-want +got):\n%s", c.name, diff)
		}
	}
}

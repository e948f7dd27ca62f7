package translator

import (
	"slices"
	"testing"
)

// TestNginxE2ERateLimit ports ingress-nginx's rate limit cases to
// fairway's Envoy config: its e2e limitconnections.go and its parser's
// tests (internal/ingress/annotations/ratelimit/main_test.go), which pin
// the burst and the allowlist's alias. Requests from one client are sent
// at once; each case counts what is forwarded to the echo Service.
func TestNginxE2ERateLimit(t *testing.T) {
	cases := []struct {
		from        string
		annotations map[string]string
		client      string
		sent        int
		forwarded   int
		problems    []Reason
	}{
		// limitconnections.go "should limit-connections": 20 slow requests
		// at once, 8 get through and 12 get 503. No Envoy filter counts
		// requests in flight per client, so fairway does not serve the
		// Ingress at all rather than serve it without the limit.
		{"limitconnections.go: should limit-connections", nginx("limit-connections", "8"), "10.0.0.1", 20, 0, []Reason{RefusedAnnotation}},
		// main_test.go TestAnnotations: limit-rps 100 with the default
		// multiplier has burst 500, with limit-burst-multiplier 3 burst 300;
		// nginx's nodelay passes burst+1 at once.
		{"main_test.go: rps 100, burst 100*5", nginx("limit-rps", "100"), "10.0.0.1", 600, 501, nil},
		{"main_test.go: rps 100, burst 100*3", nginx("limit-rps", "100", "limit-burst-multiplier", "3"), "10.0.0.1", 600, 301, nil},
		{"main_test.go: rpm 10, burst 10*3", nginx("limit-rpm", "10", "limit-burst-multiplier", "3"), "10.0.0.1", 100, 31, nil},
		// main_test.go TestAnnotationCIDR: "Parent annotation surpasses any
		// alias": limit-allowlist's one address is exempt, and
		// limit-whitelist's are not.
		{"main_test.go: allowlist surpasses its alias (exempt)", nginx("limit-rps", "1", "limit-whitelist", "192.168.0.5, 192.168.50.32/24, 10.10.10.1", "limit-allowlist", "192.168.0.9"), "192.168.0.9", 50, 50, []Reason{InvalidAnnotation}},
		{"main_test.go: allowlist surpasses its alias (limited)", nginx("limit-rps", "1", "limit-whitelist", "192.168.0.5, 192.168.50.32/24, 10.10.10.1", "limit-allowlist", "192.168.0.9"), "192.168.0.5", 50, 6, []Reason{InvalidAnnotation}},
		{"main_test.go: the alias alone", nginx("limit-rps", "1", "limit-whitelist", "192.168.0.5, 192.168.50.32/24, 10.10.10.1"), "192.168.50.7", 50, 50, nil},
	}
	for _, c := range cases {
		t.Run(c.from, func(t *testing.T) {
			res := accessInput(t, "e2e.foo.com", c.annotations, false)
			var reasons []Reason
			for _, p := range res.Problems {
				reasons = append(reasons, p.Reason)
			}
			if !slices.Equal(reasons, c.problems) {
				t.Errorf("problems %v, want %v", res.Problems, c.problems)
			}
			b := &tokenBuckets{}
			forwarded := 0
			for range c.sent {
				out := b.send(t, res.Routes[0], from(get("/"), c.client))
				switch {
				case out.status == 0 && out.cluster == echo:
					forwarded++
				case out.status != 503 && out.status != 404:
					t.Fatalf("%+v, want forwarded, 503 (limited) or 404 (not served)", out)
				}
			}
			if forwarded != c.forwarded {
				t.Errorf("%d of %d forwarded, want %d", forwarded, c.sent, c.forwarded)
			}
		})
	}
}

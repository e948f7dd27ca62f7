package annotations

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/fairwayhq/fairway/translator/policy"
)

// canaryEntries: canary releases (canary, canary-weight,
// canary-weight-total, canary-by-header, canary-by-header-value,
// canary-by-header-pattern, canary-by-cookie), as Argo Rollouts and
// Flagger write them.
var canaryEntries = []Entry{
	{Key: "canary", Parse: parseCanary},
	{Key: "canary-weight", Parse: parseCanaryWeight},
	{Key: "canary-weight-total", Parse: parseCanaryWeightTotal},
	{Key: "canary-by-header", Parse: parseCanaryHeader},
	{Key: "canary-by-header-value", Parse: parseCanaryHeaderValue},
	{Key: "canary-by-header-pattern", Parse: parseCanaryHeaderPattern},
	{Key: "canary-by-cookie", Parse: parseCanaryCookie},
}

// maxCanaryPattern bounds a header pattern's length before it is even
// compiled; its program size is checked against Envoy's limit by the
// translator, which knows the limit.
const maxCanaryPattern = 1024

var (
	// cookieName: an RFC 6265 cookie name (a token).
	cookieName       = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	canaryHeaderName = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
)

func canary(r *policy.Route) *policy.Canary {
	if r.Canary == nil {
		r.Canary = &policy.Canary{}
	}
	return r.Canary
}

func parseCanary(value string, r *policy.Route) error {
	b, err := parseBool(value)
	if err != nil {
		return err
	}
	canary(r).Enabled = b
	return nil
}

// parseCanaryWeight takes a whole number; that it is at most the total is
// checked once both are read (canaryChecks).
func parseCanaryWeight(value string, r *policy.Route) error {
	n, err := strconv.ParseUint(value, 10, 32)
	if err != nil {
		return fmt.Errorf("want a whole number from 0 to canary-weight-total")
	}
	canary(r).Weight = uint32(n)
	return nil
}

func parseCanaryWeightTotal(value string, r *policy.Route) error {
	n, err := strconv.ParseUint(value, 10, 32)
	if err != nil || n == 0 {
		return fmt.Errorf("want a whole number from 1 to %d", uint32(1<<32-1))
	}
	canary(r).WeightTotal = uint32(n)
	return nil
}

// parseCanaryHeader takes a header name without '_': the fleet rejects
// requests whose header names hold one (headers_with_underscores_action),
// so such a header could never pick the canary.
func parseCanaryHeader(value string, r *policy.Route) error {
	if !canaryHeaderName.MatchString(value) {
		return fmt.Errorf("not a header name of letters, digits and '-' (the fleet rejects requests with '_' in a header name)")
	}
	canary(r).Header = value
	return nil
}

func parseCanaryHeaderValue(value string, r *policy.Route) error {
	if value == "" {
		return fmt.Errorf("empty; a header value to match is needed")
	}
	if err := checkHeaderValue(value); err != nil {
		return err
	}
	canary(r).HeaderValue = value
	return nil
}

func parseCanaryHeaderPattern(value string, r *policy.Route) error {
	if value == "" {
		return fmt.Errorf("empty; an RE2 expression is needed")
	}
	if len(value) > maxCanaryPattern {
		return fmt.Errorf("longer than %d characters", maxCanaryPattern)
	}
	if _, err := regexp.Compile(value); err != nil {
		return fmt.Errorf("not an RE2 expression: %v", err)
	}
	canary(r).HeaderPattern = value
	return nil
}

func parseCanaryCookie(value string, r *policy.Route) error {
	if !cookieName.MatchString(value) {
		return fmt.Errorf("not a cookie name (an RFC 6265 token)")
	}
	canary(r).Cookie = value
	return nil
}

// canaryChecks: canary-* keys without canary: "true" do nothing, as in
// ingress-nginx; a weight over its total is malformed and the canary gets
// no weighted share.
func canaryChecks(r *policy.Route) []Finding {
	c := r.Canary
	if c == nil {
		return nil
	}
	if !c.Enabled {
		r.Canary = nil
		if (*c == policy.Canary{}) {
			return nil // canary: "false" alone
		}
		return []Finding{{Key: NginxPrefix + "canary", Kind: Invalid,
			Message: `is not "true", so this Ingress's canary-* annotations are ignored, as in ingress-nginx`}}
	}
	if c.WeightTotal == 0 {
		c.WeightTotal = 100
	}
	if c.Weight > c.WeightTotal {
		f := Finding{Key: NginxPrefix + "canary-weight", Kind: Invalid,
			Message: fmt.Sprintf("%d is over canary-weight-total (%d); the canary gets no weighted share", c.Weight, c.WeightTotal)}
		c.Weight = 0
		return []Finding{f}
	}
	return nil
}

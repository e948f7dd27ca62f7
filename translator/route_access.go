package translator

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/policy"
)

// ingress-nginx's CORS defaults, which apply to what enable-cors: "true"
// leaves unset.
const (
	corsDefaultMethods = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	corsDefaultHeaders = "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
	corsDefaultMaxAge  = 1728000 * time.Second
)

// accessPolicy maps an Ingress's source ranges and CORS.
func accessPolicy(r *httpRoute, out *envoy.RoutePolicy) bool {
	p := r.policy
	set := false
	if a := p.Access; a != nil && (len(a.Allow) > 0 || len(a.Deny) > 0) {
		out.Access, set = &envoy.SourceAccess{Allow: a.Allow, Deny: a.Deny}, true
	}
	if c := p.CORS; c != nil && c.Enabled {
		out.CORS, set = corsPolicy(c), true
	}
	return set
}

// corsPolicy is the CORS filter's policy with ingress-nginx's defaults.
// Envoy echoes an allowed Origin where nginx sends "*"; with "*" and
// credentials, that echo would let every site make credentialed calls,
// which browsers refuse for nginx's "*". So "*" never allows
// credentials: browsers get what they got from ingress-nginx.
func corsPolicy(c *policy.CORS) *envoy.CORSPolicy {
	out := &envoy.CORSPolicy{
		AllowMethods:     joinOr(c.AllowMethods, corsDefaultMethods),
		AllowHeaders:     joinOr(c.AllowHeaders, corsDefaultHeaders),
		ExposeHeaders:    strings.Join(c.ExposeHeaders, ", "),
		AllowCredentials: c.AllowCredentials == nil || *c.AllowCredentials,
	}
	maxAge := corsDefaultMaxAge
	if c.MaxAge != nil {
		maxAge = *c.MaxAge
	}
	out.MaxAge = strconv.FormatInt(int64(maxAge/time.Second), 10)
	origins := c.AllowOrigins
	if len(origins) == 0 {
		origins = []string{"*"}
	}
	for _, o := range origins {
		switch {
		case o == "*":
			out.Origins = append(out.Origins, "*")
			out.AllowCredentials = false
		case strings.Contains(o, "://*."):
			out.OriginRegexes = append(out.OriginRegexes, wildcardOriginRegex(o))
		default:
			out.Origins = append(out.Origins, o)
		}
	}
	slices.Sort(out.Origins)
	slices.Sort(out.OriginRegexes)
	return out
}

// wildcardOriginRegex matches an origin "scheme://*.domain[:port]" as
// ingress-nginx does: exactly one DNS label in place of the "*",
// case-insensitively, and the port as written.
func wildcardOriginRegex(origin string) string {
	scheme, rest, _ := strings.Cut(origin, "://*.")
	return `(?i)` + regexp.QuoteMeta(scheme+"://") + `[a-z0-9-]+\.` + regexp.QuoteMeta(rest)
}

func joinOr(items []string, def string) string {
	if len(items) == 0 {
		return def
	}
	return strings.Join(items, ", ")
}

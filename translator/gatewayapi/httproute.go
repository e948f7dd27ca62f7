package gatewayapi

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/policy"
)

// loweredRule is one match of one rule, before it is placed on the
// listeners the route attaches to.
type loweredRule struct {
	rule, match int
	path        policy.PathMatch
	request     policy.RequestMatch
	policy      *policy.Route
	backends    backendSet
	grpc        bool
}

// pendingRoute is an HTTPRoute or GRPCRoute attached and lowered, its
// status not yet final: cross-serving may still take listeners from it.
type pendingRoute struct {
	st    *routeState
	rules *lowered
}

// attachRoutes attaches every route kind and places the lowered rules on
// the listeners that take them. HTTPRoutes and GRPCRoutes are all
// attached before any is placed, since which of them keeps a hostname on
// a listener depends on all of them (crossServing).
func (r *resolver) attachRoutes() {
	pending := make([]pendingRoute, 0, len(r.in.HTTPRoutes)+len(r.in.GRPCRoutes))
	for _, hr := range r.in.HTTPRoutes {
		p := r.route(hr, kindHTTPRoute, hr, hr.Spec.ParentRefs, hr.Spec.Hostnames, func(st *routeState) []loweredRule { return r.lowerHTTPRoute(st, hr) })
		if len(p.st.parents) > 0 {
			pending = append(pending, p)
		}
	}
	for _, gr := range r.in.GRPCRoutes {
		p := r.route(gr, kindGRPCRoute, gr, gr.Spec.ParentRefs, gr.Spec.Hostnames, func(st *routeState) []loweredRule { return r.lowerGRPCRoute(st, gr) })
		if len(p.st.parents) > 0 {
			pending = append(pending, p)
		}
	}
	crossed := crossServing(pending)
	for _, p := range pending {
		f := p.rules.finished
		if f == nil || crossed {
			f = finished(p.st, r.opts.ControllerName)
		}
		if r.memo != nil && !crossed {
			p.rules.finished = f // its parents are the attached ones
		}
		r.count(f)
		r.place(p.st, f.served, p.rules)
	}
	r.attachStreams()
}

// place puts a route's lowered rules on each listener it is served on,
// with the hostnames it has there.
func (r *resolver) place(st *routeState, served []attachment, rules *lowered) {
	for _, a := range served {
		a.l.model.HTTP = append(a.l.model.HTTP, r.placedRules(rules, st.obj, a.l, a.hosts)...)
	}
}

// lowerHTTPRoute turns an HTTPRoute's rules into one loweredRule per
// match (a rule without matches has the spec's default, PathPrefix "/").
// What fairway cannot honour rejects the route (st.reject).
func (r *resolver) lowerHTTPRoute(st *routeState, hr *gatewayv1.HTTPRoute) []loweredRule {
	from := routeRef{kindHTTPRoute, hr.Namespace}
	out := make([]loweredRule, 0, matchCount(hr.Spec.Rules, func(r gatewayv1.HTTPRouteRule) int { return len(r.Matches) }))
	for i, rule := range hr.Spec.Rules {
		fields := fieldsOfRule(i)
		field := fields.rule
		pol := withTimeouts(st, r.httpFilters(st, from, rule.Filters, fields.filters), rule.Timeouts, fields.timeouts)
		if rule.SessionPersistence != nil {
			st.reject(gatewayv1.RouteReasonUnsupportedValue, field+".sessionPersistence is not supported")
		}
		if rule.Retry != nil {
			st.reject(gatewayv1.RouteReasonUnsupportedValue, field+".retry is not supported")
		}
		set := ruleBackends(r, st, from, fields, rule.BackendRefs, httpBackendRef)
		if pol != nil && pol.Redirect != nil && len(rule.BackendRefs) > 0 {
			st.reject(gatewayv1.RouteReasonIncompatibleFilters, field+": a RequestRedirect rule cannot have backendRefs")
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gatewayv1.HTTPRouteMatch{{}}
		}
		for j, m := range matches {
			mf := fields.match(j)
			lr := loweredRule{rule: i, match: j, policy: pol, backends: set}
			lr.path = httpPath(st, m.Path, fields.path(j))
			lr.request = httpRequest(st, m, mf)
			if pol != nil && (pol.Redirect != nil && pol.Redirect.PathPrefix != "" || pol.Rewrite.PathPrefix != "") && lr.path.Kind != policy.PathPrefix {
				st.reject(gatewayv1.RouteReasonUnsupportedValue, mf+".path: ReplacePrefixMatch needs a PathPrefix match")
			}
			out = append(out, lr)
		}
	}
	return out
}

// httpPath lowers a path match. Exact and PathPrefix must be absolute
// paths; a RegularExpression must compile as RE2 (Envoy's dialect too).
func httpPath(st *routeState, m *gatewayv1.HTTPPathMatch, field string) policy.PathMatch {
	if m == nil {
		return policy.PathMatch{Kind: policy.PathPrefix, Value: "/"}
	}
	value := deref(m.Value, "/")
	switch deref(m.Type, gatewayv1.PathMatchPathPrefix) {
	case gatewayv1.PathMatchExact:
		checkAbsolute(st, value, field)
		return policy.PathMatch{Kind: policy.PathExact, Value: value}
	case gatewayv1.PathMatchPathPrefix:
		checkAbsolute(st, value, field)
		return policy.PathMatch{Kind: policy.PathPrefix, Value: value}
	case gatewayv1.PathMatchRegularExpression:
		checkRegex(st, value, field+".value")
		return policy.PathMatch{Kind: policy.PathRegex, Value: value}
	}
	st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s.type %q is not supported", field, *m.Type))
	return policy.PathMatch{}
}

func checkAbsolute(st *routeState, path, field string) {
	if !strings.HasPrefix(path, "/") {
		st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s.value %q must start with \"/\"", field, path))
	}
}

// checkName refuses a header or query parameter name that is not an HTTP
// token (RFC 9110 §5.6.2), the pattern the CRDs validate: a file source
// has not been through that validation, and Envoy refuses a whole route
// table for one empty or malformed name.
func checkName(st *routeState, name, field string) {
	if !httpToken(name) {
		st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s %q is not an HTTP header or parameter name (letters, digits and !#$%%&'*+-.^_`|~)", field, name))
	}
}

// httpToken reports whether s is a non-empty RFC 9110 token.
func httpToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func checkRegex(st *routeState, expr, field string) {
	if _, err := regexp.Compile(expr); err != nil {
		st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s %q is not an RE2 expression: %v", field, expr, err))
	}
}

// httpRequest lowers a match's method, headers and query parameters.
func httpRequest(st *routeState, m gatewayv1.HTTPRouteMatch, field string) policy.RequestMatch {
	var rm policy.RequestMatch
	if m.Method != nil {
		rm.Method = strings.ToUpper(string(*m.Method))
	}
	seen := map[string]bool{}
	for i, h := range m.Headers {
		checkName(st, string(h.Name), fmt.Sprintf("%s.headers[%d].name", field, i))
		if !firstName(seen, string(h.Name), true) {
			continue
		}
		regex := deref(h.Type, gatewayv1.HeaderMatchExact) == gatewayv1.HeaderMatchRegularExpression
		if regex {
			checkRegex(st, h.Value, fmt.Sprintf("%s.headers[%d].value", field, i))
		} else if t := deref(h.Type, gatewayv1.HeaderMatchExact); t != gatewayv1.HeaderMatchExact {
			st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s.headers[%d].type %q is not supported", field, i, t))
		}
		rm.Headers = append(rm.Headers, policy.ValueMatch{Name: string(h.Name), Value: h.Value, Regex: regex})
	}
	seen = map[string]bool{}
	for i, q := range m.QueryParams {
		checkName(st, string(q.Name), fmt.Sprintf("%s.queryParams[%d].name", field, i))
		if !firstName(seen, string(q.Name), false) {
			continue
		}
		regex := deref(q.Type, gatewayv1.QueryParamMatchExact) == gatewayv1.QueryParamMatchRegularExpression
		if regex {
			checkRegex(st, q.Value, fmt.Sprintf("%s.queryParams[%d].value", field, i))
		} else if t := deref(q.Type, gatewayv1.QueryParamMatchExact); t != gatewayv1.QueryParamMatchExact {
			st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s.queryParams[%d].type %q is not supported", field, i, t))
		}
		rm.Query = append(rm.Query, policy.ValueMatch{Name: string(q.Name), Value: q.Value, Regex: regex})
	}
	return rm
}

// firstName says whether name is the first of its kind in seen, and
// records it: of entries with equivalent names (header names compared
// case-insensitively, fold), the spec considers only the first.
func firstName(seen map[string]bool, name string, fold bool) bool {
	if fold {
		name = strings.ToLower(name)
	}
	if seen[name] {
		return false
	}
	seen[name] = true
	return true
}

// gatewayDuration is the Gateway API's Duration: one to four number and
// unit pairs, units h, m, s and ms (GEP-2257).
var gatewayDuration = regexp.MustCompile(`^([0-9]{1,5}(h|m|s|ms)){1,4}$`)

// withTimeouts adds a rule's timeouts to its policy, making one when the
// rule has none yet and a timeout is set.
func withTimeouts(st *routeState, pol *policy.Route, t *gatewayv1.HTTPRouteTimeouts, field string) *policy.Route {
	if t == nil {
		return pol
	}
	to := timeouts(st, t, field)
	if to == (policy.GatewayTimeouts{}) {
		return pol
	}
	if pol == nil {
		pol = &policy.Route{}
	}
	pol.GatewayTimeouts = to
	return pol
}

// timeouts lowers a rule's timeouts. "0s" is no timeout, which the model
// holds as zero, the same as unset: fairway's routes have no timeout
// unless one is asked for (README, Edge defaults: route timeout 0s).
func timeouts(st *routeState, t *gatewayv1.HTTPRouteTimeouts, field string) policy.GatewayTimeouts {
	parse := func(d *gatewayv1.Duration, f string) time.Duration {
		if d == nil {
			return 0
		}
		v, err := time.ParseDuration(string(*d))
		if !gatewayDuration.MatchString(string(*d)) || err != nil {
			st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s %q is not a Gateway API duration (e.g. 10s, 500ms, 1h)", f, *d))
			return 0
		}
		return v
	}
	to := policy.GatewayTimeouts{
		Request:        parse(t.Request, field+".request"),
		BackendRequest: parse(t.BackendRequest, field+".backendRequest"),
	}
	if to.Request > 0 && to.BackendRequest > to.Request {
		// The API's validation refuses this too: one try cannot outlast
		// the whole exchange.
		st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s.backendRequest %s is longer than request %s", field, to.BackendRequest, to.Request))
	}
	return to
}

// ruleBackends resolves an HTTPRoute's or GRPCRoute's rule's backendRefs
// (of their two types, whose filters differ), each with the header edits
// of its own filters.
func ruleBackends[B any](r *resolver, st *routeState, from routeRef, fields *ruleFields, refs []B, part func(B) (gatewayv1.BackendRef, []backendFilter)) backendSet {
	var set backendSet
	if len(refs) > 0 {
		set.valid = make([]policy.Backend, 0, len(refs))
	}
	for j, b := range refs {
		bf := fields.backendRef(j)
		ref, filters := part(b)
		r.addBackend(&set, st, from, ref, bf, backendHeaders(st, filters, bf+".filters"))
	}
	if len(set.valid) == 0 {
		set.valid = nil // as without the room made above
	}
	return set
}

// matchCount is how many loweredRules a route's rules give: one per
// match, and one for a rule without matches (the spec's default).
func matchCount[R any](rules []R, matches func(R) int) int {
	n := 0
	for _, r := range rules {
		n += max(matches(r), 1)
	}
	return n
}

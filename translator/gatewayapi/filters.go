package gatewayapi

import (
	"fmt"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/policy"
)

// httpFilters lowers a rule's filters into the route policy; nil when the
// rule has none. A filter fairway does not implement (ExtensionRef, CORS,
// ExternalAuth, …) rejects the route rather than being skipped: a rule
// served without the filter it asks for could open what the filter
// closes.
func (r *resolver) httpFilters(st *routeState, from routeRef, filters []gatewayv1.HTTPRouteFilter, field string) *policy.Route {
	if len(filters) == 0 {
		return nil
	}
	pol := &policy.Route{}
	seen := map[gatewayv1.HTTPRouteFilterType]bool{}
	for i, f := range filters {
		ff := fmt.Sprintf("%s[%d]", field, i)
		if seen[f.Type] && f.Type != gatewayv1.HTTPRouteFilterRequestMirror {
			// The API's validation refuses this; a YAML file may not
			// have been through it, and a second filter would silently
			// replace the first.
			st.reject(gatewayv1.RouteReasonIncompatibleFilters, fmt.Sprintf("%s: filter type %s is repeated; only RequestMirror may be", ff, f.Type))
		}
		seen[f.Type] = true
		switch f.Type {
		case gatewayv1.HTTPRouteFilterRequestHeaderModifier:
			addEdits(st, &pol.RequestHeaders, f.RequestHeaderModifier, ff+".requestHeaderModifier")
		case gatewayv1.HTTPRouteFilterResponseHeaderModifier:
			addEdits(st, &pol.ResponseHeaders, f.ResponseHeaderModifier, ff+".responseHeaderModifier")
		case gatewayv1.HTTPRouteFilterRequestMirror:
			r.addMirror(pol, st, from, f.RequestMirror, ff+".requestMirror")
		case gatewayv1.HTTPRouteFilterRequestRedirect:
			pol.Redirect = redirect(st, f.RequestRedirect, ff+".requestRedirect")
		case gatewayv1.HTTPRouteFilterURLRewrite:
			rewrite(pol, st, f.URLRewrite, ff+".urlRewrite")
		default:
			st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s: filter type %s is not supported", ff, f.Type))
		}
	}
	if pol.Redirect != nil && (pol.Rewrite.Host != "" || pol.Rewrite.Path != "" || pol.Rewrite.PathPrefix != "") {
		st.reject(gatewayv1.RouteReasonIncompatibleFilters, field+": RequestRedirect and URLRewrite cannot be used on one rule")
	}
	return pol
}

// addEdits appends a header modifier's edits; a missing modifier (the
// type without its field) changes nothing.
// Within set, and within add, only the first of equivalent header names
// counts, as the spec says.
func addEdits(st *routeState, e *policy.HeaderEdits, f *gatewayv1.HTTPHeaderFilter, field string) {
	if f == nil {
		return
	}
	seen := map[string]bool{}
	for i, h := range f.Set {
		checkName(st, string(h.Name), fmt.Sprintf("%s.set[%d].name", field, i))
		if firstName(seen, string(h.Name), true) {
			e.Set = append(e.Set, policy.Header{Name: string(h.Name), Value: h.Value})
		}
	}
	seen = map[string]bool{}
	for i, h := range f.Add {
		checkName(st, string(h.Name), fmt.Sprintf("%s.add[%d].name", field, i))
		if firstName(seen, string(h.Name), true) {
			e.Add = append(e.Add, policy.Header{Name: string(h.Name), Value: h.Value})
		}
	}
	for i, name := range f.Remove {
		checkName(st, name, fmt.Sprintf("%s.remove[%d]", field, i))
	}
	e.Remove = append(e.Remove, f.Remove...)
}

// addMirror resolves a RequestMirror's backend like a backendRef. A
// mirror whose backend does not resolve is dropped (nothing to copy to)
// and sets ResolvedRefs false; the requests themselves are still served.
// percent or fraction select a share of the requests; 100% is all.
func (r *resolver) addMirror(pol *policy.Route, st *routeState, from routeRef, f *gatewayv1.HTTPRequestMirrorFilter, field string) {
	if f == nil {
		st.reject(gatewayv1.RouteReasonUnsupportedValue, field+" is missing")
		return
	}
	b, problem := r.backend(from, f.BackendRef, nil, field+".backendRef")
	if problem != nil {
		st.refProblem(problem)
		return
	}
	m := policy.Mirror{Backend: b}
	switch {
	case f.Percent != nil && *f.Percent < 100:
		m.Fraction = &policy.Fraction{Numerator: *f.Percent, Denominator: 100}
	case f.Fraction != nil:
		den := deref(f.Fraction.Denominator, 100)
		if den <= 0 || f.Fraction.Numerator < 0 || f.Fraction.Numerator > den {
			st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s.fraction %d/%d is not a fraction of at most 1", field, f.Fraction.Numerator, den))
			return
		}
		if f.Fraction.Numerator < den {
			m.Fraction = &policy.Fraction{Numerator: f.Fraction.Numerator, Denominator: den}
		}
	}
	pol.Mirrors = append(pol.Mirrors, m)
}

// redirect lowers a RequestRedirect; its status code defaults to 302, as
// the spec says.
func redirect(st *routeState, f *gatewayv1.HTTPRequestRedirectFilter, field string) *policy.Redirect {
	if f == nil {
		st.reject(gatewayv1.RouteReasonUnsupportedValue, field+" is missing")
		return nil
	}
	rd := &policy.Redirect{
		Scheme: deref(f.Scheme, ""),
		Host:   string(deref(f.Hostname, "")),
		Port:   uint32(deref(f.Port, 0)),
		Code:   deref(f.StatusCode, 302),
	}
	switch rd.Code {
	case 301, 302, 303, 307, 308:
	default:
		st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s.statusCode %d is not a redirect code fairway sends (301, 302, 303, 307, 308)", field, rd.Code))
	}
	if rd.Scheme != "" && rd.Scheme != "http" && rd.Scheme != "https" {
		st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s.scheme %q is not http or https", field, rd.Scheme))
	}
	if f.Path != nil {
		rd.Path, rd.PathPrefix = pathModifier(st, f.Path, field+".path")
	}
	return rd
}

// rewrite lowers a URLRewrite into the route's rewrite.
func rewrite(pol *policy.Route, st *routeState, f *gatewayv1.HTTPURLRewriteFilter, field string) {
	if f == nil {
		st.reject(gatewayv1.RouteReasonUnsupportedValue, field+" is missing")
		return
	}
	pol.Rewrite.Host = string(deref(f.Hostname, ""))
	if f.Path != nil {
		pol.Rewrite.Path, pol.Rewrite.PathPrefix = pathModifier(st, f.Path, field+".path")
	}
}

// pathModifier gives a full path or a prefix replacement. An empty
// replacement prefix is "/": the spec's table maps /foo/bar with prefix
// /foo replaced by "" to /bar.
func pathModifier(st *routeState, m *gatewayv1.HTTPPathModifier, field string) (full, prefix string) {
	switch m.Type {
	case gatewayv1.FullPathHTTPPathModifier:
		full = deref(m.ReplaceFullPath, "/")
		if full == "" {
			full = "/"
		}
		checkAbsolute(st, full, field+".replaceFullPath")
	case gatewayv1.PrefixMatchHTTPPathModifier:
		prefix = deref(m.ReplacePrefixMatch, "/")
		if prefix == "" {
			prefix = "/"
		}
		checkAbsolute(st, prefix, field+".replacePrefixMatch")
	default:
		st.reject(gatewayv1.RouteReasonUnsupportedValue, fmt.Sprintf("%s.type %q is not supported", field, m.Type))
	}
	return full, prefix
}

package translator

import (
	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/policy"
)

// gatewayRoutePolicy maps the route model's Gateway API parts: the
// request match beyond the path, weighted backends, mirrors, header
// edits and timeouts. An Ingress route has none of them; its policy's
// Gateway fields stay zero.
func gatewayRoutePolicy(r *httpRoute, out *envoy.RoutePolicy) bool {
	set := false
	if g := r.gw; g != nil {
		set = requestConditions(g.request, out)
		if g.weighted != nil {
			out.Weighted, set = g.weighted, true
		}
		if len(g.mirrors) > 0 {
			out.Mirrors, set = g.mirrors, true
		}
	}
	p := r.policy
	if !headerEditsEmpty(p.RequestHeaders) || !headerEditsEmpty(p.ResponseHeaders) {
		out.RequestHeaders, out.ResponseHeaders, set = headerEdits(p.RequestHeaders), headerEdits(p.ResponseHeaders), true
	}
	if t := p.GatewayTimeouts; t.Request > 0 || t.BackendRequest > 0 {
		out.Timeout, out.PerTryTimeout, set = t.Request, t.BackendRequest, true
	}
	return set
}

// requestConditions adds a match's method, headers and query parameters.
func requestConditions(m policy.RequestMatch, out *envoy.RoutePolicy) bool {
	if m.Method != "" {
		out.Headers = append(out.Headers, envoy.MethodCondition(m.Method))
	}
	for _, h := range m.Headers {
		out.Headers = append(out.Headers, envoy.HeaderConditionOf(h.Name, h.Value, h.Regex))
	}
	for _, q := range m.Query {
		c := envoy.QueryCondition{Name: q.Name, Exact: q.Value}
		if q.Regex {
			c = envoy.QueryCondition{Name: q.Name, Regex: q.Value}
		}
		out.Query = append(out.Query, c)
	}
	return m.Method != "" || len(m.Headers)+len(m.Query) > 0
}

func headerEditsEmpty(e policy.HeaderEdits) bool { return len(e.Set)+len(e.Add)+len(e.Remove) == 0 }

func headerEdits(e policy.HeaderEdits) envoy.HeaderEdits {
	return envoy.HeaderEdits{Set: headerValues(e.Set), Add: headerValues(e.Add), Remove: e.Remove}
}

func headerValues(hs []policy.Header) []envoy.HeaderValue {
	if len(hs) == 0 {
		return nil
	}
	out := make([]envoy.HeaderValue, len(hs))
	for i, h := range hs {
		out[i] = envoy.HeaderValue{Name: h.Name, Value: h.Value}
	}
	return out
}

package envoy

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// Mirror sends a copy of a share of a route's requests to another
// cluster and ignores its answer (the Gateway API's RequestMirror).
type Mirror struct {
	Cluster string
	// PerMillion is the share mirrored, in millionths; 0 or 1e6 and
	// above mirror every request.
	PerMillion uint32
}

// applyMirrors sets the route's request_mirror_policies. They are the
// fleet's alone: gRPC's xDS clients do not mirror calls, and a shadow
// call a client made itself would double its traffic; the proxyless
// table goes without.
func applyMirrors(p *RoutePolicy, r *routev3.Route, edge bool) {
	action := r.GetRoute()
	if !edge || action == nil {
		return
	}
	for _, m := range p.Mirrors {
		action.RequestMirrorPolicies = append(action.RequestMirrorPolicies, mirrorPolicy(m))
	}
}

// mirrorPolicy mirrors to m.Cluster; a share below all of it is a
// runtime_fraction with no runtime key, so that only the configured
// default applies.
func mirrorPolicy(m Mirror) *routev3.RouteAction_RequestMirrorPolicy {
	mp := &routev3.RouteAction_RequestMirrorPolicy{Cluster: m.Cluster}
	if m.PerMillion > 0 && m.PerMillion < 1_000_000 {
		mp.RuntimeFraction = &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{
			Numerator: m.PerMillion, Denominator: typev3.FractionalPercent_MILLION,
		}}
	}
	return mp
}

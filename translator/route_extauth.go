package translator

import (
	"net"
	"strconv"
	"strings"

	"github.com/fairwayhq/fairway/envoy"
)

// extAuthPolicy maps an Ingress's auth-url and its companions onto the
// ext_authz filter of each of its routes, once its cluster is known
// (resolveAuth). A route whose auth service could not be resolved has no
// backend either: it answers 503 and needs no check.
func extAuthPolicy(r *httpRoute, out *envoy.RoutePolicy) bool {
	a := r.policy.ExtAuth
	if a == nil || r.auth == "" {
		return false
	}
	origin := a.URL.Scheme + "://" + a.URL.Host
	def := uint32(80)
	if a.URL.Scheme == "https" {
		def = 443
	}
	if a.URL.Port != def || strings.Contains(a.URL.Host, ":") {
		origin = a.URL.Scheme + "://" + net.JoinHostPort(a.URL.Host, strconv.FormatUint(uint64(a.URL.Port), 10))
	}
	out.ExtAuth = &envoy.ExtAuth{
		Cluster:            r.auth,
		URI:                origin,
		PathQuery:          a.URL.PathQuery,
		UpstreamHeaders:    a.ResponseHeaders,
		RequestRedirect:    a.RequestRedirect,
		SetCookieOnSuccess: a.AlwaysSetCookie,
	}
	return true
}

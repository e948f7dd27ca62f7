package translator

import (
	"cmp"
	"slices"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/fairwayhq/fairway/envoy"
)

// unavailable is the status of a route whose backend cannot be resolved.
const unavailable = 503

// virtualHost is one host's routes, ready for the http and https tables.
type virtualHost struct {
	host string // "" for the catch-all
	vh   *routev3.VirtualHost
}

// virtualHosts assembles one virtual host per Ingress host. Envoy picks a
// virtual host by Host and never falls back to another, so each host's table
// ends with what a request that misses the host's own rules should get: the
// rules without a host (they apply to every host), then the default backend.
// The catch-all virtual host has just those two. A request matching nothing
// gets Envoy's 404.
func virtualHosts(routes []*httpRoute, def *httpRoute) []virtualHost {
	byHost := map[string][]*httpRoute{}
	for _, r := range routes {
		byHost[r.host] = append(byHost[r.host], r)
	}
	hostless := byHost[""]
	sortByPrecedence(hostless)
	fallback := make([]*routev3.Route, 0, len(hostless)+1)
	for _, r := range hostless {
		fallback = append(fallback, r.proto(false))
	}
	if def != nil {
		fallback = append(fallback, def.proto(false))
	}

	out := make([]virtualHost, 0, len(byHost)+1)
	for host, rs := range byHost {
		if host == "" {
			continue
		}
		sortByPrecedence(rs)
		table := make([]*routev3.Route, 0, len(rs)+len(fallback))
		for _, r := range rs {
			table = append(table, r.proto(isWildcard(host)))
		}
		table = append(table, fallback...)
		out = append(out, virtualHost{host: host, vh: envoy.VirtualHost(host, []string{host}, table)})
	}
	if len(fallback) > 0 {
		out = append(out, virtualHost{vh: envoy.VirtualHost(envoy.CatchAllVirtualHost, []string{"*"}, fallback)})
	}
	slices.SortFunc(out, func(a, b virtualHost) int { return cmp.Compare(a.host, b.host) })
	return out
}

// proto is the Envoy route. Envoy's "*.foo.com" domain takes any number of
// labels, so a wildcard host's own routes also check :authority for exactly
// one; a deeper name falls through to the host-less rules, as if the
// wildcard were not there.
func (r *httpRoute) proto(singleLabel bool) *routev3.Route {
	m := r.match.routeMatch()
	if singleLabel {
		envoy.WithAuthorityRegex(m, singleLabelRegex(r.host))
	}
	name := r.origin.NamespacedName()
	if r.cluster == "" {
		return envoy.DirectResponseRoute(name, m, unavailable)
	}
	return envoy.ClusterRoute(name, m, r.cluster)
}

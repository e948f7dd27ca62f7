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

// virtualHosts assembles one virtual host per Ingress host. A request is
// served by the rules of its host (exact, else a matching wildcard), else by
// the rules without a host, which live in the catch-all virtual host; the
// default backend takes whatever the chosen rules do not match, and a
// request that matches nothing gets Envoy's 404.
//
// Envoy picks a virtual host by Host and never falls back to another, and
// its "*.foo.com" takes names of any depth, where the Ingress wildcard takes
// exactly one label. So a wildcard virtual host guards its own routes with a
// single-label :authority check and carries the host-less routes with the
// inverse check: a deeper name gets what the catch-all would give it.
func virtualHosts(routes []*httpRoute, def *httpRoute) []virtualHost {
	byHost := map[string][]*httpRoute{}
	for _, r := range routes {
		byHost[r.host] = append(byHost[r.host], r)
	}
	hostless := byHost[""]
	sortByPrecedence(hostless)
	var defRoute *routev3.Route
	if def != nil {
		defRoute = def.proto()
	}

	out := make([]virtualHost, 0, len(byHost)+1)
	for host, rs := range byHost {
		if host == "" {
			continue
		}
		sortByPrecedence(rs)
		table := make([]*routev3.Route, 0, len(rs)+len(hostless)+1)
		if isWildcard(host) {
			for _, r := range rs {
				table = append(table, r.guarded(host, false))
			}
			for _, r := range hostless {
				table = append(table, r.guarded(host, true))
			}
		} else {
			for _, r := range rs {
				table = append(table, r.proto())
			}
		}
		table = appendRoute(table, defRoute)
		out = append(out, virtualHost{host: host, vh: envoy.VirtualHost(host, []string{host}, table)})
	}
	catchAll := make([]*routev3.Route, 0, len(hostless)+1)
	for _, r := range hostless {
		catchAll = append(catchAll, r.proto())
	}
	if catchAll = appendRoute(catchAll, defRoute); len(catchAll) > 0 {
		out = append(out, virtualHost{vh: envoy.VirtualHost(envoy.CatchAllVirtualHost, []string{"*"}, catchAll)})
	}
	slices.SortFunc(out, func(a, b virtualHost) int { return cmp.Compare(a.host, b.host) })
	return out
}

func appendRoute(table []*routev3.Route, r *routev3.Route) []*routev3.Route {
	if r == nil {
		return table
	}
	return append(table, r)
}

// proto is the Envoy route: to the backend's cluster, or a 503 when the
// backend could not be resolved.
func (r *httpRoute) proto() *routev3.Route {
	return r.action(r.match.routeMatch())
}

// guarded is the route inside the wildcard virtual host: it matches only
// names with exactly one label before the wildcard's suffix, or, inverted,
// only the deeper names that the wildcard must not take.
func (r *httpRoute) guarded(wildcard string, invert bool) *routev3.Route {
	return r.action(envoy.WithAuthorityRegex(r.match.routeMatch(), singleLabelRegex(wildcard), invert))
}

func (r *httpRoute) action(m *routev3.RouteMatch) *routev3.Route {
	name := r.origin.NamespacedName()
	if r.cluster == "" {
		return envoy.DirectResponseRoute(name, m, unavailable)
	}
	return envoy.ClusterRoute(name, m, r.cluster)
}

package translator

import (
	"cmp"
	"slices"

	"github.com/fairwayhq/fairway/translator/policy"
)

// comparePrecedence orders the routes of one host the way the Ingress spec
// ranks matches: the longest path first, and at equal length Exact before
// Prefix. Envoy takes the first route that matches, so this order is the
// precedence. A regex path ranks by the length of its text, as
// ingress-nginx orders its locations, and after Exact and Prefix paths of
// the same length: a literal path is the more specific. The final path
// comparison only makes the order total; two different literal paths of
// the same length and type never match the same request.
func comparePrecedence(a, b pathMatch) int {
	return cmp.Or(
		cmp.Compare(len(b.path), len(a.path)),
		boolFirst(a.exact, b.exact),
		boolFirst(!a.regex, !b.regex),
		cmp.Compare(a.path, b.path),
	)
}

// boolFirst orders true before false.
func boolFirst(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	default:
		return 1
	}
}

// compareRoutes extends comparePrecedence to the Gateway API's rule: at
// the same path, a route with a method match first, then the one with
// more header matches, then more query parameter matches. For literal
// paths the path order is the Gateway API's too: an Exact path and a
// prefix both match a request only when the prefix is no longer, and at
// equal length Exact wins. Ingress routes have none of the rest, so
// their order is comparePrecedence's.
func compareRoutes(a, b *httpRoute) int {
	if c := comparePrecedence(a.match, b.match); c != 0 || (a.gw == nil && b.gw == nil) {
		return c
	}
	x, y := requestOf(a), requestOf(b)
	return cmp.Or(
		boolFirst(x.Method != "", y.Method != ""),
		cmp.Compare(len(y.Headers), len(x.Headers)),
		cmp.Compare(len(y.Query), len(x.Query)),
	)
}

// requestOf is what a route requires besides its path.
func requestOf(r *httpRoute) policy.RequestMatch {
	if r.gw == nil {
		return policy.RequestMatch{}
	}
	return r.gw.request
}

// sortByPrecedence sorts one host's routes in match order. Routes that
// tie keep the order they were added in: the Gateway API's own order
// for its rules (the oldest route first, then namespace/name, then rule
// and match order), as its front end lists them. Two Ingress routes
// never tie, since a tie is a duplicate, and only one of those is kept.
func sortByPrecedence(routes []*httpRoute) {
	slices.SortStableFunc(routes, compareRoutes)
}

// routeKey is everything a route matches on: two routes with one key
// match the same requests, and only the first added is served.
type routeKey struct {
	match   pathMatch
	request string // requestKey; "" for an Ingress path
}

// key is the route's routeKey.
func (r *httpRoute) key() routeKey {
	if r.gw == nil {
		return routeKey{match: r.match}
	}
	return routeKey{match: r.match, request: r.gw.requestKey}
}

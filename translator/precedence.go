package translator

import (
	"cmp"
	"slices"
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

// sortByPrecedence sorts one host's routes in match order.
func sortByPrecedence(routes []*httpRoute) {
	slices.SortFunc(routes, func(a, b *httpRoute) int { return comparePrecedence(a.match, b.match) })
}

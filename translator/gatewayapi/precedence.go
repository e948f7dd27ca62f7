package gatewayapi

import (
	"cmp"

	"github.com/fairwayhq/fairway/translator/policy"
)

// ComparePrecedence orders two rules of one listener as the Gateway API
// says requests are matched (HTTPRouteRule's godoc), first wins:
//  1. an Exact path before a PathPrefix, the longest prefix first; a
//     RegularExpression after every prefix, longest expression first
//     (fairway's choice: the spec leaves their order to the
//     implementation);
//  2. a rule with a method match before one without;
//  3. more header matches first;
//  4. more query parameter matches first;
//  5. the oldest route, then namespace/name, then rule and match index.
//
// Hostnames are not compared: the back end groups rules by host, and
// within a host this order holds.
func ComparePrecedence(a, b *HTTPRule) int {
	if c := comparePath(a.Path, b.Path); c != 0 {
		return c
	}
	if c := cmp.Compare(b2i(b.Request.Method != ""), b2i(a.Request.Method != "")); c != 0 {
		return c
	}
	if c := cmp.Compare(len(b.Request.Headers), len(a.Request.Headers)); c != 0 {
		return c
	}
	if c := cmp.Compare(len(b.Request.Query), len(a.Request.Query)); c != 0 {
		return c
	}
	if c := compareAge(a.Route, b.Route); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Route.Kind, b.Route.Kind); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Rule, b.Rule); c != 0 {
		return c
	}
	return cmp.Compare(a.Match, b.Match)
}

// pathRank puts Exact first, then PathPrefix, then regexes.
func pathRank(k policy.PathKind) int {
	switch k {
	case policy.PathExact:
		return 0
	case policy.PathPrefix:
		return 1
	}
	return 2
}

func comparePath(a, b policy.PathMatch) int {
	if c := cmp.Compare(pathRank(a.Kind), pathRank(b.Kind)); c != 0 {
		return c
	}
	return cmp.Compare(len(b.Value), len(a.Value))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

package envoy

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// HeaderEdits change a request's headers on its way to the backend, or a
// response's on its way back (the Gateway API's RequestHeaderModifier and
// ResponseHeaderModifier).
type HeaderEdits struct {
	// Set replaces a header, or adds it when it is not there; Add adds a
	// value, after those already there.
	Set, Add []HeaderValue
	// Remove drops headers by name.
	Remove []string
}

// HeaderValue is one header name and value.
type HeaderValue struct{ Name, Value string }

func (h HeaderEdits) empty() bool { return len(h.Set)+len(h.Add)+len(h.Remove) == 0 }

// applyHeaderEdits sets the route's header edits. They are the fleet's
// alone: grpc-go ignores them (it sends its own metadata to the pod), so
// the proxyless table goes without rather than carry what nobody does.
// The values are escaped, since Envoy reads "%...%" in them as a command
// operator and a user's value must never be one.
func applyHeaderEdits(p *RoutePolicy, r *routev3.Route, edge bool) {
	if !edge {
		return
	}
	r.RequestHeadersToAdd = append(r.RequestHeadersToAdd, headerOptions(p.RequestHeaders)...)
	r.RequestHeadersToRemove = append(r.RequestHeadersToRemove, modifiable(p.RequestHeaders.Remove)...)
	r.ResponseHeadersToAdd = append(r.ResponseHeadersToAdd, headerOptions(p.ResponseHeaders)...)
	r.ResponseHeadersToRemove = append(r.ResponseHeadersToRemove, modifiable(p.ResponseHeaders.Remove)...)
}

// ModifiableHeader reports whether Envoy lets a route add, set or remove
// the header: it refuses the whole route table over a pseudo-header
// (":path") or Host, which its route and host rewrites own. Edits of
// those are left out, and the translator reports them.
func ModifiableHeader(name string) bool {
	return name != "" && name[0] != ':' && !strings.EqualFold(name, "host")
}

func modifiable(names []string) []string {
	var out []string
	for _, n := range names {
		if ModifiableHeader(n) {
			out = append(out, n)
		}
	}
	return out
}

// headerOptions are the header_to_add entries of edits: Set overwrites
// (or adds), Add appends a value to any already there.
func headerOptions(edits HeaderEdits) []*corev3.HeaderValueOption {
	var out []*corev3.HeaderValueOption
	for _, h := range edits.Set {
		if ModifiableHeader(h.Name) {
			out = append(out, headerOption(h, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD))
		}
	}
	for _, h := range edits.Add {
		if ModifiableHeader(h.Name) {
			out = append(out, headerOption(h, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD))
		}
	}
	return out
}

func headerOption(h HeaderValue, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: h.Name, Value: literalHeaderValue(h.Value)},
		AppendAction: action,
	}
}

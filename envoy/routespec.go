package envoy

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protowire"
)

// RouteSpec is an HTTP route in the forms fairway builds: an exact path or
// a segment prefix, optionally narrowed by an :authority regex, sent to a
// cluster or answered with a status. Proto builds the message and
// AppendRoute writes its encoding, from the same spec.
type RouteSpec struct {
	Name string
	// Exact matches Path exactly; otherwise Path is a segment prefix.
	Exact bool
	Path  string
	// AuthorityRegex, when set, also requires :authority to match it, or
	// with InvertAuthority not to match it.
	AuthorityRegex  string
	InvertAuthority bool
	// Cluster receives the requests; "" answers Status directly.
	Cluster string
	Status  uint32
}

// Proto is the route message.
func (r RouteSpec) Proto() *routev3.Route {
	m := SegmentPrefixMatch(r.Path)
	if r.Exact {
		m = ExactPathMatch(r.Path)
	}
	if r.AuthorityRegex != "" {
		WithAuthorityRegex(m, r.AuthorityRegex, r.InvertAuthority)
	}
	if r.Cluster == "" {
		return DirectResponseRoute(r.Name, m, r.Status)
	}
	return ClusterRoute(r.Name, m, r.Cluster)
}

// Encodings follow protobuf-go's deterministic order: fields outside a
// oneof by number, then oneof fields.
//
// Route{match=1, name=14, oneof{route=2 | direct_response=7}}
func sizeRoute(r RouteSpec) int {
	return sizeMessage(1, sizeMatch(r)) + sizeAction(r) + sizeString(14, r.Name)
}

func sizeAction(r RouteSpec) int {
	if r.Cluster == "" {
		return sizeMessage(7, sizeVarint(1, uint64(r.Status)))
	}
	return sizeMessage(2, sizeString(1, r.Cluster))
}

// RouteMatch{headers=6, oneof{prefix=1 | path=2 | path_separated_prefix=14}}
func sizeMatch(r RouteSpec) int {
	n := 0
	switch {
	case r.Exact:
		n = sizeString(2, r.Path)
	case r.Path == "/":
		n = sizeString(1, r.Path)
	default:
		n = sizeString(14, r.Path)
	}
	if r.AuthorityRegex != "" {
		n += sizeMessage(6, sizeHeader(r))
	}
	return n
}

// HeaderMatcher{name=1, invert_match=8, oneof{string_match=13{oneof{safe_regex=5{regex=2}}}}}
func sizeHeader(r RouteSpec) int {
	n := sizeString(1, ":authority") + sizeMessage(13, sizeMessage(5, sizeString(2, r.AuthorityRegex)))
	if r.InvertAuthority {
		n += sizeVarint(8, 1)
	}
	return n
}

// AppendRoute appends the encoding of r.Proto().
func AppendRoute(b []byte, r RouteSpec) []byte {
	b = appendMessage(b, 1, sizeMatch(r), func(b []byte) []byte { return appendMatch(b, r) })
	b = appendString(b, 14, r.Name)
	if r.Cluster == "" {
		return appendMessage(b, 7, sizeVarint(1, uint64(r.Status)), func(b []byte) []byte { return appendVarint(b, 1, uint64(r.Status)) })
	}
	return appendMessage(b, 2, sizeString(1, r.Cluster), func(b []byte) []byte { return appendString(b, 1, r.Cluster) })
}

func appendMatch(b []byte, r RouteSpec) []byte {
	if r.AuthorityRegex != "" {
		b = appendMessage(b, 6, sizeHeader(r), func(b []byte) []byte {
			b = appendString(b, 1, ":authority")
			if r.InvertAuthority {
				b = appendVarint(b, 8, 1)
			}
			regex := sizeString(2, r.AuthorityRegex)
			return appendMessage(b, 13, sizeMessage(5, regex), func(b []byte) []byte {
				return appendMessage(b, 5, regex, func(b []byte) []byte { return appendString(b, 2, r.AuthorityRegex) })
			})
		})
	}
	switch {
	case r.Exact:
		return appendString(b, 2, r.Path)
	case r.Path == "/":
		return appendString(b, 1, r.Path)
	default:
		return appendString(b, 14, r.Path)
	}
}

// AppendVirtualHost appends the encoding of a VirtualHost(name, domains,
// routes) whose routes are built from specs.
func AppendVirtualHost(b []byte, name string, domains []string, routes []RouteSpec) []byte {
	b = appendString(b, 1, name)
	for _, d := range domains {
		b = appendString(b, 2, d)
	}
	for _, r := range routes {
		b = appendMessage(b, 3, sizeRoute(r), func(b []byte) []byte { return AppendRoute(b, r) })
	}
	return b
}

const (
	hcmTypeURL    = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
	routerTypeURL = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
)

// AppendAPIListener appends the encoding of APIListener(name, cluster):
// Listener{name=1, api_listener=19{api_listener=1: Any{type_url=1,
// value=2: HttpConnectionManager{stat_prefix=2, http_filters=5,
// oneof{route_config=4: RouteConfiguration{name=1, virtual_hosts=2}}}}}}.
// Sizes are computed first, so it writes straight into one buffer.
func AppendAPIListener(b []byte, name, cluster string) []byte {
	route := RouteSpec{Name: name, Path: "/", Cluster: cluster}
	vh := sizeString(1, name) + sizeString(2, "*") + sizeMessage(3, sizeRoute(route))
	rc := sizeString(1, name) + sizeMessage(2, vh)
	hcm := sizeString(2, name) + len(routerFilterField) + sizeMessage(4, rc)
	anyHCM := sizeString(1, hcmTypeURL) + sizeMessage(2, hcm)
	api := sizeMessage(1, anyHCM)
	b = appendString(b, 1, name)
	b = protowire.AppendVarint(protowire.AppendTag(b, 19, protowire.BytesType), uint64(api))
	b = protowire.AppendVarint(protowire.AppendTag(b, 1, protowire.BytesType), uint64(anyHCM))
	b = appendString(b, 1, hcmTypeURL)
	b = protowire.AppendVarint(protowire.AppendTag(b, 2, protowire.BytesType), uint64(hcm))
	b = appendString(b, 2, name)
	b = append(b, routerFilterField...)
	b = protowire.AppendVarint(protowire.AppendTag(b, 4, protowire.BytesType), uint64(rc))
	b = appendString(b, 1, name)
	b = protowire.AppendVarint(protowire.AppendTag(b, 2, protowire.BytesType), uint64(vh))
	return AppendVirtualHost(b, name, []string{"*"}, []RouteSpec{route})
}

// routerFilterField is http_filters=5: HttpFilter{name=1: router,
// typed_config=4: Any{type_url=1: Router}}, the same in every listener.
var routerFilterField = func() []byte {
	router := appendString(nil, 1, routerTypeURL)
	filter := appendString(nil, 1, routerFilter)
	filter = appendMessage(filter, 4, len(router), func(b []byte) []byte { return append(b, router...) })
	return appendMessage(nil, 5, len(filter), func(b []byte) []byte { return append(b, filter...) })
}()

package envoy

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// RouteSpec is an HTTP route in the forms fairway builds: an exact path or
// a segment prefix, optionally narrowed by an :authority regex, sent to a
// cluster or answered with a status. Routes builds the messages and
// AppendRoutes writes their encoding, from the same spec.
//
// A segment prefix other than "/" is two Envoy routes, the exact path and
// the path plus "/" as a plain prefix, rather than one
// path_separated_prefix: they match the same requests in Envoy, and gRPC's
// xDS clients, which skip routes whose path specifier they do not know,
// implement both. One route table thus serves the fleet and proxyless
// clients alike.
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
	// Policy, when set, is what the routes do beyond this (routepolicy.go).
	Policy *RoutePolicy
}

// pathForm is one Envoy path specifier: RouteMatch field 2 (path) or 1
// (prefix), and its value.
type pathForm struct {
	field protowire.Number
	value string
}

// forms are the path specifiers of r's routes, in order.
func (r RouteSpec) forms() []pathForm {
	switch {
	case r.Policy != nil && r.Policy.Regex != "":
		return []pathForm{{10, r.Policy.Regex}}
	case r.Exact:
		return []pathForm{{2, r.Path}}
	case r.Path == "/":
		return []pathForm{{1, "/"}}
	}
	return []pathForm{{2, r.Path}, {1, r.Path + "/"}}
}

// Routes are the fleet's route messages, in the order Envoy must try them.
func (r RouteSpec) Routes() []*routev3.Route { return r.routes(true) }

// routes are the route messages; edge adds the fleet's route defaults
// (EdgeRoute) to the routes that forward; proxyless routes go without.
func (r RouteSpec) routes(edge bool) []*routev3.Route {
	var out []*routev3.Route
	if root := appRootRoute(r, edge); root != nil {
		out = append(out, root)
	}
	for _, f := range r.forms() {
		var m *routev3.RouteMatch
		switch f.field {
		case 1:
			m = PrefixMatch(f.value)
		case 10:
			m = RegexPathMatch(f.value)
		default:
			m = ExactPathMatch(f.value)
		}
		if r.AuthorityRegex != "" {
			WithAuthorityRegex(m, r.AuthorityRegex, r.InvertAuthority)
		}
		var route *routev3.Route
		if r.Cluster == "" {
			route = DirectResponseRoute(r.Name, m, r.Status)
		} else if edge {
			route = EdgeRoute(ClusterRoute(r.Name, m, r.Cluster))
		} else {
			route = ClusterRoute(r.Name, m, r.Cluster)
		}
		if r.Policy != nil {
			r.Policy.apply(route, edge)
		}
		out = append(out, route)
	}
	return out
}

// Encodings follow protobuf-go's deterministic order: fields outside a
// oneof by number, then oneof fields.
//
// Route{match=1, name=14, oneof{route=2 | direct_response=7}}
func sizeRoute(r RouteSpec, f pathForm, edge bool) int {
	return sizeMessage(1, sizeMatch(r, f)) + sizeAction(r, edge) + sizeString(14, r.Name)
}

func sizeAction(r RouteSpec, edge bool) int {
	if r.Cluster == "" {
		return sizeMessage(7, sizeVarint(1, uint64(r.Status)))
	}
	return sizeMessage(2, sizeRouteAction(r, edge))
}

// RouteAction{timeout=8, oneof{cluster=1}}: the edge's field is the same
// in every route, encoded once.
func sizeRouteAction(r RouteSpec, edge bool) int {
	n := sizeString(1, r.Cluster)
	if edge {
		n += len(edgeActionFields)
	}
	return n
}

var edgeActionFields = func() []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(EdgeRoute(&routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{}}}).GetRoute())
	if err != nil {
		panic(fmt.Sprintf("envoy: encode the edge route action: %v", err))
	}
	return b
}()

// RouteMatch{headers=6, oneof{prefix=1 | path=2}}
func sizeMatch(r RouteSpec, f pathForm) int {
	n := sizeString(f.field, f.value)
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

// appendRoutes appends the encoding of each of r.routes(edge) as a repeated
// field of the given number.
func appendRoutes(b []byte, field protowire.Number, r RouteSpec, edge bool) []byte {
	if r.Policy != nil {
		for _, enc := range r.policyRoutes(edge) {
			b = protowire.AppendBytes(protowire.AppendTag(b, field, protowire.BytesType), enc)
		}
		return b
	}
	for _, f := range r.forms() {
		b = appendMessage(b, field, sizeRoute(r, f, edge), func(b []byte) []byte { return appendRoute(b, r, f, edge) })
	}
	return b
}

func appendRoute(b []byte, r RouteSpec, f pathForm, edge bool) []byte {
	b = appendMessage(b, 1, sizeMatch(r, f), func(b []byte) []byte { return appendMatch(b, r, f) })
	b = appendString(b, 14, r.Name)
	if r.Cluster == "" {
		return appendMessage(b, 7, sizeVarint(1, uint64(r.Status)), func(b []byte) []byte { return appendVarint(b, 1, uint64(r.Status)) })
	}
	return appendMessage(b, 2, sizeRouteAction(r, edge), func(b []byte) []byte {
		if edge {
			b = append(b, edgeActionFields...)
		}
		return appendString(b, 1, r.Cluster)
	})
}

func appendMatch(b []byte, r RouteSpec, f pathForm) []byte {
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
	return appendString(b, f.field, f.value)
}

// AppendVirtualHost appends the encoding of an EdgeVirtualHost(name,
// domains, routes) whose routes are built from specs.
func AppendVirtualHost(b []byte, name string, domains []string, routes []RouteSpec) []byte {
	return append(appendVirtualHost(b, name, domains, routes, true), edgeRetryField...)
}

// edgeRetryField is VirtualHost field retry_policy=16, the same in every
// fleet virtual host, written after the routes (field 3).
var edgeRetryField = func() []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&routev3.VirtualHost{RetryPolicy: edgeRetryPolicy()})
	if err != nil {
		panic(fmt.Sprintf("envoy: encode the edge retry policy: %v", err))
	}
	return b
}()

func appendVirtualHost(b []byte, name string, domains []string, routes []RouteSpec, edge bool) []byte {
	b = appendString(b, 1, name)
	for _, d := range domains {
		b = appendString(b, 2, d)
	}
	for _, r := range routes {
		b = appendRoutes(b, 3, r, edge)
	}
	return b
}

const (
	hcmTypeURL    = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
	routerTypeURL = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
)

// AppendAPIListener appends the encoding of APIListener(name, routes):
// Listener{name=1, api_listener=19{api_listener=1: Any{type_url=1,
// value=2: HttpConnectionManager{stat_prefix=2, http_filters=5,
// oneof{route_config=4: RouteConfiguration{name=1, virtual_hosts=2}}}}}}.
// Plain routes are sized first, so they are written straight into one
// buffer; a table with a policy route (built as messages and marshalled)
// is encoded once into a buffer of its own and sized by its length, so
// that no route is marshalled twice.
func AppendAPIListener(b []byte, name string, routes []RouteSpec) []byte {
	var vhost []byte
	vh := sizeString(1, name) + sizeString(2, "*")
	for _, r := range routes {
		if r.Policy != nil {
			vhost = appendVirtualHost(nil, name, []string{"*"}, routes, false)
			vh = len(vhost)
			break
		}
		for _, f := range r.forms() {
			vh += sizeMessage(3, sizeRoute(r, f, false))
		}
	}
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
	if vhost != nil {
		return append(b, vhost...)
	}
	return appendVirtualHost(b, name, []string{"*"}, routes, false)
}

// routerFilterField is http_filters=5: HttpFilter{name=1: router,
// typed_config=4: Any{type_url=1: Router}}, the same in every listener.
var routerFilterField = func() []byte {
	router := appendString(nil, 1, routerTypeURL)
	filter := appendString(nil, 1, routerFilter)
	filter = appendMessage(filter, 4, len(router), func(b []byte) []byte { return append(b, router...) })
	return appendMessage(nil, 5, len(filter), func(b []byte) []byte { return append(b, filter...) })
}()

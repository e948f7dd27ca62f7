package load

import (
	"slices"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
)

// hcmType is the type URL of the network filter that names a route table.
const hcmType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"

// Field numbers of what routeNames reads, as in the Envoy v3 protos:
// Any{type_url=1, value=2}; delta Resource{resource=2, name=3};
// Listener{name=1, filter_chains=3, default_filter_chain=25};
// FilterChain{filters=3}; Filter{typed_config=4};
// HttpConnectionManager{rds=3}; Rds{route_config_name=2}.
const (
	anyTypeURL, anyValue            = 1, 2
	resourceBody                    = 2
	listenerName, listenerChains    = 1, 3
	listenerDefaultChain            = 25
	chainFilters, filterTypedConfig = 3, 4
	hcmRDS, rdsRouteConfigName      = 3, 2
	responseResources               = 2
)

// listenerRoutes reads, from a listener response, each listener's name and
// the route tables its HTTP connection managers fetch over RDS: what an
// Envoy subscribes to after a listener update. Only these fields are
// decoded, so that a thousand clients stay cheap.
func listenerRoutes(b []byte, delta bool) (map[string][]string, error) {
	out := map[string][]string{}
	err := fields(b, func(num protowire.Number, v []byte) error {
		if num != responseResources {
			return nil
		}
		if delta {
			return fields(v, func(n protowire.Number, body []byte) error {
				if n == resourceBody {
					return listenerFromAny(body, out)
				}
				return nil
			})
		}
		return listenerFromAny(v, out)
	})
	return out, err
}

func listenerFromAny(anyb []byte, out map[string][]string) error {
	return fields(anyb, func(n protowire.Number, l []byte) error {
		if n != anyValue {
			return nil
		}
		var name string
		var routes []string
		err := fields(l, func(n protowire.Number, v []byte) error {
			switch n {
			case listenerName:
				name = string(v)
			case listenerChains, listenerDefaultChain:
				return chainRoutes(v, &routes)
			}
			return nil
		})
		out[name] = routes
		return err
	})
}

func chainRoutes(chain []byte, routes *[]string) error {
	return fields(chain, func(n protowire.Number, filter []byte) error {
		if n != chainFilters {
			return nil
		}
		return fields(filter, func(n protowire.Number, typed []byte) error {
			if n != filterTypedConfig {
				return nil
			}
			var typeURL string
			var value []byte
			if err := fields(typed, func(n protowire.Number, v []byte) error {
				switch n {
				case anyTypeURL:
					typeURL = string(v)
				case anyValue:
					value = v
				}
				return nil
			}); err != nil || typeURL != hcmType {
				return err
			}
			return fields(value, func(n protowire.Number, rds []byte) error {
				if n != hcmRDS {
					return nil
				}
				return fields(rds, func(n protowire.Number, name []byte) error {
					if n == rdsRouteConfigName {
						*routes = append(*routes, string(name))
					}
					return nil
				})
			})
		})
	})
}

// trackListeners keeps each listener's route tables (a SotW response holds
// every listener; a delta one the changed and the removed), and returns
// the sorted union: the route names to subscribe to.
func (s *adsState) trackListeners(r response, raw []byte) ([]string, error) {
	got, err := listenerRoutes(raw, s.delta)
	if err != nil {
		return nil, err
	}
	if !s.delta {
		s.listenerRoutes = got
	} else {
		for _, name := range r.removed {
			delete(s.listenerRoutes, name)
		}
		for name, routes := range got {
			s.listenerRoutes[name] = routes
		}
	}
	var names []string
	for _, routes := range s.listenerRoutes {
		names = append(names, routes...)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// resubscribeRoutes asks for a new set of route tables, as Envoy does when
// a listener update names other ones: SotW sends the whole set with the
// last route response's version and nonce, delta the difference.
func (s *adsState) resubscribeRoutes(names []string) error {
	old := s.names[resourcev3.RouteType]
	s.names[resourcev3.RouteType] = names
	if s.delta {
		add, drop := minus(names, old), minus(old, names)
		return s.stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{Node: s.node, TypeUrl: resourcev3.RouteType, ResourceNamesSubscribe: add, ResourceNamesUnsubscribe: drop})
	}
	return s.stream.SendMsg(&discoveryv3.DiscoveryRequest{Node: s.node, TypeUrl: resourcev3.RouteType, ResourceNames: names,
		VersionInfo: s.routeVersion, ResponseNonce: s.routeNonce})
}

// minus is the names of a not in b.
func minus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, n := range b {
		in[n] = true
	}
	return slices.DeleteFunc(slices.Clone(a), func(n string) bool { return in[n] })
}

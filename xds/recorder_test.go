package xds

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// accepted is what an Envoy holds: every resource it has accepted, by
// type and name. The recording clients of the ordering tests keep one and
// check it after every response, as Envoy would then route with it.
type accepted struct {
	clusters  map[string]*clusterv3.Cluster
	listeners map[string]*listenerv3.Listener
	routes    map[string]*routev3.RouteConfiguration
	endpoints map[string]bool
	secrets   map[string]bool
}

func newAccepted() *accepted {
	return &accepted{
		clusters: map[string]*clusterv3.Cluster{}, listeners: map[string]*listenerv3.Listener{},
		routes: map[string]*routev3.RouteConfiguration{}, endpoints: map[string]bool{}, secrets: map[string]bool{},
	}
}

// put stores one resource of a type.
func (a *accepted) put(typeURL string, res *anypb.Any) error {
	name, m, err := decode(typeURL, res)
	if err != nil {
		return err
	}
	switch typeURL {
	case resourcev3.ClusterType:
		a.clusters[name] = m.(*clusterv3.Cluster)
	case resourcev3.ListenerType:
		a.listeners[name] = m.(*listenerv3.Listener)
	case resourcev3.RouteType:
		a.routes[name] = m.(*routev3.RouteConfiguration)
	case resourcev3.EndpointType:
		a.endpoints[name] = true
	case resourcev3.SecretType:
		a.secrets[name] = true
	}
	return nil
}

// drop removes one resource of a type.
func (a *accepted) drop(typeURL, name string) {
	switch typeURL {
	case resourcev3.ClusterType:
		delete(a.clusters, name)
	case resourcev3.ListenerType:
		delete(a.listeners, name)
	case resourcev3.RouteType:
		delete(a.routes, name)
	case resourcev3.EndpointType:
		delete(a.endpoints, name)
	case resourcev3.SecretType:
		delete(a.secrets, name)
	}
}

// names of a type that the client holds.
func (a *accepted) names(typeURL string) []string {
	var keys []string
	switch typeURL {
	case resourcev3.ClusterType:
		keys = slices.Collect(maps.Keys(a.clusters))
	case resourcev3.ListenerType:
		keys = slices.Collect(maps.Keys(a.listeners))
	case resourcev3.RouteType:
		keys = slices.Collect(maps.Keys(a.routes))
	case resourcev3.EndpointType:
		keys = slices.Collect(maps.Keys(a.endpoints))
	case resourcev3.SecretType:
		keys = slices.Collect(maps.Keys(a.secrets))
	}
	sort.Strings(keys)
	return keys
}

func decode(typeURL string, res *anypb.Any) (string, proto.Message, error) {
	var m interface {
		proto.Message
		GetName() string
	}
	switch typeURL {
	case resourcev3.ClusterType:
		m = &clusterv3.Cluster{}
	case resourcev3.ListenerType:
		m = &listenerv3.Listener{}
	case resourcev3.RouteType:
		m = &routev3.RouteConfiguration{}
	default:
		return nameOf(res)
	}
	if err := res.UnmarshalTo(m); err != nil {
		return "", nil, err
	}
	return m.GetName(), m, nil
}

// nameOf reads the name (field 1 of ClusterLoadAssignment, name of
// Secret) of the other types.
func nameOf(res *anypb.Any) (string, proto.Message, error) {
	m, err := res.UnmarshalNew()
	if err != nil {
		return "", nil, err
	}
	switch r := m.(type) {
	case interface{ GetClusterName() string }:
		return r.GetClusterName(), m, nil
	case interface{ GetName() string }:
		return r.GetName(), m, nil
	}
	return "", nil, fmt.Errorf("no name in %s", res.GetTypeUrl())
}

// needs are the names the accepted listeners use: route tables, secrets,
// and the clusters of TCP and UDP proxies.
type needs struct {
	routes, secrets, clusters map[string]bool
}

func (a *accepted) listenerNeeds() needs {
	n := needs{routes: map[string]bool{}, secrets: map[string]bool{}, clusters: map[string]bool{}}
	for _, l := range a.listeners {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				hcm, tcp := &hcmv3.HttpConnectionManager{}, &tcpproxyv3.TcpProxy{}
				switch {
				case f.GetTypedConfig().MessageIs(hcm):
					_ = f.GetTypedConfig().UnmarshalTo(hcm)
					if r := hcm.GetRds().GetRouteConfigName(); r != "" {
						n.routes[r] = true
					}
				case f.GetTypedConfig().MessageIs(tcp):
					_ = f.GetTypedConfig().UnmarshalTo(tcp)
					n.clusters[tcp.GetCluster()] = true
				}
			}
			ctx := &tlsv3.DownstreamTlsContext{}
			if fc.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx) == nil {
				for _, sds := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
					n.secrets[sds.GetName()] = true
				}
			}
		}
		for _, lf := range l.GetListenerFilters() {
			udp := &udpproxyv3.UdpProxyConfig{}
			if lf.GetTypedConfig().UnmarshalTo(udp) != nil {
				continue
			}
			route := &udpproxyv3.Route{}
			if udp.GetMatcher().GetOnNoMatch().GetAction().GetTypedConfig().UnmarshalTo(route) == nil {
				n.clusters[route.GetCluster()] = true
			}
		}
	}
	return n
}

// routeClusters are the clusters the accepted route tables that accepted
// listeners use name.
func (a *accepted) routeClusters(routes map[string]bool) map[string]bool {
	out := map[string]bool{}
	for name := range routes {
		for _, vh := range a.routes[name].GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if c := r.GetRoute().GetCluster(); c != "" {
					out[c] = true
				}
				for _, wc := range r.GetRoute().GetWeightedClusters().GetClusters() {
					out[wc.GetName()] = true
				}
			}
		}
	}
	return out
}

// named are the clusters accepted listeners and routes name, the route
// tables and secrets listeners name, and the assignments of all of them.
func (a *accepted) named() (clusters, routes, secrets map[string]bool) {
	n := a.listenerNeeds()
	clusters = a.routeClusters(n.routes)
	maps.Copy(clusters, n.clusters)
	return clusters, n.routes, n.secrets
}

// dangling is the first cluster an accepted listener or route names that
// the client does not hold ("" when there is none): what Envoy answers 503
// for.
func (a *accepted) dangling() string {
	clusters, _, _ := a.named()
	for _, c := range slices.Sorted(maps.Keys(clusters)) {
		if a.clusters[c] == nil {
			return c
		}
	}
	return ""
}

// edsNames are the assignments the accepted EDS clusters ask for.
func (a *accepted) edsNames() []string {
	var out []string
	for name, c := range a.clusters {
		if c.GetType() == clusterv3.Cluster_EDS {
			if s := c.GetEdsClusterConfig().GetServiceName(); s != "" {
				name = s
			}
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// subscriptions are the names Envoy asks for of the by-name types.
func (a *accepted) subscriptions() map[string][]string {
	_, routes, secrets := a.named()
	return map[string][]string{
		resourcev3.EndpointType: a.edsNames(),
		resourcev3.RouteType:    slices.Sorted(maps.Keys(routes)),
		resourcev3.SecretType:   slices.Sorted(maps.Keys(secrets)),
	}
}

// removalViolation says why removing name of a type breaks the client,
// or "" when it does not: an assignment, secret or route table removed
// while an accepted listener or route still names it.
func (a *accepted) removalViolation(typeURL, name string) string {
	clusters, routes, secrets := a.named()
	switch {
	case typeURL == resourcev3.EndpointType && clusters[name]:
		return fmt.Sprintf("assignment %q removed while an accepted listener or route names its cluster", name)
	case typeURL == resourcev3.SecretType && secrets[name]:
		return fmt.Sprintf("secret %q removed while an accepted listener names it", name)
	case typeURL == resourcev3.RouteType && routes[name]:
		return fmt.Sprintf("route table %q removed while an accepted listener names it", name)
	}
	return ""
}

package translator

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/fairwayhq/fairway/envoy"
)

// validator is what go-control-plane's generated validation offers.
type validator interface{ ValidateAll() error }

// refs are the names that resources point at, by type. A used name maps
// to the first resource that points at it, so that a dangling reference
// names its referrer.
type refs struct {
	routes, clusters, endpoints, secrets map[string]string
}

// Validate checks what Envoy would check before accepting the Result: every
// resource (and every Any inside it) passes its generated ValidateAll, names
// are unique per type, and every name that something references exists:
// route configs, clusters, EDS assignments and SDS secrets. go-control-plane's
// snapshot consistency check covers only RDS and EDS; this covers all. The
// proxyless resources are checked as a set of their own, since they are
// served apart.
func (r *Result) Validate() error {
	return errors.Join(
		r.err,
		validateSet(r.Listeners, r.Routes, r.Clusters, r.Endpoints, r.Secrets),
		prefixErr("proxyless: ", validateSet(r.Proxyless.Listeners, nil, r.Proxyless.Clusters, r.Proxyless.Endpoints, nil)),
	)
}

func prefixErr(prefix string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s%w", prefix, err)
}

func validateSet(listeners []*listenerv3.Listener, routes []*routev3.RouteConfiguration, clusters []*clusterv3.Cluster,
	endpoints []*endpointv3.ClusterLoadAssignment, secrets []*tlsv3.Secret) error {
	used := newRefs()
	have := newRefs()
	var errs []error
	check := func(kind string, names map[string]string, name string, m proto.Message) {
		if _, dup := names[name]; dup {
			errs = append(errs, fmt.Errorf("%s %q: name is not unique", kind, name))
		}
		names[name] = ""
		mine := newRefs()
		if err := walk(m.ProtoReflect(), &mine); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", kind, name, err))
		}
		used.merge(mine, fmt.Sprintf("%s %q", kind, name))
	}
	listenerNames := map[string]string{}
	for _, l := range listeners {
		check("listener", listenerNames, l.GetName(), l)
		errs = append(errs, uniqueChainNames(l)...)
	}
	for _, rc := range routes {
		check("route configuration", have.routes, rc.GetName(), rc)
		errs = append(errs, uniqueVirtualHosts(rc)...)
	}
	for _, c := range clusters {
		check("cluster", have.clusters, c.GetName(), c)
	}
	for _, e := range endpoints {
		check("cluster load assignment", have.endpoints, e.GetClusterName(), e)
	}
	for _, s := range secrets {
		check("secret", have.secrets, s.GetName(), s)
	}
	errs = append(errs, missing("route configuration", used.routes, have.routes)...)
	errs = append(errs, missing("cluster", used.clusters, have.clusters)...)
	errs = append(errs, missing("cluster load assignment", used.endpoints, have.endpoints)...)
	errs = append(errs, missing("secret", used.secrets, have.secrets)...)
	return errors.Join(errs...)
}

// uniqueChainNames reports filter chains of one listener that share a
// name, which Envoy rejects (the whole listener, every host on it). Chains
// without a name are Envoy's to tell apart by their match.
func uniqueChainNames(l *listenerv3.Listener) []error {
	var errs []error
	seen := map[string]bool{}
	for i, fc := range l.GetFilterChains() {
		name := fc.GetName()
		if name != "" && seen[name] {
			errs = append(errs, fmt.Errorf("listener %q: filter_chains[%d]: name %q is not unique within the listener", l.GetName(), i, name))
		}
		seen[name] = true
	}
	return errs
}

// uniqueVirtualHosts reports virtual hosts of one route configuration
// that share a name or a domain: Envoy rejects the whole configuration
// ("Only unique values for domains are permitted"), every host in it. The
// https tables mix virtual hosts of several origins (a host's own, a
// renamed landing, the 421 one), so this is checked, not assumed.
func uniqueVirtualHosts(rc *routev3.RouteConfiguration) []error {
	var errs []error
	names, domains := map[string]bool{}, map[string]bool{}
	for i, vh := range rc.GetVirtualHosts() {
		if names[vh.GetName()] {
			errs = append(errs, fmt.Errorf("route configuration %q: virtual_hosts[%d]: name %q is not unique", rc.GetName(), i, vh.GetName()))
		}
		names[vh.GetName()] = true
		for _, d := range vh.GetDomains() {
			if domains[strings.ToLower(d)] {
				errs = append(errs, fmt.Errorf("route configuration %q: virtual_hosts[%d]: domain %q is not unique", rc.GetName(), i, d))
			}
			domains[strings.ToLower(d)] = true
		}
	}
	return errs
}

func newRefs() refs {
	return refs{routes: map[string]string{}, clusters: map[string]string{}, endpoints: map[string]string{}, secrets: map[string]string{}}
}

// merge adds one resource's references, by that referrer, keeping the
// first referrer of each name.
func (r refs) merge(from refs, referrer string) {
	pairs := [][2]map[string]string{{r.routes, from.routes}, {r.clusters, from.clusters}, {r.endpoints, from.endpoints}, {r.secrets, from.secrets}}
	for _, p := range pairs {
		for name := range p[1] {
			if _, ok := p[0][name]; !ok {
				p[0][name] = referrer
			}
		}
	}
}

// mark records a reference; an empty name is no reference (the resource
// uses another specifier) and ValidateAll has already judged it.
func mark(names map[string]string, name string) {
	if name != "" {
		names[name] = ""
	}
}

// missing lists, sorted, the used names that are not there.
func missing(kind string, used, have map[string]string) []error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(used)) {
		if _, ok := have[name]; !ok {
			errs = append(errs, fmt.Errorf("%s %q is referenced by %s but not present", kind, name, used[name]))
		}
	}
	return errs
}

// walk validates m, then descends through every field, unpacking Any
// values (which ValidateAll does not look into) and validating what they
// hold, and records the references it meets.
func walk(m protoreflect.Message, used *refs) error {
	if v, ok := m.Interface().(validator); ok {
		if err := v.ValidateAll(); err != nil {
			return err
		}
	}
	return descend(m, used)
}

func descend(m protoreflect.Message, used *refs) error {
	switch x := m.Interface().(type) {
	case *anypb.Any:
		inner, err := x.UnmarshalNew()
		if err != nil {
			return fmt.Errorf("unpack %s: %w", x.GetTypeUrl(), err)
		}
		return walk(inner.ProtoReflect(), used)
	case *hcmv3.Rds:
		mark(used.routes, x.GetRouteConfigName())
	case *routev3.RouteAction:
		mark(used.clusters, x.GetCluster())
	case *routev3.WeightedCluster_ClusterWeight:
		if x.GetName() != envoy.UnresolvedBackendCluster { // missing by design: its share answers 500
			mark(used.clusters, x.GetName())
		}
	case *routev3.RouteAction_RequestMirrorPolicy:
		mark(used.clusters, x.GetCluster())
	case *tcpproxyv3.TcpProxy:
		if x.GetCluster() != envoy.UnresolvedBackendCluster { // missing by design: its connections are closed
			mark(used.clusters, x.GetCluster())
		}
	case *tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight:
		if x.GetName() != envoy.UnresolvedBackendCluster {
			mark(used.clusters, x.GetName())
		}
	case *udpproxyv3.Route:
		mark(used.clusters, x.GetCluster())
	case *tlsv3.SdsSecretConfig:
		mark(used.secrets, x.GetName())
	case *clusterv3.Cluster:
		if x.GetEdsClusterConfig() != nil {
			name := x.GetEdsClusterConfig().GetServiceName()
			if name == "" {
				name = x.GetName()
			}
			mark(used.endpoints, name)
		}
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					err = descend(mv.Message(), used)
					return err == nil
				})
			}
		case fd.Message() == nil:
		case fd.IsList():
			for i := 0; i < v.List().Len() && err == nil; i++ {
				err = descend(v.List().Get(i).Message(), used)
			}
		default:
			err = descend(v.Message(), used)
		}
		return err == nil
	})
	return err
}

package translator

import (
	"slices"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// A Gateway port's route configuration is rebuilt whenever the Gateway
// API changes, but of its virtual hosts only those whose rules changed
// are built again: a virtual host is kept, with what building it added
// to the translation (Problems, cluster uses), while the same listener
// serves the domain with the same rules (the front end's Resolver hands
// back the same HTTPRule pointers for a route it kept) and no Service or
// Secret changed. A change of one HTTPRoute among 10k on a Gateway with
// an address of its own then builds its own hosts, as it does on the
// fleet's shared http port.

// vhostKey names a virtual host across builds: the listener that serves
// the domain (a domain is served by one listener of a port, the most
// specific, see virtualHosts) and the domain.
type vhostKey struct {
	namespace, gateway, listener, domain string
	port                                 int32
}

// builtVHost is one virtual host as a build made it, and what it read.
type builtVHost struct {
	rules    []*gatewayapi.HTTPRule
	protocol gatewayv1.ProtocolType
	reads    uint64
	// res is the encoded virtual host; nil when none of its rules could
	// be served (then the domain has no virtual host).
	res *Resource
	// specs are its routes, and plains their plain clusters by index
	// where the fleet's is a variant: a proxyless client's table.
	specs      []envoy.RouteSpec
	plains     map[int]string
	problems   []Problem
	clusters   []clusterUse
	referenced []nsName
}

// gatewayReadsChanged notes a change of what building a Gateway's routes
// reads beside the Gateway API objects (a Service or Secret): no kept
// virtual host holds across it.
func (g *gatewayState) gatewayReadsChanged() { g.reads++ }

// virtualHost is domain d's virtual host of the rules of listener l, kept
// from the last build when nothing it read changed.
func (b *gatewayBuild) virtualHost(d string, l *gatewayapi.Listener, rules []*gatewayapi.HTTPRule) *builtVHost {
	g := &b.e.gw
	key := vhostKey{namespace: l.Gateway.Namespace, gateway: l.Gateway.Name, listener: l.Name, domain: d, port: l.Port}
	if v := g.vhosts[key]; v != nil && v.reads == g.reads && v.protocol == l.Protocol && slices.Equal(v.rules, rules) {
		b.t.problems = append(b.t.problems, v.problems...)
		b.t.clusters = append(b.t.clusters, v.clusters...)
		b.t.referenced = append(b.t.referenced, v.referenced...)
		b.vhosts[key] = v
		return v
	}
	p, c, r := len(b.t.problems), len(b.t.clusters), len(b.t.referenced)
	specs := make([]envoy.RouteSpec, 0, len(rules))
	var refs []Ref
	var plains map[int]string
	for _, rule := range rules {
		if route := b.t.gatewayRouteOn(d, l, rule); route != nil {
			if route.plain != "" {
				if plains == nil {
					plains = map[int]string{}
				}
				plains[len(specs)] = route.plain
			}
			spec := route.spec()
			specs = append(specs, spec)
			refs = append(refs, routeRefs(spec)...)
		}
	}
	v := &builtVHost{rules: rules, protocol: l.Protocol, reads: g.reads, specs: specs, plains: plains,
		problems: slices.Clone(b.t.problems[p:]), clusters: slices.Clone(b.t.clusters[c:]), referenced: slices.Clone(b.t.referenced[r:])}
	if len(specs) > 0 {
		v.res = newResource(d, envoy.AppendVirtualHost(nil, d, []string{d}, specs), refs)
	}
	b.vhosts[key] = v
	return v
}

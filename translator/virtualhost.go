package translator

import (
	"cmp"
	"fmt"
	"slices"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fairwayhq/fairway/envoy"
)

// unavailable is the status of a route whose backend cannot be resolved.
const unavailable = 503

// hostState is one host's settled routes and its encoded virtual host.
type hostState struct {
	own      []*httpRoute // the routes it won, in precedence order
	problems []Problem
	services map[nsName]bool       // Services its routes name
	clusters map[clusterKey]string // clusters its own routes use
	vhost    *Resource             // nil for a catch-all with nothing to serve
}

// recomputeHost settles a host's routes: the Ingresses that name it, oldest
// first, win their paths; later duplicates get DuplicatePath. Backends are
// resolved for winners only, so a losing rule never creates a cluster.
func (e *Engine) recomputeHost(host string) {
	contributors := make([]*ingressState, 0, len(e.contrib[host]))
	for _, st := range e.contrib[host] {
		contributors = append(contributors, st)
	}
	slices.SortFunc(contributors, func(a, b *ingressState) int { return compareAge(&a.obj.ObjectMeta, &b.obj.ObjectMeta) })
	t := e.scope()
	won := map[pathMatch]*httpRoute{}
	var own []*httpRoute
	for _, st := range contributors {
		for _, p := range st.byHost[host] {
			if prev, ok := won[p.match]; ok {
				t.problems.add(st.ref, DuplicatePath, "%s: host %q path %s is already routed by %s of Ingress %s, which is older",
					p.field, hostOrAny(host), p.match, prev.field, prev.origin.NamespacedName())
				continue
			}
			r := &httpRoute{host: host, match: p.match, origin: st.ref, field: p.field}
			r.cluster = t.resolveBackend(st.ref, p.field+".backend", st.obj.Namespace, p.backend)
			won[p.match] = r
			own = append(own, r)
		}
	}
	sortByPrecedence(own)
	old := e.hosts[host]
	if len(own) == 0 && host != "" { // the catch-all stays: it may serve the default backend
		e.setHost(host, old, nil)
		return
	}
	e.setHost(host, old, &hostState{own: own, problems: t.problems, services: t.referenced, clusters: t.clusters})
}

// setHost replaces a host's state, keeping the indexes and cluster counts.
func (e *Engine) setHost(host string, old, next *hostState) {
	if old != nil {
		e.clusters.release(old.clusters)
		for k := range old.services {
			delete(e.svcHosts[k], host)
		}
	}
	if next == nil {
		if old != nil {
			delete(e.hosts, host)
			if i, ok := slices.BinarySearch(e.hostOrder, host); ok {
				e.hostOrder = slices.Delete(e.hostOrder, i, i+1)
			}
		}
		return
	}
	e.clusters.acquire(next.clusters)
	for k := range next.services {
		if e.svcHosts[k] == nil {
			e.svcHosts[k] = map[string]bool{}
		}
		e.svcHosts[k][host] = true
	}
	if old == nil {
		if i, ok := slices.BinarySearch(e.hostOrder, host); !ok {
			e.hostOrder = slices.Insert(e.hostOrder, i, host)
		}
	}
	e.hosts[host] = next
}

// encodeHost builds a host's virtual host. A request is served by the rules
// of its host (exact, else a matching wildcard), else by the rules without
// a host, which live in the catch-all virtual host; the default backend
// takes whatever the chosen rules do not match, and a request that matches
// nothing gets Envoy's 404.
//
// Envoy picks a virtual host by Host and never falls back to another, and
// its "*.foo.com" takes names of any depth, where the Ingress wildcard takes
// exactly one label. So a wildcard virtual host guards its own routes with a
// single-label :authority check and carries the host-less routes with the
// inverse check: a deeper name gets what the catch-all would give it.
func (e *Engine) encodeHost(host string, st *hostState) error {
	hostless := e.hosts[""]
	var table []*routev3.Route
	var refs []Ref
	add := func(r *routev3.Route, cluster string) {
		table = append(table, r)
		if cluster != "" {
			refs = append(refs, Ref{Kind: KindCluster, Name: cluster})
		}
	}
	for _, r := range st.own {
		if isWildcard(host) {
			add(r.guarded(host, false), r.cluster)
		} else {
			add(r.proto(), r.cluster)
		}
	}
	if isWildcard(host) && hostless != nil {
		for _, r := range hostless.own {
			add(r.guarded(host, true), r.cluster)
		}
	}
	if d := e.defaults.route; d != nil {
		add(d.proto(), d.cluster)
	}
	if len(table) == 0 {
		st.vhost = nil
		return nil
	}
	name, domain := host, host
	if host == "" {
		name, domain = envoy.CatchAllVirtualHost, "*"
	}
	vh, err := encode(name, envoy.VirtualHost(name, []string{domain}, table), refs)
	st.vhost = vh
	return err
}

// proto is the Envoy route: to the backend's cluster, or a 503 when the
// backend could not be resolved.
func (r *httpRoute) proto() *routev3.Route {
	return r.action(r.match.routeMatch())
}

// guarded is the route inside the wildcard virtual host: it matches only
// names with exactly one label before the wildcard's suffix, or, inverted,
// only the deeper names that the wildcard must not take.
func (r *httpRoute) guarded(wildcard string, invert bool) *routev3.Route {
	return r.action(envoy.WithAuthorityRegex(r.match.routeMatch(), singleLabelRegex(wildcard), invert))
}

func (r *httpRoute) action(m *routev3.RouteMatch) *routev3.Route {
	name := r.origin.NamespacedName()
	if r.cluster == "" {
		return envoy.DirectResponseRoute(name, m, unavailable)
	}
	return envoy.ClusterRoute(name, m, r.cluster)
}

func hostOrAny(host string) string {
	if host == "" {
		return "*"
	}
	return host
}

// routeConfigHead and routeConfigTail are what an encoded
// envoy.RouteConfiguration holds around its virtual hosts (field 2).
func routeConfigParts(name string) (head, tail []byte) {
	full, err := marshalOptions.Marshal(envoy.RouteConfiguration(name, nil))
	if err != nil {
		panic(fmt.Sprintf("encode route configuration head: %v", err))
	}
	nameOnly := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), name)
	return nameOnly, full[len(nameOnly):]
}

// composeRouteConfig encodes a route configuration from encoded virtual
// hosts: a repeated field's encoding is its elements' encodings in a row,
// so an Ingress change re-encodes one virtual host, not ten thousand. The
// bytes are those of encoding the whole message (a test holds them so).
func composeRouteConfig(name string, vhosts []*Resource) *Resource {
	head, tail := routeConfigParts(name)
	size := len(head) + len(tail)
	nrefs := 0
	for _, vh := range vhosts {
		size += 1 + protowire.SizeBytes(len(vh.Bytes))
		nrefs += len(vh.Refs)
	}
	b := make([]byte, 0, size)
	b = append(b, head...)
	refs := make([]Ref, 0, nrefs)
	for _, vh := range vhosts {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, vh.Bytes)
		refs = append(refs, vh.Refs...)
	}
	b = append(b, tail...)
	slices.SortFunc(refs, func(a, b Ref) int { return cmp.Compare(a.Name, b.Name) })
	return newResource(name, b, slices.Compact(refs))
}

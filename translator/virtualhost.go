package translator

import (
	"cmp"
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fairwayhq/fairway/envoy"
)

// unavailable is the status of a route whose backend cannot be resolved.
const unavailable = 503

// hostState is one host's settled routes and its encoded virtual host.
type hostState struct {
	own      []*httpRoute // the routes it won, in precedence order
	services []nsName     // Services its routes name
	clusters []clusterUse // clusters its own routes use
	vhost    *Resource    // nil for a catch-all with nothing to serve
	// redirect is kept while some route may redirect plain HTTP to https,
	// and plain is then the plain-HTTP virtual host when one does
	// (sslredirect.go); both nil for the other hosts, which share vhost
	// between the http and https tables.
	redirect *redirectPlan
	plain    *Resource
	// form is the shape of the plain side (redirecttable.go): with
	// plainFormRedirect, the shared redirect virtual host answers every
	// plain-HTTP request for the host, which has no virtual host of its
	// own in the http table.
	form plainForm
	// api is the host's proxyless API listener, for gRPC clients that dial
	// xds:///<host>: exact hosts only, since a client dials a name, not a
	// pattern, and the catch-all has no name to dial.
	api *Resource
	// pass is set when the host is passed through (passthrough.go): it
	// then has no routes and no virtual host.
	pass *passRoute
}

// recomputeHosts settles the routes of many hosts: computed across cores,
// stored one by one.
func (e *Engine) recomputeHosts(hosts []string) {
	states := make([]*hostState, len(hosts))
	found := make([]problems, len(hosts))
	forEach(len(hosts), func(i int) { states[i], found[i] = e.computeHost(hosts[i]) })
	for i, host := range hosts {
		e.storeHost(host, states[i], found[i])
	}
}

// recomputeHost settles one host's routes.
func (e *Engine) recomputeHost(host string) {
	st, ps := e.computeHost(host)
	e.storeHost(host, st, ps)
}

// computeHost settles a host's routes: the Ingresses that name it, oldest
// first, win their paths; later duplicates get DuplicatePath. Backends are
// resolved for winners only, so a losing rule never creates a cluster. It
// only reads; nil means the host has no routes.
func (e *Engine) computeHost(host string) (*hostState, problems) {
	contributors := e.contrib[host]
	if len(contributors) > 1 { // one, as most hosts have, is in order as it is
		contributors = slices.Clone(contributors)
		slices.SortFunc(contributors, func(a, b *ingressState) int { return compareAge(&a.obj.ObjectMeta, &b.obj.ObjectMeta) })
	}
	t := e.scope()
	pass, contributors := e.settlePassthrough(t, host, contributors)
	if pass != nil {
		return &hostState{pass: pass, services: t.referenced, clusters: t.clusters}, t.problems
	}
	// The routes are allocated together and listed in a list sized once:
	// at most every path wins, and these were three allocations a host
	// of two paths in a cold build.
	n := 0
	for _, st := range contributors {
		n += len(st.paths(host))
	}
	var own []*httpRoute
	var routes []httpRoute
	if n > 0 {
		own, routes = make([]*httpRoute, 0, n), make([]httpRoute, 0, n)
	}
	var won map[routeKey]*httpRoute // only for hosts with many routes; a scan is cheaper below
	winner := func(k routeKey) *httpRoute {
		if won != nil {
			return won[k]
		}
		for _, r := range own {
			if r.key() == k {
				return r
			}
		}
		return nil
	}
	mains, canaries := splitCanaries(contributors)
	for _, st := range mains {
		for _, p := range st.paths(host) {
			if prev := winner(routeKey{match: p.match}); prev != nil {
				t.problems.add(st.ref, DuplicatePath, "%s: host %q path %s is already routed by %s of Ingress %s, which is older",
					p.field, hostOrAny(host), p.match, prev.field, prev.origin.NamespacedName())
				continue
			}
			routes = append(routes, httpRoute{host: host, match: p.match, origin: st.ref, field: p.field, policy: st.policy})
			r := &routes[len(routes)-1] // never moves: routes has room for every path
			r.cluster, r.plain = t.resolveBackend(st.ref, p.field.backend(), st.obj.Namespace, p.backend, st.policy)
			t.resolveAuth(st, r)
			own = append(own, r)
			if won != nil {
				won[r.key()] = r
			} else if len(own) > 16 {
				won = make(map[routeKey]*httpRoute, 2*len(own))
				for _, o := range own {
					won[o.key()] = o
				}
			}
		}
	}
	t.attachCanaries(canaries, host, func(m pathMatch) *httpRoute { return winner(routeKey{match: m}) })
	if len(e.gw.shared[host]) > 0 {
		own = e.mergeGatewayRules(t, host, own)
	}
	sortByPrecedence(own)
	if len(own) == 0 && host != "" { // the catch-all stays: it may serve the default backend
		if own = wwwRedirect(host, contributors); own == nil {
			return nil, t.problems // a host with no route keeps what made it so (a lost passthrough, a canary without main)
		}
	}
	return &hostState{own: own, services: t.referenced, clusters: t.clusters}, t.problems
}

func (e *Engine) storeHost(host string, st *hostState, ps problems) {
	e.setHost(host, e.hosts[host], st)
	e.setProblems(slot{piece: slotHost, name: host}, ps)
}

// setHost replaces a host's state, keeping the indexes and cluster counts.
func (e *Engine) setHost(host string, old, next *hostState) {
	e.notePassthrough(host, old, next)
	if old != nil {
		e.clusters.release(old.clusters)
		for _, k := range old.services {
			if rest := slices.DeleteFunc(e.svcHosts[k], func(h string) bool { return h == host }); len(rest) == 0 {
				delete(e.svcHosts, k)
			} else {
				e.svcHosts[k] = rest
			}
		}
	}
	if next == nil {
		if old != nil {
			e.publishHostAPI(host, nil)
			delete(e.redirecting, host)
			delete(e.hosts, host)
			e.hostOrder = nil // rebuilt when next needed
		}
		return
	}
	if old != nil && next.vhost == nil && next.plain == nil && next.pass == nil {
		// encodeHost and encodePlain keep them if their bytes come out
		// the same.
		next.vhost, next.plain = old.vhost, old.plain
	}
	e.clusters.acquire(next.clusters)
	for _, k := range next.services {
		if !slices.Contains(e.svcHosts[k], host) {
			e.svcHosts[k] = append(e.svcHosts[k], host)
		}
	}
	if old == nil {
		e.hostOrder = nil
	} else if e.hostOrder != nil {
		e.hostStates[e.hostPos[host]] = next
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
func (e *Engine) encodeHost(host string, st *hostState) {
	if st.pass != nil { // served at L4 only: no virtual host anywhere
		st.vhost, st.api, st.redirect, st.plain = nil, nil, nil, nil
		return
	}
	t := e.routesOf(host, st)
	prev := st.vhost
	st.vhost, st.api, st.redirect = nil, nil, nil
	if len(t.table) == 0 {
		return
	}
	name, domain := host, host
	if host == "" {
		name, domain = envoy.CatchAllVirtualHost, "*"
	}
	refs := t.refs
	if len(t.authRefs) > 0 { // the fleet's alone: a proxyless client's auth routes answer 403
		refs = append(slices.Clip(t.refs), t.authRefs...)
	}
	st.vhost = sameOr(prev, newResource(name, envoy.AppendVirtualHost(nil, name, []string{domain}, t.table), refs))
	st.redirect = t.wants.plan(name, domain, t.table, refs)
	st.api = e.hostAPI(host, t)
}

// hostRoutes is a host's route table as its virtual host and its API
// listener are made from it.
type hostRoutes struct {
	table  []envoy.RouteSpec
	refs   []Ref
	plains map[int]string // table index -> plain cluster, for variants only
	// splits: table index -> a canary split between plain clusters, for
	// variants only (canary.go).
	splits map[int]envoy.Split
	wants  tlsWants
	// authRefs are the auth services' clusters its routes' ext_authz
	// filters call (route_extauth.go), and the clusters its routes
	// mirror to (route_mirror.go): the fleet's alone.
	authRefs []Ref
}

// addGatewayRefs adds the clusters a Gateway API route names besides its
// first: each weighted cluster (never the unresolved share's name, which
// no cluster has: it is meant to be missing) and each mirror, which only
// the fleet's table carries.
func (t *hostRoutes) addGatewayRefs(r envoy.RouteSpec) {
	if r.Policy == nil {
		return
	}
	if w := r.Policy.Weighted; w != nil && r.Cluster != "" {
		for _, c := range w.Clusters {
			t.refs = append(t.refs, Ref{Kind: KindCluster, Name: c.Name})
		}
	}
	for _, m := range r.Policy.Mirrors {
		t.authRefs = append(t.authRefs, Ref{Kind: KindCluster, Name: m.Cluster})
	}
}

// routesOf lists a host's routes in precedence order: its own, the
// catch-all's (guarded) for a wildcard, then the default backend.
func (e *Engine) routesOf(host string, st *hostState) hostRoutes {
	hostless := e.hosts[""]
	// Sized once: the lists are kept with the encoded virtual host, and
	// growing them cost two allocations each per host in a cold build.
	n := len(st.own)
	if isWildcard(host) && hostless != nil {
		n += len(hostless.own)
	}
	if e.defaults.route != nil {
		n++
	}
	t := hostRoutes{table: make([]envoy.RouteSpec, 0, n), refs: make([]Ref, 0, n)}
	clientCert := e.asksClientCert(host)
	add := func(r envoy.RouteSpec, plain string, want tlsWant) {
		if clientCert {
			want = wantAlways // the check is on https only
		}
		if plain != "" {
			if t.plains == nil {
				t.plains = map[int]string{}
			}
			t.plains[len(t.table)] = plain
		}
		t.wants.add(len(t.table), want)
		t.table = append(t.table, r)
		if r.Cluster != "" {
			t.refs = append(t.refs, Ref{Kind: KindCluster, Name: r.Cluster})
		}
		if r.Policy != nil && r.Policy.Split != nil {
			t.refs = append(t.refs, Ref{Kind: KindCluster, Name: r.Policy.Split.Canary})
		}
		if r.Policy != nil && r.Policy.ExtAuth != nil {
			t.authRefs = append(t.authRefs, Ref{Kind: KindCluster, Name: r.Policy.ExtAuth.Cluster})
		}
		t.addGatewayRefs(r)
	}
	for _, r := range st.own {
		s, want := r.spec(), e.routeTLSWant(r, host != "")
		if isWildcard(host) {
			s, want = r.guarded(host, false), e.routeTLSWant(r, true)
		}
		if r.canary != nil {
			t.addCanary(add, r, s, want)
			continue
		}
		add(s, r.plain, want)
	}
	if isWildcard(host) && hostless != nil {
		for _, r := range hostless.own {
			if s, want := r.guarded(host, true), e.routeTLSWant(r, false); r.canary != nil {
				t.addCanary(add, r, s, want)
			} else {
				add(s, r.plain, want)
			}
		}
	}
	if d := e.defaults.route; d != nil {
		add(d.spec(), d.plain, e.tlsWant(d.policy, host != ""))
	}
	return t
}

// hostAPI is an exact host's proxyless API listener, when proxyless
// clients are served and (on demand) one asked for it; else nil.
func (e *Engine) hostAPI(host string, t hostRoutes) *Resource {
	if !e.opts.Proxyless || host == "" || isWildcard(host) || !e.hostWanted(host) {
		return nil
	}
	table, refs := proxylessTable(t.table, t.refs, t.plains, t.splits)
	return newResource(host, envoy.AppendAPIListener(nil, host, table), refs)
}

// proxylessTable is a host's route table for proxyless clients: a gRPC
// client talks to the pods itself, over the plain per-Service-port
// clusters it is sent (proxyless.go), so a route to a variant (another
// protocol or balance, which only Envoy has) names its plain cluster.
// Without variants it is the fleet's table itself.
func proxylessTable(table []envoy.RouteSpec, refs []Ref, plains map[int]string, splits map[int]envoy.Split) ([]envoy.RouteSpec, []Ref) {
	if len(plains) == 0 && len(splits) == 0 && !slices.ContainsFunc(table, func(r envoy.RouteSpec) bool { return weightedOf(r) != nil }) {
		return table, refs // refs name the weighted clusters as the fleet has them, and not the unresolved share
	}
	table = slices.Clone(table)
	refs = refs[:0:0]
	for i := range table {
		if plain := plains[i]; plain == proxylessDenied || splits[i].Main == proxylessDenied || splits[i].Canary == proxylessDenied {
			table[i] = deniedToProxyless(table[i])
			continue
		} else if plain != "" {
			table[i].Cluster = plain
		}
		if c := table[i].Cluster; c != "" {
			refs = append(refs, Ref{Kind: KindCluster, Name: c})
		}
		if w := weightedOf(table[i]); w != nil {
			for _, c := range w.Clusters {
				refs = append(refs, Ref{Kind: KindCluster, Name: cmp.Or(c.Plain, c.Name)})
			}
			if w.Unresolved > 0 { // the proxyless set holds it (unresolved.go)
				refs = append(refs, Ref{Kind: KindCluster, Name: envoy.UnresolvedBackendCluster})
			}
		}
		if sp, ok := splits[i]; ok {
			p := *table[i].Policy
			p.Split = &sp
			table[i].Policy = &p
			refs = append(refs, Ref{Kind: KindCluster, Name: sp.Canary})
		}
	}
	return table, refs
}

// weightedOf is a forwarding route's weighted clusters; nil for none.
func weightedOf(r envoy.RouteSpec) *envoy.Weighted {
	if r.Cluster == "" || r.Policy == nil {
		return nil
	}
	return r.Policy.Weighted
}

// deniedToProxyless answers a route with 503 for proxyless clients: its
// backend's TLS is verified (proxy-ssl-verify), which only Envoy does,
// and a client that dials the pods itself over the plain cluster would
// skip it. ingress-nginx denies a location it cannot secure with 503 too.
func deniedToProxyless(r envoy.RouteSpec) envoy.RouteSpec {
	r.Cluster, r.Status = "", 503
	if r.Policy != nil && r.Policy.Split != nil {
		p := *r.Policy
		p.Split = nil
		r.Policy = &p
	}
	return r
}

// publishHostAPI puts or removes a host's proxyless API listener.
func (e *Engine) publishHostAPI(host string, st *hostState) {
	var api *Resource
	if st != nil {
		api = st.api
	}
	if api != nil {
		e.grpc.put(KindListener, api)
	} else if host != "" && !isWildcard(host) {
		e.grpc.remove(KindListener, host)
	}
	e.syncUnresolved()
	e.implyServices(host, api)
}

// spec is the Envoy route: to the backend's cluster, or a 503 when the
// backend could not be resolved (a Gateway API rule's: 500).
func (r *httpRoute) spec() envoy.RouteSpec {
	s := envoy.RouteSpec{Name: r.origin.NamespacedName(), Exact: r.match.exact, Path: r.match.path, Cluster: r.cluster}
	if r.cluster == "" {
		s.Status = unavailable
		if r.gw != nil {
			s.Status = gatewayUnavailable
		}
	}
	s.Policy = r.routePolicy()
	return s
}

// guarded is the route inside the wildcard virtual host: it matches only
// names with exactly one label before the wildcard's suffix, or, inverted,
// only the deeper names that the wildcard must not take.
func (r *httpRoute) guarded(wildcard string, invert bool) envoy.RouteSpec {
	s := r.spec()
	if r.gw != nil && !invert { // a Gateway API wildcard takes names of any depth, as Envoy's does
		return s
	}
	s.AuthorityRegex, s.InvertAuthority = singleLabelRegex(wildcard), invert
	return s
}

func hostOrAny(host string) string {
	if host == "" {
		return "*"
	}
	return host
}

// routeConfigParts are what an encoded envoy.RouteConfiguration holds
// around its virtual hosts (field 2): its name before, and after them the
// table-wide fields, which are the same for every table. With a table per
// TLS host there are ten thousand tables to compose, so the tail is
// encoded once rather than from a message per table.
func routeConfigParts(name string) (head, tail []byte) {
	return protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), name), routeConfigTail
}

// routeConfigTail is the encoding of envoy.RouteConfiguration's fields
// after virtual_hosts; read-only.
var routeConfigTail = func() []byte {
	const name = "t"
	full, err := marshalOptions.Marshal(envoy.RouteConfiguration(name, nil))
	if err != nil {
		panic(fmt.Sprintf("encode route configuration tail: %v", err))
	}
	return slices.Clip(full[protowire.SizeTag(1)+protowire.SizeBytes(len(name)):])
}()

// composeRouteConfig encodes a route configuration from encoded virtual
// hosts: a repeated field's encoding is its elements' encodings in a row,
// so an Ingress change re-encodes one virtual host, not ten thousand. The
// bytes are those of encoding the whole message (a test holds them so).
func composeRouteConfig(name string, vhosts []*Resource) *Resource {
	t := routeTable{name: name}
	return t.compose(vhosts)
}

package translator

import (
	"fmt"
	"maps"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// Output is the engine's state after a Sync: the resources of the Envoy
// and the proxyless snapshots, and what is wrong with the input.
type Output struct {
	Envoy     *ResourceSet
	Proxyless *ResourceSet
	Problems  []Problem
	// Err is set when a built resource failed validation, which only a
	// translator bug can cause; such an Output must not be published.
	Err    error
	engine *Engine
}

// Output recomputes what the Syncs since the last Output touched and
// returns the state. The ResourceSets are the engine's own: read them
// before the next Sync.
func (e *Engine) Output() Output {
	if err := e.recompute(); err != nil {
		return Output{Envoy: e.envoy, Proxyless: e.grpc, Problems: e.problems(), Err: err, engine: e}
	}
	e.dirty = cleanDirty()
	return Output{Envoy: e.envoy, Proxyless: e.grpc, Problems: e.problems(), engine: e}
}

// recompute works through the dirty set in dependency order: the default
// backend and the catch-all's routes feed other hosts' virtual hosts; the
// claims decide the listeners, and the https claim the TLS; the route
// tables follow the virtual hosts; clusters follow their users.
func (e *Engine) recompute() error {
	gateways := e.dirty.gateway
	if gateways && e.refreshGateways() {
		e.dirty.claims = true
	}
	encodeAll := e.dirty.defaults && e.recomputeDefaults()
	hostlessChanged := false
	if e.dirty.hosts[""] {
		before := ownRoutes(e.hosts[""])
		e.recomputeHost("")
		hostlessChanged = !slices.EqualFunc(before, ownRoutes(e.hosts[""]), sameRoute)
	}
	hosts := make([]string, 0, len(e.dirty.hosts))
	for host := range e.dirty.hosts {
		if host != "" {
			hosts = append(hosts, host)
		}
	}
	e.recomputeHosts(hosts)
	encodedHosts := e.encodeHosts(encodeAll, hostlessChanged)
	e.rebuildHostAPIs(encodedHosts)
	encoded := len(encodedHosts) > 0 || len(e.dirty.hosts) > 0
	httpsWon := e.claims.httpsWon
	if e.dirty.claims {
		if err := e.recomputeClaims(); err != nil {
			return err
		}
	}
	if gateways || e.dirty.claims {
		if err := e.buildGateways(); err != nil {
			return err
		}
	}
	tlsMoved := e.dirty.tls || httpsWon != e.claims.httpsWon
	if tlsMoved {
		if err := e.recomputeTLS(); err != nil {
			return err
		}
	}
	if gateways || e.dirty.claims || tlsMoved {
		e.publishGatewayBuild()
		e.finishGatewayStatus()
	}
	e.rebuildGatewayAPIs()
	e.encodePlainHosts(encodedHosts, tlsMoved)
	if encoded || e.dirty.claims || e.dirty.tls {
		changed := encodedHosts
		for host := range e.dirty.hosts {
			if e.hosts[host] == nil {
				changed = append(changed, host) // removed: its table loses it
			}
		}
		e.composeRouteConfigs(changed)
	}
	if err := e.updateClusters(); err != nil {
		return err
	}
	if err := e.publishBackendSecrets(); err != nil {
		return err
	}
	return e.updateProxyless(slices.Collect(maps.Keys(e.dirty.services)))
}

func ownRoutes(st *hostState) []*httpRoute {
	if st == nil {
		return nil
	}
	return st.own
}

// encodeHosts encodes the virtual hosts that changed: the dirty hosts, the
// wildcards when the host-less routes they carry changed, all of them when
// the default backend changed. It returns the hosts it encoded.
func (e *Engine) encodeHosts(all, wildcards bool) []string {
	var todo []string
	if all || wildcards {
		for host := range e.hosts {
			if all || e.dirty.hosts[host] || (wildcards && isWildcard(host)) {
				todo = append(todo, host)
			}
		}
	} else {
		for host := range e.dirty.hosts { // a change costs its hosts, not a walk over all
			if e.hosts[host] != nil {
				todo = append(todo, host)
			}
		}
	}
	forEach(len(todo), func(i int) { e.encodeHost(todo[i], e.hosts[todo[i]]) })
	for _, host := range todo {
		e.publishHostAPI(host, e.hosts[host])
	}
	return todo
}

// composeRouteConfigs rebuilds the http table (every virtual host, while
// the http listener exists, in its plain-HTTP form where it redirects,
// and last the shared redirect virtual host of the redirect-only hosts) and
// the tables of the https listener's chains (the hosts with a certificate,
// while the https listener exists; httpstables.go), where changed hosts'
// virtual hosts moved.
func (e *Engine) composeRouteConfigs(changed []string) {
	if e.claims.httpWon {
		states := e.hostTable()
		// Gathered into scratch lists kept across changes: a change that
		// leaves every part as it was (a path on a redirecting host)
		// then allocates nothing here, at 100k hosts as at 10k.
		all, redirectOnly := e.httpScratch.parts[:0], e.httpScratch.redirectOnly[:0]
		for i, st := range states {
			switch {
			case st == nil || st.vhost == nil:
			case st.form == plainFormRedirect:
				redirectOnly = append(redirectOnly, e.hostOrder[i])
			case st.plain != nil:
				all = append(all, st.plain)
			default:
				all = append(all, st.vhost)
			}
		}
		if vh := e.redirectHosts.virtualHost(redirectOnly, uint32(e.opts.HTTPSPort)); vh != nil {
			all = append(all, vh)
		}
		e.httpScratch.parts, e.httpScratch.redirectOnly = all, redirectOnly
		table := e.httpTable.res
		if table == nil || !slices.Equal(all, e.httpTable.parts) {
			table = e.httpTable.compose(slices.Clone(all))
		}
		e.envoy.put(KindRoute, table)
	} else {
		e.envoy.remove(KindRoute, envoy.HTTPRouteConfig)
	}
	e.composeHTTPSTables(changed)
}

// problems gathers every piece's Problems, sorted.
func (e *Engine) problems() []Problem {
	ps := problems(e.ingressConflicts())
	for _, p := range e.problemSlots {
		ps = append(ps, p...)
	}
	return ps.sorted()
}

// Admitted lists the objects that hold a listener, sorted.
func (o Output) Admitted() Admitted {
	e := o.engine
	a := Admitted{Services: slices.Clone(e.claims.services)}
	for _, st := range e.ingresses {
		if st.served && e.claims.admitted(st) {
			a.Ingresses = append(a.Ingresses, st.ref)
		}
	}
	a.sort()
	return a
}

// Gateway is the status of fairway's Gateway API objects as this round
// built it, for the status writer; it is the engine's, read-only.
func (o Output) Gateway() gatewayapi.Status {
	if o.engine == nil {
		return gatewayapi.Status{}
	}
	return o.engine.gw.status
}

// Result decodes the Output into Envoy messages, sorted by name: the form
// `fairway translate`, the goldens and the debug endpoint print.
func (o Output) Result() Result {
	res := Result{
		Listeners: decodeAll(o.Envoy, KindListener, func() *listenerv3.Listener { return &listenerv3.Listener{} }),
		Routes:    decodeAll(o.Envoy, KindRoute, func() *routev3.RouteConfiguration { return &routev3.RouteConfiguration{} }),
		Clusters:  decodeAll(o.Envoy, KindCluster, func() *clusterv3.Cluster { return &clusterv3.Cluster{} }),
		Endpoints: decodeAll(o.Envoy, KindEndpoint, func() *endpointv3.ClusterLoadAssignment { return &endpointv3.ClusterLoadAssignment{} }),
		Secrets:   decodeAll(o.Envoy, KindSecret, func() *tlsv3.Secret { return &tlsv3.Secret{} }),
		Proxyless: Proxyless{
			Listeners: decodeAll(o.Proxyless, KindListener, func() *listenerv3.Listener { return &listenerv3.Listener{} }),
			Clusters:  decodeAll(o.Proxyless, KindCluster, func() *clusterv3.Cluster { return &clusterv3.Cluster{} }),
			Endpoints: decodeAll(o.Proxyless, KindEndpoint, func() *endpointv3.ClusterLoadAssignment { return &endpointv3.ClusterLoadAssignment{} }),
		},
		Problems: o.Problems,
		Admitted: o.Admitted(),
		Gateway:  o.Gateway(),
		err:      o.Err,
	}
	return res
}

// Decode turns encoded resources (by kind, sorted) back into a Result's
// messages: for the debug endpoint, which reads what is being served.
func Decode(envoy, proxyless [NumKinds][]*Resource) Result {
	return Result{
		Listeners: decodeList(envoy[KindListener], func() *listenerv3.Listener { return &listenerv3.Listener{} }),
		Routes:    decodeList(envoy[KindRoute], func() *routev3.RouteConfiguration { return &routev3.RouteConfiguration{} }),
		Clusters:  decodeList(envoy[KindCluster], func() *clusterv3.Cluster { return &clusterv3.Cluster{} }),
		Endpoints: decodeList(envoy[KindEndpoint], func() *endpointv3.ClusterLoadAssignment { return &endpointv3.ClusterLoadAssignment{} }),
		Secrets:   decodeList(envoy[KindSecret], func() *tlsv3.Secret { return &tlsv3.Secret{} }),
		Proxyless: Proxyless{
			Listeners: decodeList(proxyless[KindListener], func() *listenerv3.Listener { return &listenerv3.Listener{} }),
			Clusters:  decodeList(proxyless[KindCluster], func() *clusterv3.Cluster { return &clusterv3.Cluster{} }),
			Endpoints: decodeList(proxyless[KindEndpoint], func() *endpointv3.ClusterLoadAssignment { return &endpointv3.ClusterLoadAssignment{} }),
		},
	}
}

func decodeAll[M proto.Message](s *ResourceSet, k Kind, newM func() M) []M {
	return decodeList(s.Sorted(k), newM)
}

func decodeList[M proto.Message](sorted []*Resource, newM func() M) []M {
	out := make([]M, 0, len(sorted))
	for _, r := range sorted {
		m := newM()
		if err := proto.Unmarshal(r.Bytes, m); err != nil {
			panic(fmt.Sprintf("decode %T %s: %v", m, r.Name, err)) // bytes this package encoded
		}
		out = append(out, m)
	}
	return out
}

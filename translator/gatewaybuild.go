package translator

import (
	"slices"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// gatewayBuild is one build of the Gateways' resources, and the virtual
// hosts it built or kept (gatewayvhosts.go).
type gatewayBuild struct {
	e      *Engine
	t      *translation
	next   [NumKinds]map[string]*Resource
	vhosts map[vhostKey]*builtVHost
	apis   []gatewayAPI
}

func (b *gatewayBuild) put(k Kind, r *Resource) { b.next[k][r.Name] = r }

// buildGateways builds the listeners, route configurations and
// certificates of every Gateway port that holds its claim, and the status
// the Gateways and routes get. They are published once the https
// listener has settled its names (publishGatewayBuild).
func (e *Engine) buildGateways() error {
	b := &gatewayBuild{e: e, t: e.scope(), vhosts: map[vhostKey]*builtVHost{}}
	for k := range b.next {
		b.next[k] = map[string]*Resource{}
	}
	st := newGatewayStatus(e.gw.model.Status)
	for _, gp := range e.gw.ports {
		switch {
		case gp.claim == nil:
			f := e.gw.failed[gp.gw]
			st.portNotProgrammed(gp, gatewayv1.ListenerReasonPending, "no address: "+f.message)
			st.gatewayNotProgrammed(gp.gw, f.condition(), f.message)
			b.t.problems.add(gp.ref, f.reason, "no address for the listeners on port %d: %s", gp.port, f.message)
		case !gp.claim.won():
			st.portNotProgrammed(gp, gatewayv1.ListenerReasonPortUnavailable, gp.claim.conflictMessage())
			b.t.problems.add(gp.ref, PortConflict, "%s", gp.claim.conflictMessage())
		default:
			if err := b.port(gp); err != nil {
				return err
			}
			if gp.address != "" {
				st.address(gp.gw, gp.address)
			}
		}
	}
	e.sharedStatus(st)
	e.gw.base = st.done()
	e.setSharedTLS(b.sharedTLSListeners()) // before the clusters are taken: it takes its own out
	e.gw.own, e.gw.ownClusters, e.gw.ownAPIs = b.next, b.t.clusters, b.apis
	e.setProblems(slot{piece: slotGateway}, b.t.problems)
	e.gw.vhosts = b.vhosts
	return nil
}

// port builds one Gateway port's listener and what it names.
func (b *gatewayBuild) port(gp *gatewayPort) error {
	name := envoy.GatewayListenerName(gp.gw.Namespace, gp.gw.Name, gp.port, gp.udp)
	address := gp.address
	if address == "" {
		address = b.e.opts.ListenAddress
	}
	switch gp.listeners[0].Protocol {
	case gatewayv1.HTTPProtocolType:
		return b.httpPort(gp, name, address)
	case gatewayv1.HTTPSProtocolType, gatewayv1.TLSProtocolType:
		return b.tlsPort(gp, name, address)
	default:
		return b.streamPort(gp, name, address)
	}
}

// httpPort is a Gateway's plain-HTTP listeners on one port: one Envoy
// listener, one route configuration, a virtual host per hostname.
func (b *gatewayBuild) httpPort(gp *gatewayPort, name, address string) error {
	rc := envoy.GatewayRouteConfigName(gp.gw.Namespace, gp.gw.Name, gp.port, "")
	b.put(KindRoute, composeRouteConfig(rc, b.virtualHosts(gp.port, gp.listeners, gp.listeners)))
	l := envoy.HTTPListener(name, address, uint32(gp.port), rc, b.e.logs.HTTP, b.e.opts.clientAddress())
	if gp.address != "" {
		envoy.Freebind(l)
	}
	r, err := encode(name, l, []Ref{{KindRoute, rc}})
	if err != nil {
		return err
	}
	b.put(KindListener, r)
	return nil
}

// virtualHosts are the encoded virtual hosts of the rules of listeners,
// one per hostname, sorted. A rule is served for a hostname only by the
// most specific listener of the port that takes the name (peers), as the
// Gateway API's listener isolation says: a request for a name one
// listener names never reaches the routes of a wildcard or hostname-less
// listener beside it.
//
// Each exact hostname's table is also kept for proxyless clients, under
// <host>:<port> (gatewayproxyless.go); port 0 keeps none.
func (b *gatewayBuild) virtualHosts(port int32, listeners, peers []*gatewayapi.Listener) []*Resource {
	type served struct {
		l     *gatewayapi.Listener
		rules []*gatewayapi.HTTPRule
	}
	var all []served
	byDomain := map[string]int{} // into all
	for _, l := range listeners {
		for _, rule := range l.HTTP {
			for _, host := range ruleHosts(rule, l) {
				if mostSpecific(host, peers) != l {
					continue
				}
				i, ok := byDomain[host]
				if !ok {
					i = len(all)
					byDomain[host] = i
					all = append(all, served{l: l})
				}
				all[i].rules = append(all[i].rules, rule)
			}
		}
	}
	domains := slices.Sorted(func(yield func(string) bool) {
		for d := range byDomain {
			if !yield(d) {
				return
			}
		}
	})
	out := make([]*Resource, 0, len(domains))
	for _, d := range domains {
		sv := all[byDomain[d]]
		if v := b.virtualHost(d, sv.l, sv.rules); v.res != nil {
			out = append(out, v.res)
			b.noteAPI(sv.l, port, d, v.specs, v.plains)
		}
	}
	return out
}

// ruleHosts are the virtual host domains a rule is served under on l:
// its hostnames, else the listener's, else any ("*").
func ruleHosts(rule *gatewayapi.HTTPRule, l *gatewayapi.Listener) []string {
	switch {
	case len(rule.Hostnames) > 0:
		return rule.Hostnames
	case l.Hostname != "":
		return []string{l.Hostname}
	}
	return []string{"*"}
}

// mostSpecific is the listener among peers whose hostname takes host
// most specifically: an exact name, then the longest wildcard, then
// none; nil when none takes it.
func mostSpecific(host string, peers []*gatewayapi.Listener) *gatewayapi.Listener {
	var best *gatewayapi.Listener
	bestRank := -1
	for _, l := range peers {
		rank := hostnameRank(l.Hostname, host)
		if rank > bestRank {
			best, bestRank = l, rank
		}
	}
	return best
}

// hostnameRank is how specifically a listener hostname takes a virtual
// host domain: -1 not at all, 0 a listener without hostname, then
// wildcards by length, and an exact name above every wildcard.
func hostnameRank(listener, host string) int {
	switch {
	case listener == "":
		return 0
	case listener == host:
		return 1 << 20
	case strings.HasPrefix(listener, "*."):
		suffix := listener[1:]
		if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
			return len(listener)
		}
	}
	return -1
}

// routeRefs are the clusters a route names: its cluster, and a Gateway
// route's weighted clusters and mirrors, counted as a host's are.
func routeRefs(s envoy.RouteSpec) []Ref {
	var t hostRoutes
	if s.Cluster != "" {
		t.refs = append(t.refs, Ref{Kind: KindCluster, Name: s.Cluster})
	}
	t.addGatewayRefs(s)
	return append(t.refs, t.authRefs...)
}

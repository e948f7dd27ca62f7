package translator

import (
	"reflect"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// A Gateway without an address of its own (no pool) listens on the
// fleet's addresses. Its HTTP listeners on the fleet's http port are
// served by the Ingress http listener itself: their rules join the
// Ingress routes of the same hosts in one route table, by one rule. Per
// host, routes are ordered by precedence (the longest path first, and so
// on); two routes with the same match go to the older object, Ingress or
// HTTPRoute alike, and the newer gets a DuplicatePath Problem.

// sharesHTTP reports whether a listener is served by the Ingress http
// listener.
func (e *Engine) sharesHTTP(l *gatewayapi.Listener) bool {
	return !l.Dedicated && l.Protocol == gatewayv1.HTTPProtocolType && l.Port == e.opts.HTTPPort
}

// sharedRules are the rules of the listeners that share the http
// listener, by host key: "" for rules served under any name, else the
// exact or wildcard name. A name is served by the most specific listener
// that takes it (listener isolation).
func (e *Engine) sharedRules(ls []*gatewayapi.Listener) map[string][]listenerRule {
	var out map[string][]listenerRule
	for at, l := range ls {
		for _, rule := range l.HTTP {
			for _, host := range ruleHosts(rule, l) {
				if mostSpecific(host, ls) != l {
					continue
				}
				if host == "*" {
					host = ""
				}
				if out == nil {
					out = map[string][]listenerRule{}
				}
				out[host] = append(out[host], listenerRule{l, rule, at})
			}
		}
	}
	return out
}

// setSharedRules replaces the shared rules, marking the hosts whose rules
// changed. The front end's Resolver hands back the same HTTPRule for a
// route it did not lower again, so rules are compared by pointer first,
// and by content only where a route changed.
func (e *Engine) setSharedRules(next map[string][]listenerRule) {
	for host, rules := range e.gw.shared {
		if !sameRules(rules, next[host]) {
			e.dirty.hosts[host] = true
		}
	}
	for host := range next {
		if _, ok := e.gw.shared[host]; !ok {
			e.dirty.hosts[host] = true
		}
	}
	e.gw.shared = next
}

// listenerRule is a rule with the listener it is served on, whose port
// and protocol its redirects follow, and at, the listener's place among
// the shared ones: a host's rules are in that order, then in precedence
// order.
type listenerRule struct {
	l    *gatewayapi.Listener
	rule *gatewayapi.HTTPRule
	at   int
}

func compareListenerRules(a, b listenerRule) int {
	if a.at != b.at {
		return a.at - b.at
	}
	return gatewayapi.ComparePrecedence(a.rule, b.rule)
}

func sameRules(a, b []listenerRule) bool {
	return slices.EqualFunc(a, b, func(x, y listenerRule) bool {
		return x.l.Port == y.l.Port && x.l.Protocol == y.l.Protocol && (x.rule == y.rule || reflect.DeepEqual(x.rule, y.rule))
	})
}

// mergeGatewayRules adds a host's shared Gateway rules to the Ingress
// routes it won (own), settling equal matches by age. It returns the
// routes, unsorted.
func (e *Engine) mergeGatewayRules(t *translation, host string, own []*httpRoute) []*httpRoute {
	own = slices.Grow(own, len(e.gw.shared[host]))
	for _, lr := range e.gw.shared[host] {
		rule := lr.rule
		g := t.gatewayRouteOn(host, lr.l, rule)
		if g == nil {
			continue
		}
		i := slices.IndexFunc(own, func(r *httpRoute) bool { return r.key() == g.key() })
		if i < 0 {
			own = append(own, g)
			continue
		}
		prev := own[i]
		if e.routeAge(prev, g) <= 0 {
			t.problems.add(g.origin, DuplicatePath, "rule %d: host %q has this match already, routed by %s, which is older", rule.Rule, hostOrAny(host), prev.origin)
			continue
		}
		t.problems.add(prev.origin, DuplicatePath, "%s: host %q has this match already, routed by %s, which is older", prev.field, hostOrAny(host), g.origin)
		own[i] = g
	}
	return own
}

// routeAge orders two routes' objects by age, oldest first.
func (e *Engine) routeAge(a, b *httpRoute) int {
	ma, mb := e.originMeta(a.origin), e.originMeta(b.origin)
	if ma == nil || mb == nil {
		return compareRefs(a.origin, b.origin)
	}
	return compareAge(ma, mb)
}

// refreshShared recomputes the shared rules and the Gateways that date the
// http claim and the https claim (the oldest with a listener the Ingress
// https listener serves); it reports whether either changed.
func (e *Engine) refreshShared() bool {
	var ls []*gatewayapi.Listener
	var oldest *gatewayv1.Gateway
	for _, l := range e.gw.model.Listeners {
		if !e.sharesHTTP(l) {
			continue
		}
		ls = append(ls, l)
		gw := e.gw.objs.gateways[nsName{l.Gateway.Namespace, l.Gateway.Name}]
		if gw != nil && (oldest == nil || compareAge(&gw.ObjectMeta, &oldest.ObjectMeta) < 0) {
			oldest = gw
		}
	}
	if d, ok := diffShared(e.gw.sharedOn, ls); ok {
		e.updateSharedHosts(ls, d)
	} else {
		e.setSharedRules(e.sharedRules(ls))
	}
	e.gw.sharedOn = ls
	var oldestTLS *gatewayv1.Gateway
	for _, l := range e.gw.model.Listeners {
		gw := e.gw.objs.gateways[nsName{l.Gateway.Namespace, l.Gateway.Name}]
		if gw != nil && e.sharesTLSPort(l) && (oldestTLS == nil || compareAge(&gw.ObjectMeta, &oldestTLS.ObjectMeta) < 0) {
			oldestTLS = gw
		}
	}
	changed := oldest != e.gw.sharedSince || oldestTLS != e.gw.sharedTLSSince
	e.gw.sharedSince, e.gw.sharedTLSSince = oldest, oldestTLS
	return changed
}

// sharedNotProgrammed marks the shared listeners not programmed while the
// http listener's claim is lost.
func (e *Engine) sharedStatus(st *gatewayStatus) {
	if e.claims.httpWon {
		return
	}
	msg := "the fleet's http listener is not served"
	if c := e.claims.httpClaim; c != nil && c.heldBy != nil {
		msg = c.conflictMessage()
	}
	for _, l := range e.gw.model.Listeners {
		if !e.sharesHTTP(l) {
			continue
		}
		if gw := e.gw.objs.gateways[nsName{l.Gateway.Namespace, l.Gateway.Name}]; gw != nil {
			st.portNotProgrammed(&gatewayPort{gw: gw, listeners: []*gatewayapi.Listener{l}}, gatewayv1.ListenerReasonPortUnavailable, msg)
		}
	}
}

// originMeta is the metadata of a route's object: an Ingress, or an
// HTTPRoute or GRPCRoute; nil when it is gone.
func (e *Engine) originMeta(ref ObjectRef) *metav1.ObjectMeta {
	k := nsName{ref.Namespace, ref.Name}
	switch ref.Kind {
	case "Ingress":
		if st := e.ingresses[k]; st != nil {
			return &st.obj.ObjectMeta
		}
	case "HTTPRoute":
		if r := e.gw.objs.http[k]; r != nil {
			return &r.ObjectMeta
		}
	case "GRPCRoute":
		if r := e.gw.objs.grpc[k]; r != nil {
			return &r.ObjectMeta
		}
	}
	return nil
}

// sharedDiff is what a resolve changed in the shared listeners' rules:
// the rules that went, those that came, and the host keys of either.
type sharedDiff struct {
	gone    map[*gatewayapi.HTTPRule]bool
	added   map[string][]listenerRule
	touched map[string]bool
}

// diffShared compares the shared listeners' rules of two resolves, when
// the listeners are the same but for their rules: the rules that are not
// the same pointers in the same order went or came (both lists are in
// precedence order, and the front end's Resolver keeps an unchanged
// route's rules). ok is false when a listener came, went or changed, and
// every host must be recomputed.
func diffShared(prev, next []*gatewayapi.Listener) (d sharedDiff, ok bool) {
	if len(prev) != len(next) {
		return d, false
	}
	for i := range next {
		if !sameListener(prev[i], next[i]) {
			return d, false
		}
	}
	d = sharedDiff{gone: map[*gatewayapi.HTTPRule]bool{}, added: map[string][]listenerRule{}, touched: map[string]bool{}}
	for at, l := range next {
		a, b := prev[at].HTTP, l.HTTP
		for x, y := 0, 0; x < len(a) || y < len(b); {
			switch {
			case x < len(a) && y < len(b) && a[x] == b[y]:
				x, y = x+1, y+1
			case y == len(b) || (x < len(a) && gatewayapi.ComparePrecedence(a[x], b[y]) < 0):
				d.gone[a[x]] = true
				for _, host := range ruleHosts(a[x], l) {
					d.touched[hostKey(host)] = true
				}
				x++
			default:
				for _, host := range ruleHosts(b[y], l) {
					if mostSpecific(host, next) == l {
						d.added[hostKey(host)] = append(d.added[hostKey(host)], listenerRule{l, b[y], at})
					}
					d.touched[hostKey(host)] = true
				}
				y++
			}
		}
	}
	return d, true
}

// hostKey is a virtual host domain as the shared rules key it: "" for
// any name.
func hostKey(host string) string {
	if host == "*" {
		return ""
	}
	return host
}

// sameListener compares two listeners but for their rules.
func sameListener(a, b *gatewayapi.Listener) bool {
	x, y := *a, *b
	x.HTTP, x.Streams, y.HTTP, y.Streams = nil, nil, nil, nil
	return reflect.DeepEqual(x, y)
}

// updateSharedHosts recomputes the shared rules of the touched hosts
// alone, from their last rules and the diff, marking those whose rules
// changed: a change of one route among 10k walks its own hosts, not
// every rule. The kept rules keep the listeners they were placed with,
// which equal ls's but for rules.
func (e *Engine) updateSharedHosts(ls []*gatewayapi.Listener, d sharedDiff) {
	if len(d.touched) == 0 {
		return
	}
	if e.gw.shared == nil {
		e.gw.shared = map[string][]listenerRule{}
	}
	for host := range d.touched {
		var rules []listenerRule
		for _, lr := range e.gw.shared[host] {
			if !d.gone[lr.rule] {
				rules = append(rules, lr)
			}
		}
		rules = append(rules, d.added[host]...)
		slices.SortStableFunc(rules, compareListenerRules)
		if !sameRules(e.gw.shared[host], rules) {
			e.dirty.hosts[host] = true
		}
		if len(rules) > 0 {
			e.gw.shared[host] = rules
		} else {
			delete(e.gw.shared, host)
		}
	}
}

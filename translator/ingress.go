package translator

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
)

// httpRoute is one Ingress path that won its (host, path): the unit from
// which virtual hosts are assembled.
type httpRoute struct {
	host   string // "" for a rule without host
	match  pathMatch
	origin ObjectRef
	field  string // where in the Ingress it came from, for messages
	// cluster is the backend's cluster; empty means answer 503.
	cluster string
}

// pathSpec is a parsed, valid Ingress path, before duplicates are settled.
type pathSpec struct {
	match   pathMatch
	field   string
	backend networkingv1.IngressBackend
}

// ingressState is an Ingress as the engine keeps it: parsed once per
// object, its paths grouped by host ("" for rules without one).
type ingressState struct {
	obj      *networkingv1.Ingress
	ref      ObjectRef
	served   bool
	byHost   map[string][]pathSpec
	problems []Problem // of the parse: InvalidHost, InvalidPath
}

func (st *ingressState) hasTLS() bool     { return st != nil && len(st.obj.Spec.TLS) > 0 }
func (st *ingressState) hasDefault() bool { return st != nil && st.obj.Spec.DefaultBackend != nil }

// parseIngress validates an Ingress's hosts and paths once.
func parseIngress(ing *networkingv1.Ingress, served bool) *ingressState {
	st := &ingressState{
		obj:    ing,
		ref:    ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name},
		served: served,
		byHost: map[string][]pathSpec{},
	}
	if !served {
		return st
	}
	var ps problems
	for ri, rule := range ing.Spec.Rules {
		if rule.Host != "" {
			if err := validateHost(rule.Host); err != nil {
				ps.add(st.ref, InvalidHost, "spec.rules[%d].host: %v", ri, err)
				continue
			}
		}
		if rule.HTTP == nil {
			continue
		}
		for pi, p := range rule.HTTP.Paths {
			field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", ri, pi)
			m, err := parsePath(p)
			if err != nil {
				ps.add(st.ref, InvalidPath, "%s: %v", field, err)
				continue
			}
			st.byHost[rule.Host] = append(st.byHost[rule.Host], pathSpec{match: m, field: field, backend: p.Backend})
		}
	}
	st.problems = ps
	return st
}

// ingressChanged re-parses an Ingress and marks what it touched: the hosts
// it had and has, the host-less rules' dependants, the default backend, TLS
// and the port claims.
func (e *Engine) ingressChanged(k nsName, old, ing *networkingv1.Ingress) {
	prev := e.ingresses[k]
	var next *ingressState
	if ing != nil {
		next = parseIngress(ing, e.ours.serves(ing))
		e.ingresses[k] = next
	} else {
		delete(e.ingresses, k)
	}
	e.contribute(k, prev, false)
	e.contribute(k, next, true)
	var ps []Problem
	if next != nil {
		ps = next.problems
	}
	e.setProblems(slot{slotIngress, k.namespace, k.name}, ps)
	if prev.hasDefault() || next.hasDefault() {
		e.dirty.defaults = true
	}
	if prev.hasTLS() || next.hasTLS() {
		e.dirty.tls = true
	}
	if e.claimsAffected(prev, next) {
		e.dirty.claims = true
	}
}

// contribute adds or removes an Ingress's hosts from the host index and
// marks them dirty.
func (e *Engine) contribute(k nsName, st *ingressState, add bool) {
	if st == nil || !st.served {
		return
	}
	for host := range st.byHost {
		e.dirty.hosts[host] = true
		if add {
			if e.contrib[host] == nil {
				e.contrib[host] = map[nsName]*ingressState{}
			}
			e.contrib[host][k] = st
		} else {
			delete(e.contrib[host], k)
			if len(e.contrib[host]) == 0 {
				delete(e.contrib, host)
			}
		}
	}
}

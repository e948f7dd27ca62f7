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

// routeKey is what two Ingresses must not both claim.
type routeKey struct {
	host  string
	match pathMatch
}

// routeClaim remembers who won a routeKey, for the loser's message.
type routeClaim struct {
	route   *httpRoute
	backend networkingv1.IngressBackend
	ns      string
}

// ingressRoutes gathers the rules of the served Ingresses (oldest first) and
// settles duplicates: a (host, path) goes to the first, that is the oldest,
// Ingress that asks for it, and later ones get a DuplicatePath Problem. The
// same happens to defaultBackend. Backends are resolved only for winners, so
// a losing rule never creates a cluster.
func (t *translation) ingressRoutes(served []*networkingv1.Ingress) (routes []*httpRoute, defaultRoute *httpRoute) {
	won := map[routeKey]*routeClaim{}
	var order []*routeClaim
	var def *routeClaim
	for _, ing := range served {
		ref := ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
		if b := ing.Spec.DefaultBackend; b != nil {
			if def == nil {
				def = &routeClaim{route: &httpRoute{match: pathMatch{path: "/"}, origin: ref, field: "spec.defaultBackend"}, backend: *b, ns: ing.Namespace}
			} else {
				t.problems.add(ref, DefaultBackendConflict, "spec.defaultBackend is ignored: Ingress %s, which is older, already sets the default backend", def.route.origin.NamespacedName())
			}
		}
		for ri, rule := range ing.Spec.Rules {
			if rule.Host != "" {
				if err := validateHost(rule.Host); err != nil {
					t.problems.add(ref, InvalidHost, "spec.rules[%d].host: %v", ri, err)
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
					t.problems.add(ref, InvalidPath, "%s: %v", field, err)
					continue
				}
				key := routeKey{host: rule.Host, match: m}
				if prev, ok := won[key]; ok {
					t.problems.add(ref, DuplicatePath, "%s: host %q path %s is already routed by %s of Ingress %s, which is older",
						field, hostOrAny(rule.Host), m, prev.route.field, prev.route.origin.NamespacedName())
					continue
				}
				c := &routeClaim{route: &httpRoute{host: rule.Host, match: m, origin: ref, field: field}, backend: p.Backend, ns: ing.Namespace}
				won[key] = c
				order = append(order, c)
			}
		}
	}
	routes = make([]*httpRoute, 0, len(order))
	for _, c := range order {
		c.route.cluster = t.resolveBackend(c.route.origin, c.route.field+".backend", c.ns, c.backend)
		routes = append(routes, c.route)
	}
	if def != nil {
		def.route.cluster = t.resolveBackend(def.route.origin, def.route.field, def.ns, def.backend)
		defaultRoute = def.route
	}
	return routes, defaultRoute
}

func hostOrAny(host string) string {
	if host == "" {
		return "*"
	}
	return host
}

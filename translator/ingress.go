package translator

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/translator/annotations"
	"github.com/fairwayhq/fairway/translator/policy"
)

// httpRoute is one Ingress path that won its (host, path): the unit from
// which virtual hosts are assembled.
type httpRoute struct {
	host   string // "" for a rule without host
	match  pathMatch
	origin ObjectRef
	field  fieldPath // where in the Ingress it came from, for messages
	// cluster is the backend's cluster; empty means answer 503.
	cluster string
	// plain is the backend's plain cluster when cluster is a variant of
	// it (another protocol or balance), for proxyless clients, which
	// have only the plain clusters; else "".
	plain string
	// policy is its Ingress's annotations, parsed; nil for none.
	policy *policy.Route
	// canary is the canary Ingress's backend added to it; nil for none.
	canary *canaryRoute
	// auth is the cluster of its auth service (auth-url); "" for none.
	auth string
	// gw is what a Gateway API rule's route has besides
	// (gatewayroute.go); nil for an Ingress path.
	gw *gatewayParts
}

// pathSpec is a parsed, valid Ingress path, before duplicates are settled.
type pathSpec struct {
	match   pathMatch
	field   fieldPath
	backend networkingv1.IngressBackend
}

// fieldPath is where a path or backend is in its Ingress, spelled out only
// when a message needs it: most paths never make one.
type fieldPath struct {
	rule, path int32
	isDefault  bool // spec.defaultBackend
	// gateway: a Gateway API route's spec.rules[rule].matches[path].
	gateway bool
}

func (f fieldPath) String() string {
	if f.isDefault {
		return "spec.defaultBackend"
	}
	if f.gateway {
		return fmt.Sprintf("spec.rules[%d].matches[%d]", f.rule, f.path)
	}
	return fmt.Sprintf("spec.rules[%d].http.paths[%d]", f.rule, f.path)
}

// backend is the field of the path's backend.
func (f fieldPath) backend() backendField { return backendField{f} }

// backendField is the backend's field: the path's plus ".backend".
type backendField struct{ path fieldPath }

func (f backendField) String() string {
	if f.path.isDefault {
		return f.path.String()
	}
	return f.path.String() + ".backend"
}

// ingressState is an Ingress as the engine keeps it: parsed once per
// object, its paths grouped by host ("" for rules without one).
type ingressState struct {
	obj      *networkingv1.Ingress
	ref      ObjectRef
	served   bool        // ours, and within the Limits
	ours     bool        // of fairway's IngressClass
	hosts    []hostPaths // usually one; a slice costs less than a map
	problems []Problem   // of the parse: ObjectTooLarge, *Annotation, InvalidHost, InvalidPath
	// policy is what the annotations ask of every route of the Ingress;
	// nil when it has none.
	policy *policy.Route
	// wwwHosts are the names this Ingress answers with a redirect to
	// their www-less or www form (from-to-www-redirect), unless another
	// Ingress serves them.
	wwwHosts []string
	// passthrough are the hosts of a passthrough Ingress with their
	// backends, and passSources the client ranges its chains admit
	// (passthrough.go); such an Ingress has no paths.
	passthrough []passHost
	passSources []string
}

type hostPaths struct {
	host  string
	paths []pathSpec
}

// paths are the Ingress's valid paths for host, in rule and path order.
func (st *ingressState) paths(host string) []pathSpec {
	for _, h := range st.hosts {
		if h.host == host {
			return h.paths
		}
	}
	return nil
}

func (st *ingressState) addPath(host string, p pathSpec) {
	for i := range st.hosts {
		if st.hosts[i].host == host {
			st.hosts[i].paths = append(st.hosts[i].paths, p)
			return
		}
	}
	st.hosts = append(st.hosts, hostPaths{host: host, paths: []pathSpec{p}})
}

// hasTLS: the Ingress needs the https listener, to terminate TLS or to
// pass it through.
func (st *ingressState) hasTLS() bool {
	return st != nil && (len(st.obj.Spec.TLS) > 0 || len(st.passthrough) > 0)
}

// hasDefault: the Ingress's defaultBackend serves plain and terminated
// requests; a passthrough Ingress's is its hosts' backend, not that.
func (st *ingressState) hasDefault() bool {
	return st != nil && st.obj.Spec.DefaultBackend != nil && !st.isPassthrough()
}

// parseIngress validates an Ingress's hosts and paths once. An Ingress
// over the Limits is not served at all. A wildcard host whose single-label
// check Envoy would refuse as too large a regex is dropped with its rule:
// served, it would get the whole route table rejected.
func parseIngress(ing *networkingv1.Ingress, ours bool, opts *Options, secrets map[nsName]*corev1.Secret) *ingressState {
	st := &ingressState{
		obj:  ing,
		ref:  ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name},
		ours: ours,
	}
	if !ours {
		return st
	}
	var ps problems
	if msg := opts.Limits.ingressTooLarge(ing); msg != "" {
		ps.add(st.ref, ObjectTooLarge, "%s", msg)
		st.problems = ps
		return st
	}
	if !st.parseAnnotations(&ps) || !st.resolveBasicAuth(&ps, secrets) {
		st.problems = ps
		return st
	}
	if st.isPassthrough() {
		st.served = st.parsePassthrough(&ps)
		st.problems = ps
		return st
	}
	if clientCertHostless(st) {
		ps.add(st.ref, ClientCertUnavailable, "metadata.annotations[%s]: the Ingress has a rule or default backend without a host, which no TLS handshake can check client certificates for; the Ingress is not served", st.clientCertKey())
		st.problems = ps
		return st
	}
	if msg := opts.Limits.aliasesTooLarge(ing, st.policy); msg != "" {
		ps.add(st.ref, ObjectTooLarge, "%s", msg)
		st.problems = ps
		return st
	}
	st.served = true
	regexLimit := opts.RegexProgramSizeLimit
	regex := st.policy != nil && st.policy.Match.Regex
	for ri, rule := range ing.Spec.Rules {
		if rule.Host != "" {
			if err := validateHost(rule.Host); err != nil {
				ps.add(st.ref, InvalidHost, "spec.rules[%d].host: %v", ri, err)
				continue
			}
			if isWildcard(rule.Host) {
				if err := checkRegexSize(singleLabelRegex(rule.Host), regexLimit); err != nil {
					ps.add(st.ref, RegexTooLarge, "spec.rules[%d].host: %q: %v; the rule is not served", ri, rule.Host, err)
					continue
				}
			}
		}
		if rule.HTTP != nil {
			st.parsePaths(&ps, ri, rule, regex, regexLimit)
		}
	}
	st.addHostNames(&ps, regexLimit)
	st.problems = ps
	return st
}

// parsePaths adds a rule's valid paths; an invalid one is a Problem and
// is not served. With regex, a path whose regex Envoy would refuse (too
// large, or short of the rewrite's capture groups) is not served either.
func (st *ingressState) parsePaths(ps *problems, ri int, rule networkingv1.IngressRule, regex bool, regexLimit int) {
	for pi, p := range rule.HTTP.Paths {
		field := fieldPath{rule: int32(ri), path: int32(pi)}
		m, err := parsePath(p, regex)
		if err != nil {
			ps.add(st.ref, InvalidPath, "%s: %v", field, err)
			continue
		}
		if m.regex {
			if reason, err := checkRegexRoute(m, st.policy, regexLimit); err != nil {
				ps.add(st.ref, reason, "%s: %v; the path is not served", field, err)
				continue
			}
		}
		st.addPath(rule.Host, pathSpec{match: m, field: field, backend: p.Backend})
	}
}

// parseAnnotations reads the Ingress's annotations into its policy and
// reports each one not honoured as written. It returns false when one of
// them blocks the Ingress (a refused annotation, or a malformed access
// guard): serving it would open what its author closed.
func (st *ingressState) parseAnnotations(ps *problems) bool {
	pol, found := annotations.Parse(st.obj.Annotations)
	served := true
	for _, f := range found {
		ps.add(st.ref, annotationReasons[f.Kind], "metadata.annotations[%s]: %s", f.Key, f.Message)
		served = served && !f.Blocks
	}
	st.policy = pol
	if st.isCanary() && !st.isPassthrough() { // passthrough reports them its own way
		st.canaryIgnored(ps)
	}
	return served
}

var annotationReasons = map[annotations.Kind]Reason{
	annotations.Unsupported: UnsupportedAnnotation,
	annotations.Refused:     RefusedAnnotation,
	annotations.Invalid:     InvalidAnnotation,
}

// ingressChanged re-parses an Ingress and marks what it touched: the hosts
// it had and has, the host-less rules' dependants, the default backend, TLS
// and the port claims.
func (e *Engine) ingressChanged(k nsName, old, ing *networkingv1.Ingress) {
	prev := e.ingresses[k]
	var next *ingressState
	if ing != nil {
		next = parseIngress(ing, e.ours.serves(ing), &e.opts, e.idx.secrets)
		e.ingresses[k] = next
	} else {
		delete(e.ingresses, k)
	}
	e.checkBackendTLS(k, next)
	e.trackAuthSecret(k, next)
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
	if tlsAffected(prev, next) || clientCertChanged(prev, next) {
		e.dirty.tls = true
		e.markPassthroughTLS(prev)
		e.markPassthroughTLS(next)
	}
	if e.claimsAffected(prev, next) {
		e.dirty.claims = true
	}
}

// tlsAffected reports whether an Ingress change can move certificates:
// they are assigned from the served Ingresses' spec.tls, oldest first, so
// a change that keeps whether it is served, its age and its spec.tls (a
// path edited, a backend moved) leaves them, and the listener, as they
// were, and costs no walk over every Ingress with TLS.
func tlsAffected(prev, next *ingressState) bool {
	switch {
	case !prev.hasTLS() && !next.hasTLS():
		return false
	case prev == nil || next == nil:
		return true
	}
	return prev.served != next.served || !prev.obj.CreationTimestamp.Equal(&next.obj.CreationTimestamp) ||
		!slices.EqualFunc(prev.obj.Spec.TLS, next.obj.Spec.TLS, func(a, b networkingv1.IngressTLS) bool {
			return a.SecretName == b.SecretName && slices.Equal(a.Hosts, b.Hosts)
		})
}

// contribute adds or removes an Ingress's hosts from the host index and
// marks them dirty.
func (e *Engine) contribute(k nsName, st *ingressState, add bool) {
	if st == nil || !st.served {
		return
	}
	for _, h := range st.hosts {
		e.contributeHost(h.host, st, add)
	}
	for _, h := range st.wwwHosts {
		e.contributeHost(h, st, add)
	}
	for _, p := range st.passthrough {
		e.contributeHost(p.host, st, add)
	}
}

func (e *Engine) contributeHost(host string, st *ingressState, add bool) {
	e.dirty.hosts[host] = true
	if add {
		e.contrib[host] = append(e.contrib[host], st)
		return
	}
	rest := slices.DeleteFunc(e.contrib[host], func(x *ingressState) bool { return x == st })
	if len(rest) == 0 {
		delete(e.contrib, host)
	} else {
		e.contrib[host] = rest
	}
}

package translator

import (
	"maps"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/annotations"
	"github.com/fairwayhq/fairway/translator/policy"
)

// A passthrough Ingress (ssl-passthrough: "true") hands each of its hosts'
// TLS connections on the https port to a backend unopened: the https
// listener gets a filter chain per host, matched by SNI, whose tcp_proxy
// sends the bytes to the backend's cluster. As in ingress-nginx, the
// backend is the host's root location's: the rule's path "/" (of any
// type), else the Ingress's defaultBackend. Nothing of HTTP applies: the
// host has no virtual host, on plain HTTP or https, and the Ingress's
// other annotations are ignored, except its source ranges, which the
// chain enforces on the connection's address, and auth-* and the other
// access guards, which cannot be enforced and keep the Ingress from being
// served (fail closed).
//
// A host is contested by age, as paths are: the oldest Ingress naming it
// (in a rule, or in spec.tls to terminate it) decides whether it is passed
// through or routed, and the others get PassthroughConflict.

// passHost is a host a passthrough Ingress asks to pass through, and the
// backend its root location names.
type passHost struct {
	host    string
	field   fieldPath
	backend networkingv1.IngressBackend
}

// passRoute is a host that is passed through: who won it, the cluster its
// connections go to ("" when the backend does not resolve: the host then
// has no chain), and the sources let in (canonical CIDRs; none: any).
type passRoute struct {
	origin  ObjectRef
	since   *metav1.ObjectMeta
	cluster string
	sources []string
}

// passthroughUpstream speaks to a passthrough backend as a plain TCP
// peer, whatever its Service port's appProtocol says: the client's own
// TLS is what flows, and fairway adds neither TLS nor HTTP/2 of its own.
var passthroughUpstream = &policy.Route{Upstream: policy.Upstream{Protocol: policy.HTTP}}

func (st *ingressState) isPassthrough() bool {
	return st != nil && st.policy != nil && st.policy.Passthrough != nil && st.policy.Passthrough.Enabled
}

// passHostOf is the Ingress's passthrough entry for host.
func (st *ingressState) passHostOf(host string) (passHost, bool) {
	for _, p := range st.passthrough {
		if p.host == host {
			return p, true
		}
	}
	return passHost{}, false
}

// parsePassthrough reads a passthrough Ingress: the annotations that
// still apply, and a host and backend per rule. It returns false when the
// Ingress must not be served: a guard it carries cannot be enforced.
func (st *ingressState) parsePassthrough(ps *problems) bool {
	if !st.passthroughAnnotations(ps) {
		return false
	}
	sources, ok := passSources(st.policy.Access)
	if !ok {
		ps.add(st.ref, InvalidPassthrough, "metadata.annotations: the deny list covers every source the allow list lets in, so no client may connect; the Ingress is not served")
		return false
	}
	st.passSources = sources
	if len(st.obj.Spec.TLS) > 0 {
		ps.add(st.ref, IgnoredOnPassthrough, "spec.tls: a passed-through connection's TLS is the backend's own, so fairway uses no certificate for it; spec.tls is ignored")
	}
	for ri, rule := range st.obj.Spec.Rules {
		st.addPassHost(ps, ri, rule)
	}
	return true
}

// passthroughAnnotations reports the annotations that a passed-through
// connection makes moot, in one Problem, and blocks the Ingress on those
// it cannot enforce.
func (st *ingressState) passthroughAnnotations(ps *problems) bool {
	var ignored []string
	served := true
	for _, full := range slices.Sorted(maps.Keys(st.obj.Annotations)) {
		key, ok := annotations.Unprefixed(full)
		if !ok {
			continue
		}
		honoured, blocks := annotations.OnPassthrough(key)
		switch {
		case blocks:
			ps.add(st.ref, RefusedAnnotation, "metadata.annotations[%s]: fairway never opens a passed-through connection, so it cannot enforce this; the Ingress is not served", full)
			served = false
		case !honoured:
			ignored = append(ignored, full)
		}
	}
	if len(ignored) > 0 {
		ps.add(st.ref, IgnoredOnPassthrough, "metadata.annotations: ssl-passthrough works on the TCP connection, not on HTTP, so these are ignored, as in ingress-nginx: %s", strings.Join(ignored, ", "))
	}
	return served
}

// addPassHost adds a rule's host with its root location's backend, or
// says why the rule passes nothing through.
func (st *ingressState) addPassHost(ps *problems, ri int, rule networkingv1.IngressRule) {
	switch {
	case rule.Host == "":
		ps.add(st.ref, InvalidPassthrough, "spec.rules[%d]: passthrough picks the backend by the client's SNI, and a rule without a host has no name to match; the rule is not served", ri)
		return
	case validateHost(rule.Host) != nil:
		ps.add(st.ref, InvalidHost, "spec.rules[%d].host: %v", ri, validateHost(rule.Host))
		return
	case isWildcard(rule.Host):
		ps.add(st.ref, InvalidPassthrough, "spec.rules[%d].host: %q: passthrough takes exact names only, as ingress-nginx's matches the SNI exactly; the rule is not served", ri, rule.Host)
		return
	}
	if _, dup := st.passHostOf(rule.Host); dup {
		ps.add(st.ref, PassthroughConflict, "spec.rules[%d]: host %q is already passed through by an earlier rule of this Ingress; the rule is not served", ri, rule.Host)
		return
	}
	p := passHost{host: rule.Host}
	found := false
	if rule.HTTP != nil {
		for pi, path := range rule.HTTP.Paths {
			field := fieldPath{rule: int32(ri), path: int32(pi)}
			if path.Path == "/" && !found {
				p.field, p.backend, found = field, path.Backend, true
				continue
			}
			ps.add(st.ref, IgnoredOnPassthrough, "%s: a passed-through host goes to the backend of its path \"/\" as a whole, as in ingress-nginx; path %q is ignored", field, path.Path)
		}
	}
	if !found && st.obj.Spec.DefaultBackend != nil {
		p.field, p.backend, found = fieldPath{isDefault: true}, *st.obj.Spec.DefaultBackend, true
	}
	if !found {
		ps.add(st.ref, InvalidPassthrough, "spec.rules[%d]: host %q has no path \"/\" and the Ingress no spec.defaultBackend, so nothing receives its connections; the rule is not served", ri, rule.Host)
		return
	}
	st.passthrough = append(st.passthrough, p)
}

// settlePassthrough decides a host that a passthrough Ingress names: the
// oldest contributor's way wins, or an older Ingress that only lists the
// host in spec.tls, which terminates it. It returns the won passthrough,
// or the contributors that route the host (all but the passthrough
// ones). contributors are oldest first. It only reads.
func (e *Engine) settlePassthrough(t *translation, host string, contributors []*ingressState) (*passRoute, []*ingressState) {
	if !slices.ContainsFunc(contributors, (*ingressState).isPassthrough) {
		return nil, contributors
	}
	first := contributors[0]
	if tls := e.olderTerminating(host, first); tls != nil {
		first = tls
	}
	if first.isPassthrough() {
		for _, st := range contributors[1:] {
			t.problems.add(st.ref, PassthroughConflict, "host %q is passed through (ssl-passthrough) by Ingress %s, which is older; this Ingress's rules for it are not served", host, first.ref.NamespacedName())
		}
		p, _ := first.passHostOf(host)
		cluster, _ := t.resolveBackend(first.ref, p.field.backend(), first.obj.Namespace, p.backend, passthroughUpstream)
		return &passRoute{origin: first.ref, since: &first.obj.ObjectMeta, cluster: cluster, sources: first.passSources}, nil
	}
	var rest []*ingressState
	for _, st := range contributors {
		if st.isPassthrough() {
			t.problems.add(st.ref, PassthroughConflict, "host %q is routed or terminated by Ingress %s, which is older; it is not passed through", host, first.ref.NamespacedName())
			continue
		}
		rest = append(rest, st)
	}
	return nil, rest
}

// olderTerminating is the oldest served Ingress, older than than, that
// lists host in spec.tls without passing it through; nil for none. A walk
// over the Ingresses, made only for hosts that a passthrough Ingress
// names, which are few.
func (e *Engine) olderTerminating(host string, than *ingressState) *ingressState {
	var oldest *ingressState
	for _, st := range e.ingresses {
		if !st.served || st.isPassthrough() || !listsTLSHost(st, host) {
			continue
		}
		if compareAge(&st.obj.ObjectMeta, &than.obj.ObjectMeta) < 0 && (oldest == nil || compareAge(&st.obj.ObjectMeta, &oldest.obj.ObjectMeta) < 0) {
			oldest = st
		}
	}
	return oldest
}

func listsTLSHost(st *ingressState, host string) bool {
	for _, entry := range st.obj.Spec.TLS {
		if slices.Contains(entry.Hosts, host) {
			return true
		}
	}
	return false
}

// markPassthroughTLS marks for settling again the passed-through (or
// contested) hosts that an Ingress's spec.tls names, when it changed: an
// older terminating Ingress takes such a host back.
func (e *Engine) markPassthroughTLS(st *ingressState) {
	if st == nil {
		return
	}
	for _, entry := range st.obj.Spec.TLS {
		for _, host := range entry.Hosts {
			if slices.ContainsFunc(e.contrib[host], (*ingressState).isPassthrough) {
				e.dirty.hosts[host] = true
			}
		}
	}
}

// notePassthrough keeps the index of passed-through hosts as a host's
// state changes, and marks the https listener for rebuilding when it
// moved.
func (e *Engine) notePassthrough(host string, old, next *hostState) {
	var was, is *passRoute
	if old != nil {
		was = old.pass
	}
	if next != nil {
		is = next.pass
	}
	if was == nil && is == nil {
		return
	}
	if was != nil && is != nil && was.origin == is.origin && compareAge(was.since, is.since) == 0 && was.cluster == is.cluster && slices.Equal(was.sources, is.sources) {
		return
	}
	if is == nil {
		delete(e.passHosts, host)
	} else {
		e.passHosts[host] = is
	}
	e.dirty.tls = true
}

// passthroughChains are the https listener's passthrough chains, sorted by
// host, after the terminated hosts of c are settled against them: a newer
// Ingress's spec.tls entry for a passed-through host is dropped with a
// Problem (an older one has already kept the host from being passed
// through: settlePassthrough).
func (t *translation) passthroughChains(pass map[string]*passRoute, c *tlsConfig, withTLS []*networkingv1.Ingress) []envoy.PassthroughChain {
	if len(pass) == 0 {
		return nil
	}
	for _, ing := range withTLS {
		for ti, entry := range ing.Spec.TLS {
			for hi, host := range entry.Hosts {
				p := pass[host]
				if p == nil {
					continue
				}
				ref := ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
				if _, ok := c.hostSecret[host]; ok {
					delete(c.hostSecret, host)
					t.problems.add(ref, PassthroughConflict, "spec.tls[%d].hosts[%d]: host %q is passed through (ssl-passthrough) by Ingress %s, which is older; it is not terminated", ti, hi, host, p.origin.NamespacedName())
				}
			}
		}
	}
	c.dropUnusedSecrets()
	var out []envoy.PassthroughChain
	for _, host := range slices.Sorted(maps.Keys(pass)) {
		if p := pass[host]; p.cluster != "" {
			out = append(out, envoy.PassthroughChain{ServerName: host, Cluster: p.cluster, SourceRanges: p.sources})
		}
	}
	return out
}

// dropUnusedSecrets forgets the secrets no chain uses any longer.
func (c *tlsConfig) dropUnusedSecrets() {
	used := map[string]bool{c.defaultSecret: true}
	for _, s := range c.hostSecret {
		used[s] = true
	}
	for name := range c.secrets {
		if !used[name] {
			delete(c.secrets, name)
		}
	}
}

func samePassChain(a, b envoy.PassthroughChain) bool {
	return a.ServerName == b.ServerName && a.Cluster == b.Cluster && slices.Equal(a.SourceRanges, b.SourceRanges)
}

// withPassthrough adds to a chain's misdirected names (sorted) the
// passed-through hosts, and the names of Gateway listeners' chains on the
// port, whose SNI picks their own chain over it: every one for the
// default chain (wildcard ""), those under a wildcard for its chain, at
// any depth, as Envoy's server_names match them. A client that reuses a
// terminated connection for such a name gets 421, and retries on a
// connection of its own, which reaches its chain.
func (s *tlsState) withPassthrough(names []string, wildcard string) []string {
	n := len(names)
	add := func(name string) {
		if name != "" && (wildcard == "" || strings.HasSuffix(name, wildcard[1:])) {
			names = append(names, name)
		}
	}
	for _, c := range s.pass {
		add(c.ServerName)
	}
	for name := range s.config.gatewayNames {
		add(name)
	}
	if len(names) > n {
		slices.Sort(names)
	}
	return names
}

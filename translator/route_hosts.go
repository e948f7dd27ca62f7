package translator

import (
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/translator/annotations"
	"github.com/fairwayhq/fairway/translator/policy"
)

// Extra names of an Ingress: server-alias and from-to-www-redirect.

// wwwRedirectCode is ingress-nginx's code for from-to-www-redirect: 308
// keeps the method and body of a POST, where 301 lets clients turn it
// into a GET.
const wwwRedirectCode = 308

// addHostNames adds the Ingress's aliases, each served with the paths of
// all its named rule hosts, as if the rules named it too, and the names
// it redirects to their www or www-less twin. It runs after the rules are
// parsed, on a served Ingress.
func (st *ingressState) addHostNames(ps *problems, regexLimit int) {
	if st.policy == nil {
		return
	}
	if aliases := st.policy.Hosts.Aliases; len(aliases) > 0 {
		st.addAliases(aliases, ps, regexLimit)
	}
	if st.policy.Hosts.FromToWWW {
		st.wwwHosts = st.wwwNames()
	}
}

func (st *ingressState) addAliases(aliases []string, ps *problems, regexLimit int) {
	var named []string
	var paths []pathSpec // of every named host, the first of each match
	for _, h := range st.hosts {
		if h.host == "" {
			continue
		}
		named = append(named, h.host)
		for _, p := range h.paths {
			if !slices.ContainsFunc(paths, func(q pathSpec) bool { return q.match == p.match }) {
				paths = append(paths, p)
			}
		}
	}
	key := annotations.WrittenKey(st.obj.Annotations, "server-alias")
	if len(named) == 0 {
		ps.add(st.ref, InvalidAnnotation, "metadata.annotations[%s]: the Ingress has no rule with a host and a valid path, so its aliases have nothing to serve; they are not served", key)
		return
	}
	for _, a := range aliases {
		if err := validateHost(a); err != nil {
			ps.add(st.ref, InvalidAnnotation, "metadata.annotations[%s]: alias %v; the alias is not served", key, err)
			continue
		}
		if isWildcard(a) {
			if err := checkRegexSize(singleLabelRegex(a), regexLimit); err != nil {
				ps.add(st.ref, RegexTooLarge, "metadata.annotations[%s]: alias %q: %v; the alias is not served", key, a, err)
				continue
			}
		}
		if slices.Contains(named, a) {
			continue // already a host of the Ingress
		}
		for _, p := range paths {
			st.addPath(a, p)
		}
	}
}

// wwwNames are the twins of the Ingress's exact names that it does not
// name itself, sorted.
func (st *ingressState) wwwNames() []string {
	var out []string
	for _, h := range st.hosts {
		if h.host == "" || isWildcard(h.host) {
			continue
		}
		twin := wwwTwin(h.host)
		if validateHost(twin) != nil || slices.ContainsFunc(st.hosts, func(o hostPaths) bool { return o.host == twin }) {
			continue
		}
		out = append(out, twin)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// wwwTwin is www.<host> for a host without "www.", and the host without
// it otherwise.
func wwwTwin(host string) string {
	if rest, ok := strings.CutPrefix(host, "www."); ok {
		return rest
	}
	return "www." + host
}

// wwwRedirect is the route of a host that no Ingress serves but whose twin
// asks for from-to-www-redirect: every request is redirected to the twin,
// keeping scheme, path and query. The oldest asking Ingress names it.
// A host that some Ingress serves is never redirected: ingress-nginx
// drops the redirect in that case too.
func wwwRedirect(host string, contributors []*ingressState) []*httpRoute {
	for _, st := range contributors {
		if slices.Contains(st.wwwHosts, host) {
			pol := &policy.Route{Redirect: &policy.Redirect{Host: wwwTwin(host), Code: wwwRedirectCode}}
			return []*httpRoute{{host: host, match: pathMatch{path: "/"}, origin: st.ref, policy: pol}}
		}
	}
	return nil
}

// aliasesTooLarge holds an Ingress with aliases to the paths limit over
// all its names: each alias serves every path again, so a few hundred
// bytes of server-alias could otherwise multiply a thousand paths into
// hundreds of thousands of routes. Over the limit, the Ingress is refused
// whole, as for its own paths.
func (l Limits) aliasesTooLarge(ing *networkingv1.Ingress, pol *policy.Route) string {
	if pol == nil || len(pol.Hosts.Aliases) == 0 {
		return ""
	}
	paths := 0
	for _, r := range ing.Spec.Rules {
		if r.Host != "" && r.HTTP != nil {
			paths += len(r.HTTP.Paths)
		}
	}
	if n := paths * (1 + len(pol.Hosts.Aliases)); n > l.IngressPaths {
		return fmt.Sprintf("metadata.annotations[%s]: %d aliases serve the %d paths of the named rules again, %d paths in all, more than the limit of %d; the Ingress is not served",
			annotations.WrittenKey(ing.Annotations, "server-alias"), len(pol.Hosts.Aliases), paths, n, l.IngressPaths)
	}
	return ""
}

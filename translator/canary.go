package translator

import (
	"slices"
	"strings"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/annotations"
	"github.com/fairwayhq/fairway/translator/policy"
)

// canaryRoute is a canary Ingress's backend on a main route.
type canaryRoute struct {
	origin ObjectRef
	field  fieldPath
	// cluster is the canary backend's cluster, resolved with the main
	// route's policy, since a canary is merged into the main location in
	// ingress-nginx; "" when it could not be resolved, when the canary
	// takes no requests (the main route serves them, and the canary has
	// a Problem).
	cluster, plain string
	spec           *policy.Canary
}

// isCanary says whether an Ingress is a canary, whose paths are added to
// main routes rather than routed on their own.
func (st *ingressState) isCanary() bool {
	return st.policy != nil && st.policy.Canary != nil && st.policy.Canary.Enabled
}

// splitCanaries separates a host's canary Ingresses from the main ones,
// keeping the order; without canaries, as most hosts are, it allocates
// nothing.
func splitCanaries(contributors []*ingressState) (mains, canaries []*ingressState) {
	if !slices.ContainsFunc(contributors, (*ingressState).isCanary) {
		return contributors, nil
	}
	for _, st := range contributors {
		if st.isCanary() {
			canaries = append(canaries, st)
		} else {
			mains = append(mains, st)
		}
	}
	return mains, canaries
}

// attachCanaries adds each canary's paths to the main routes of the same
// host, path and path type: the oldest canary of a route wins it, as
// ingress-nginx does. canaries are oldest first.
func (t *translation) attachCanaries(canaries []*ingressState, host string, winner func(pathMatch) *httpRoute) {
	for _, st := range canaries {
		for _, p := range st.paths(host) {
			main := winner(p.match)
			if main == nil {
				t.problems.add(st.ref, CanaryWithoutMain, "%s: host %q path %s is routed by no main (non-canary) Ingress, so the canary serves nothing",
					p.field, hostOrAny(host), p.match)
				continue
			}
			if main.canary != nil {
				t.problems.add(st.ref, DuplicateCanary, "%s: host %q path %s already has the canary %s, which is older; this one serves nothing",
					p.field, hostOrAny(host), p.match, main.canary.origin.NamespacedName())
				continue
			}
			if key, err := canaryRegexSize(st.policy.Canary, t.opts.RegexProgramSizeLimit); err != nil {
				full := annotations.NginxPrefix + key
				if _, ok := st.obj.Annotations[annotations.FairwayPrefix+key]; ok {
					full = annotations.FairwayPrefix + key
				}
				t.problems.add(st.ref, RegexTooLarge, "metadata.annotations[%s]: %v; the canary serves nothing", full, err)
				continue
			}
			c := &canaryRoute{origin: st.ref, field: p.field, spec: st.policy.Canary}
			c.cluster, c.plain = t.resolveBackend(st.ref, p.field.backend(), st.obj.Namespace, p.backend, main.policy)
			if c.cluster != "" && c.plain == "" {
				c.plain = c.cluster
			}
			main.canary = c
		}
	}
}

// canaryRegexSize checks the regexes a canary's routes match headers
// with (its header pattern, its cookie), which Envoy would refuse, and
// with them the whole route table, over the fleet's program size limit.
func canaryRegexSize(c *policy.Canary, limit int) (key string, err error) {
	if c.HeaderPattern != "" && c.HeaderValue == "" {
		if err := checkRegexSize(headerSearch(c.HeaderPattern), limit); err != nil {
			return "canary-by-header-pattern", err
		}
	}
	if c.Cookie != "" {
		if err := checkRegexSize(envoy.CookieCondition(c.Cookie, "always").Regex, limit); err != nil {
			return "canary-by-cookie", err
		}
	}
	return "", nil
}

// canaryIgnored reports a canary's annotations other than canary-*: the
// canary's requests follow the main Ingress's, as in ingress-nginx, so
// they would do nothing, and nothing is ignored silently. ingress-nginx
// keeps load-balance, upstream-hash-by and session affinity per canary;
// fairway does not, and says so the same way.
func (st *ingressState) canaryIgnored(ps *problems) {
	var keys []string
	for full := range st.obj.Annotations {
		key, ok := strings.CutPrefix(full, annotations.NginxPrefix)
		if !ok {
			key, ok = strings.CutPrefix(full, annotations.FairwayPrefix)
		}
		if ok && key != "canary" && !strings.HasPrefix(key, "canary-") {
			keys = append(keys, full)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		ps.add(st.ref, IgnoredOnCanary, "metadata.annotations[%s]: a canary's requests follow its main Ingress's annotations, as in ingress-nginx; this one is ignored", k)
	}
}

// canarySpecs are the routes a canary adds before its main route s, in
// ingress-nginx's precedence: the header, then the cookie. The weighted
// share is the main route's own split (withSplit).
func (r *httpRoute) canarySpecs(s envoy.RouteSpec) []envoy.RouteSpec {
	c := r.canary
	var out []envoy.RouteSpec
	add := func(h envoy.HeaderCondition, cluster string) {
		rs := s
		rs.Name, rs.Cluster, rs.Status = c.origin.NamespacedName(), cluster, 0
		if cluster == r.cluster {
			rs.Name = r.origin.NamespacedName()
		}
		p := envoy.RoutePolicy{}
		if s.Policy != nil {
			p = *s.Policy
			p.Paths.AppRoot = "" // the main route answers it
		}
		p.Headers = append(slices.Clip(p.Headers), h)
		rs.Policy = &p
		out = append(out, rs)
	}
	if r.cluster == "" || c.cluster == "" {
		return nil
	}
	if h := strings.ToLower(c.spec.Header); h != "" { // gRPC metadata keys are lower case; Envoy ignores case
		switch {
		case c.spec.HeaderValue != "":
			add(envoy.HeaderCondition{Name: h, Exact: c.spec.HeaderValue}, c.cluster)
		case c.spec.HeaderPattern != "":
			add(envoy.HeaderCondition{Name: h, Regex: headerSearch(c.spec.HeaderPattern)}, c.cluster)
		default:
			add(envoy.HeaderCondition{Name: h, Exact: "always"}, c.cluster)
			add(envoy.HeaderCondition{Name: h, Exact: "never"}, r.cluster)
		}
	}
	if ck := c.spec.Cookie; ck != "" {
		add(envoy.CookieCondition(ck, "always"), c.cluster)
		add(envoy.CookieCondition(ck, "never"), r.cluster)
	}
	return out
}

// headerSearch makes ingress-nginx's pattern, which matches anywhere in
// the value (ngx.re.match), a whole-value match, as Envoy's is.
func headerSearch(pattern string) string { return ".*(?:" + pattern + ").*" }

// withSplit gives the main route s its canary's weighted share: a split
// between the two clusters, or the canary's cluster alone at the full
// weight. A weight of 0 leaves s as it is.
func (r *httpRoute) withSplit(s envoy.RouteSpec) envoy.RouteSpec {
	c := r.canary
	if c == nil || c.cluster == "" || r.cluster == "" || c.spec.Weight == 0 {
		return s
	}
	if c.spec.Weight >= c.spec.WeightTotal {
		s.Cluster = c.cluster
		return s
	}
	p := envoy.RoutePolicy{}
	if s.Policy != nil {
		p = *s.Policy
	}
	p.Split = &envoy.Split{Main: r.cluster, Canary: c.cluster, MainWeight: c.spec.WeightTotal - c.spec.Weight, CanaryWeight: c.spec.Weight}
	// ingress-nginx keeps a session on the canary side only for its
	// cookie affinity (a sticky balancer), not for upstream-hash-by.
	if r.policy != nil && r.policy.Affinity.Cookie != nil && r.policy.Affinity.Cookie.Enabled && !r.policy.Affinity.CanaryLegacy {
		p.Split.ByHash = true
	}
	s.Policy = &p
	return s
}

// addCanary adds a main route with a canary: the canary's header and
// cookie routes, then the main route with its weighted share. Proxyless
// clients get each route's plain clusters.
func (t *hostRoutes) addCanary(add func(envoy.RouteSpec, string, tlsWant), r *httpRoute, s envoy.RouteSpec, want tlsWant) {
	c := r.canary
	plainOf := func(cluster string) string {
		if cluster == c.cluster && c.plain != cluster {
			return c.plain
		}
		return r.plain
	}
	for _, cs := range r.canarySpecs(s) {
		add(cs, plainOf(cs.Cluster), want)
	}
	main := r.withSplit(s)
	if main.Policy != nil && main.Policy.Split != nil && r.plain != "" {
		if t.splits == nil {
			t.splits = map[int]envoy.Split{}
		}
		sp := *main.Policy.Split
		sp.Main, sp.Canary = r.plain, c.plain
		t.splits[len(t.table)] = sp
	}
	add(main, plainOf(main.Cluster), want)
}

// sameCanary: two main routes' canaries send the same requests the same
// way, so the virtual hosts carrying them need not be encoded again.
func sameCanary(a, b *canaryRoute) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

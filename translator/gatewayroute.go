package translator

import (
	"cmp"
	"fmt"
	"reflect"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
	"github.com/fairwayhq/fairway/translator/policy"
)

// The Gateway API front end's rules enter the one back end here: a rule
// (translator/gatewayapi) becomes an httpRoute like an Ingress path, and
// virtualhost.go, precedence.go and routepolicy.go build both alike.

// gatewayUnavailable answers a Gateway API rule's requests that no
// backend can take: the Gateway API asks for 500 where an Ingress path
// without a backend answers 503 (unavailable).
const gatewayUnavailable = 500

// gatewayParts are what a Gateway API rule's route has beyond an Ingress
// path's. An Ingress path has none, so it costs a nil pointer there.
type gatewayParts struct {
	request policy.RequestMatch
	// requestKey is request in a canonical form: two routes with the
	// same path and requestKey match the same requests (duplicates).
	requestKey string
	// weighted replaces the route's one cluster when it has several
	// backends, or a share of unresolved ones; nil otherwise.
	weighted *envoy.Weighted
	// mirrors are the resolved clusters of the policy's Mirrors.
	mirrors []envoy.Mirror
}

// emptyPolicy is the policy of a rule without filters; read-only.
var emptyPolicy = &policy.Route{}

// gatewayRoute is a Gateway API rule's match as a route of host: its
// backends resolved to clusters through the same code as an Ingress
// backend's (a GRPCRoute's spoken to over HTTP/2), the share of the
// backends that do not resolve answered 500, and its mirrors resolved.
// It returns nil, with a Problem, for a path Envoy would refuse (and with
// it the whole route table): the rule is then not served.
//
// A redirect's port depends on the listener the rule answers on; without
// one it is taken to be plain HTTP on port 80 (gatewayRouteOn).
func (t *translation) gatewayRoute(host string, r *gatewayapi.HTTPRule) *httpRoute {
	return t.gatewayRouteOn(host, nil, r)
}

// gatewayRouteOn is gatewayRoute for a rule served on listener l, whose
// port and protocol a redirect without a scheme or port redirects to.
func (t *translation) gatewayRouteOn(host string, l *gatewayapi.Listener, r *gatewayapi.HTTPRule) *httpRoute {
	origin := ObjectRef{Kind: r.Route.Kind, Namespace: r.Route.Namespace, Name: r.Route.Name}
	field := fieldPath{rule: int32(r.Rule), path: int32(r.Match), gateway: true}
	m, err := t.gatewayPath(r.Path)
	if err != nil {
		t.problems.add(origin, InvalidPath, "%s.path: %v; the match is not served", field, err)
		return nil
	}
	if err := checkRequestRegexes(r.Request, t.opts.RegexProgramSizeLimit); err != nil {
		t.problems.add(origin, InvalidPath, "%s: %v; the match is not served", field, err)
		return nil
	}
	pol := t.gatewayPolicy(origin, field, r.Policy, listenerOf(l))
	// One allocation for the route and its Gateway parts, which live
	// and die together.
	both := &struct {
		route httpRoute
		gw    gatewayParts
	}{gw: gatewayParts{request: r.Request, requestKey: requestKey(r.Request)}}
	route := &both.route
	*route = httpRoute{host: host, match: m, origin: origin, field: field, policy: pol, gw: &both.gw}
	up := upstreamOf
	if r.GRPC {
		up = grpcUpstream
	}
	bf := gatewayBackendField{rule: int32(r.Rule)}
	t.gatewayBackends(route, origin, bf, r, up)
	for _, mi := range pol.Mirrors {
		cluster, _ := t.serviceCluster(gatewayBackend(origin, gatewayBackendField{rule: bf.rule, mirror: true}, mi.Backend), pol, up)
		if cluster != "" {
			route.gw.mirrors = append(route.gw.mirrors, envoy.Mirror{Cluster: cluster, PerMillion: perMillion(mi.Fraction)})
		}
	}
	return route
}

// gatewayBackends sets the route's cluster, or its weighted clusters:
// the valid backends by weight, and the share of the rule's invalid
// backendRefs and of those that do not resolve here (a Service or port
// gone since the front end looked) as Unresolved, answered 500. A rule
// with no weight left anywhere answers 500 itself.
func (t *translation) gatewayBackends(route *httpRoute, origin ObjectRef, bf gatewayBackendField, r *gatewayapi.HTTPRule, up upstreamFunc) {
	// Gathered on the stack: most rules have one backend, and their
	// route needs no Weighted at all.
	var room [4]envoy.ClusterWeight
	clusters, unresolved := room[:0], uint32(max(r.Invalid, 0))
	denied := false
	for _, b := range r.Backends {
		if b.Weight <= 0 {
			continue
		}
		cluster, plain := t.serviceCluster(gatewayBackend(origin, bf, b), route.policy, up)
		if cluster == "" {
			unresolved += uint32(b.Weight)
			continue
		}
		denied = denied || plain == proxylessDenied
		cw := envoy.ClusterWeight{Name: cluster, Plain: plain, Weight: uint32(b.Weight)}
		if h := b.Headers; h != nil {
			t.checkEditable(origin, fmt.Sprintf("spec.rules[%d].backendRefs (Service %s/%s port %d) filters", bf.rule, b.Namespace, b.Name, b.Port), h.Request, h.Response)
			cw.RequestHeaders, cw.ResponseHeaders = headerEdits(h.Request), headerEdits(h.Response)
		}
		// One Service port named twice with the same edits is one entry.
		if i := slices.IndexFunc(clusters, func(c envoy.ClusterWeight) bool { return sameTarget(c, cw) }); i >= 0 {
			clusters[i].Weight += cw.Weight
			continue
		}
		clusters = append(clusters, cw)
	}
	switch {
	case len(clusters) == 0:
		return // cluster "": a direct 500
	case len(clusters) == 1 && unresolved == 0 && !hasEdits(clusters[0]):
		route.cluster, route.plain = clusters[0].Name, clusters[0].Plain
		return
	}
	route.gw.weighted = &envoy.Weighted{Clusters: slices.Clone(clusters), Unresolved: unresolved}
	route.cluster, route.plain = clusters[0].Name, clusters[0].Plain
	if route.plain == "" {
		// A plain cluster sends the route through proxylessTable's
		// rewrite, which references each weighted cluster's plain one
		// and the unresolved share's (unresolved.go).
		route.plain = route.cluster
	}
	if denied {
		route.plain = proxylessDenied
	}
}

// upstreamFunc is how a route speaks to a Service port.
type upstreamFunc func(*policy.Route, *corev1.ServicePort) envoy.Upstream

// grpcUpstream is a GRPCRoute backend's: HTTP/2 whatever the port's
// appProtocol says, in the clear unless it names TLS.
func grpcUpstream(pol *policy.Route, sp *corev1.ServicePort) envoy.Upstream {
	u := upstreamOf(pol, sp)
	u.HTTP2 = true
	return u.Normal()
}

// gatewayBackend is a policy.Backend as serviceCluster takes it.
func gatewayBackend(origin ObjectRef, field gatewayBackendField, b policy.Backend) serviceBackend {
	return serviceBackend{ref: origin, field: field.stringer(), namespace: b.Namespace, name: b.Name, port: networkingv1.ServiceBackendPort{Number: b.Port}}
}

// boxedBackendFields are the first rules' backend fields as a
// serviceBackend holds them, boxed once: boxing one for every rule of
// 10k routes cost an allocation each.
var boxedBackendFields = func() (out [16][2]fmt.Stringer) {
	for i := range out {
		out[i] = [2]fmt.Stringer{gatewayBackendField{rule: int32(i)}, gatewayBackendField{rule: int32(i), mirror: true}}
	}
	return out
}()

func (f gatewayBackendField) stringer() fmt.Stringer {
	if f.rule < 0 || int(f.rule) >= len(boxedBackendFields) {
		return f
	}
	if f.mirror {
		return boxedBackendFields[f.rule][1]
	}
	return boxedBackendFields[f.rule][0]
}

// gatewayBackendField is where a rule's backends are, or with mirror its
// mirrors' backends, for messages (the front end keeps only the valid
// ones, so their own index is not known).
type gatewayBackendField struct {
	rule   int32
	mirror bool
}

func (f gatewayBackendField) String() string {
	if f.mirror {
		return fmt.Sprintf("spec.rules[%d].filters[].requestMirror.backendRef", f.rule)
	}
	return fmt.Sprintf("spec.rules[%d].backendRefs", f.rule)
}

// perMillion is a mirror's share in millionths; nil (or a denominator of
// 0, which the API refuses) is every request.
func perMillion(f *policy.Fraction) uint32 {
	if f == nil || f.Denominator <= 0 || f.Numerator >= f.Denominator {
		return 0
	}
	return uint32(int64(max(f.Numerator, 0)) * 1_000_000 / int64(f.Denominator))
}

// gatewayPath is the pathMatch of a Gateway API path: a PathPrefix loses
// its trailing slashes (the Gateway API matches "/foo/" as "/foo", by
// segments), and a RegularExpression must match the whole path and be a
// regex Envoy accepts.
func (t *translation) gatewayPath(p policy.PathMatch) (pathMatch, error) {
	switch p.Kind {
	case policy.PathRegex:
		if _, err := syntax.Parse(p.Value, syntax.Perl); err != nil {
			return pathMatch{}, fmt.Errorf("%q is not an RE2 regular expression: %v", p.Value, err)
		}
		if err := checkRegexSize(p.Value, t.opts.RegexProgramSizeLimit); err != nil {
			return pathMatch{}, err
		}
		return pathMatch{regex: true, whole: true, path: p.Value}, nil
	case policy.PathExact:
		return pathMatch{exact: true, path: p.Value}, checkPath(p.Value)
	}
	if p.Value == "" { // the Gateway API's default match
		return pathMatch{path: "/"}, nil
	}
	if err := checkPath(p.Value); err != nil {
		return pathMatch{}, err
	}
	return pathMatch{path: cmp.Or(strings.TrimRight(p.Value, "/"), "/")}, nil
}

// checkRequestRegexes checks a match's header and query regexes as Envoy
// will: one it refuses would take the whole route table with it.
func checkRequestRegexes(m policy.RequestMatch, limit int) error {
	for _, list := range [][]policy.ValueMatch{m.Headers, m.Query} {
		for _, v := range list {
			if !v.Regex {
				continue
			}
			if _, err := syntax.Parse(v.Value, syntax.Perl); err != nil {
				return fmt.Errorf("%s: %q is not an RE2 regular expression: %v", v.Name, v.Value, err)
			}
			if err := checkRegexSize(v.Value, limit); err != nil {
				return fmt.Errorf("%s: %v", v.Name, err)
			}
		}
	}
	return nil
}

// gatewayPolicy is a rule's policy with the Gateway API's meanings made
// explicit for the back end, which the Ingress front end's share: the
// redirect's (gatewayredirect.go). Header edits Envoy cannot make (of
// Host or a pseudo-header) get a Problem; the back end leaves them out.
func (t *translation) gatewayPolicy(origin ObjectRef, field fieldPath, pol *policy.Route, l redirectListener) *policy.Route {
	if pol == nil {
		return emptyPolicy
	}
	t.checkEditable(origin, fmt.Sprintf("spec.rules[%d].filters", field.rule), pol.RequestHeaders, pol.ResponseHeaders)
	if pol.Redirect == nil {
		return pol
	}
	out := *pol
	out.Redirect = gatewayRedirect(*pol.Redirect, l)
	return &out
}

// checkEditable gives a Problem for each header edit Envoy cannot make
// (of Host or a pseudo-header); the back end leaves those out.
func (t *translation) checkEditable(origin ObjectRef, field string, edits ...policy.HeaderEdits) {
	for _, e := range edits {
		for _, name := range editedNames(e) {
			if !envoy.ModifiableHeader(name) {
				t.problems.add(origin, UnsupportedFilter, "%s: header %q cannot be edited (Envoy owns Host and the pseudo-headers); that edit is left out", field, name)
			}
		}
	}
}

// sameTarget: two weighted clusters send to one cluster with the same
// edits, so their weights add up in one entry.
func sameTarget(a, b envoy.ClusterWeight) bool {
	return a.Name == b.Name && a.Plain == b.Plain && reflect.DeepEqual(a.RequestHeaders, b.RequestHeaders) && reflect.DeepEqual(a.ResponseHeaders, b.ResponseHeaders)
}

// hasEdits: the weighted cluster edits headers of its own, which only a
// weighted_clusters entry can carry, so even a lone backend with them
// stays one.
func hasEdits(c envoy.ClusterWeight) bool {
	return !reflect.DeepEqual(c.RequestHeaders, envoy.HeaderEdits{}) || !reflect.DeepEqual(c.ResponseHeaders, envoy.HeaderEdits{})
}

func editedNames(e policy.HeaderEdits) []string {
	names := slices.Clone(e.Remove)
	for _, h := range slices.Concat(e.Set, e.Add) {
		names = append(names, h.Name)
	}
	return names
}

// requestKey is a RequestMatch in a canonical form: the method, then
// the headers (names lower-cased, as HTTP compares them) and the query
// parameters, each sorted. Equal keys match the same requests.
func requestKey(m policy.RequestMatch) string {
	if m.Method == "" && len(m.Headers) == 0 && len(m.Query) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(strconv.Quote(m.Method))
	for i, list := range [][]policy.ValueMatch{m.Headers, m.Query} {
		parts := make([]string, len(list))
		for j, v := range list {
			name := v.Name
			if i == 0 {
				name = strings.ToLower(name)
			}
			parts[j] = fmt.Sprintf("%q%t%q", name, v.Regex, v.Value)
		}
		slices.Sort(parts)
		b.WriteString("|" + strings.Join(parts, ","))
	}
	return b.String()
}

package translator

import (
	"maps"
	"slices"
	"strings"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/policy"
)

// acmeChallenge is where cert-manager's (and any ACME client's) HTTP-01
// solver answers; the CA fetches it over plain HTTP, so it is never
// redirected to https (ingress-nginx's no-tls-redirect-locations default).
const acmeChallenge = "/.well-known/acme-challenge"

// tlsWant is what a route asks of its plain-HTTP side.
type tlsWant uint8

const (
	wantNone     tlsWant = iota // served on plain HTTP: the default
	wantWithCert                // redirect when the host has a certificate
	wantAlways                  // redirect in any case (force-ssl-redirect)
)

// tlsWant is a route's plain-HTTP rule: force-ssl-redirect always
// redirects; otherwise the Ingress's ssl-redirect, or else --ssl-redirect,
// decides whether a host with a certificate redirects. ownHost is false
// for routes that serve names their virtual host holds no certificate for
// (the catch-all, host-less rules inside a wildcard's virtual host).
func (e *Engine) tlsWant(p *policy.Route, ownHost bool) tlsWant {
	enabled := e.opts.SSLRedirect
	if p != nil {
		if p.TLSRedirect.Force {
			return wantAlways
		}
		if p.TLSRedirect.Set {
			enabled = p.TLSRedirect.Enabled
		}
	}
	if enabled && ownHost {
		return wantWithCert
	}
	return wantNone
}

// routeTLSWant is a route's want: a Gateway API route's is none, since
// the Gateway API redirects to https only by a RequestRedirect filter,
// which the route itself carries; --ssl-redirect and the ssl-redirect
// annotations are the Ingress's.
func (e *Engine) routeTLSWant(r *httpRoute, ownHost bool) tlsWant {
	if r.gw != nil {
		return wantNone
	}
	return e.tlsWant(r.policy, ownHost)
}

// tlsWants are the wants of a virtual host's routes, by index; nil while
// every route so far wants nothing, which is the common case and costs no
// allocation.
type tlsWants []tlsWant

func (w *tlsWants) add(i int, want tlsWant) {
	if want == wantNone && *w == nil {
		return
	}
	if *w == nil {
		*w = make(tlsWants, i, i+8)
	}
	*w = append(*w, want)
}

// plan keeps what the plain-HTTP form of a virtual host is built from,
// when some route may redirect.
func (w tlsWants) plan(name, domain string, table []envoy.RouteSpec, refs []Ref) *redirectPlan {
	if w == nil {
		return nil
	}
	return &redirectPlan{name: name, domain: domain, table: table, wants: w, refs: refs}
}

// redirectPlan is a virtual host whose plain-HTTP form may differ from its
// https one: its routes and what each asks.
type redirectPlan struct {
	name, domain string
	table        []envoy.RouteSpec
	wants        tlsWants
	refs         []Ref
	// built says plain follows this plan, for withCert: a certificate that
	// appears or goes re-encodes only the hosts whose answer it changes.
	built, withCert bool
}

// encodePlainHosts (re)builds the plain-HTTP virtual hosts: of the hosts
// just encoded, and, when the certificates moved, of every host with a
// redirect plan whose certificate came or went. Hosts without a plan keep
// sharing one encoding between both tables.
func (e *Engine) encodePlainHosts(encoded []string, tlsMoved bool) {
	if e.redirecting == nil {
		e.redirecting = map[string]bool{}
	}
	for _, host := range encoded {
		if st := e.hosts[host]; st != nil && st.redirect != nil {
			e.redirecting[host] = true
		} else {
			delete(e.redirecting, host)
			if st != nil {
				st.plain, st.form = nil, plainFormPerPath
			}
		}
	}
	if len(e.redirecting) == 0 {
		return
	}
	// Only the hosts just encoded have new plans; every host with a plan
	// is looked at only when the certificates moved. A change costs its
	// hosts, not a walk over every redirecting host (100k at the huge
	// scale).
	candidates := encoded
	if tlsMoved {
		candidates = slices.Collect(maps.Keys(e.redirecting))
	}
	var todo []*hostState
	var certs, compact []bool
	for _, host := range candidates {
		if !e.redirecting[host] {
			continue
		}
		st := e.hosts[host]
		if st == nil || st.redirect == nil {
			delete(e.redirecting, host)
			continue
		}
		withCert := e.hasCertificate(host)
		if p := st.redirect; !p.built || (tlsMoved && p.withCert != withCert) {
			todo = append(todo, st)
			certs = append(certs, withCert)
			compact = append(compact, !e.perPathPlain && host != "" && !isWildcard(host))
		}
	}
	forEach(len(todo), func(i int) { todo[i].encodePlain(certs[i], compact[i], uint32(e.opts.HTTPSPort)) })
}

// encodePlain builds the host's plain-HTTP side: nil when no route
// redirects after all (a certificate it waits for is missing). A named
// host whose routes all redirect gets the compact forms (redirecttable.go);
// the catch-all and wildcards keep theirs per path, since a request that
// no route of theirs matches falls to other rules or to a 404.
func (st *hostState) encodePlain(withCert, compact bool, httpsPort uint32) {
	prev := st.plain
	st.encodePlainSide(withCert, compact, httpsPort)
	st.plain = sameOr(prev, st.plain)
}

// encodePlainSide builds the plain side afresh from the redirect plan.
func (st *hostState) encodePlainSide(withCert, compact bool, httpsPort uint32) {
	p := st.redirect
	p.built, p.withCert = true, withCert
	st.plain, st.form = nil, plainFormPerPath
	if compact {
		var acme *envoy.RouteSpec
		switch st.form, acme = compactForm(p, withCert); st.form {
		case plainFormRedirect:
			return
		case plainFormACME:
			st.plain = encodeACMERedirect(p, *acme, httpsPort)
			return
		}
	}
	var specs []envoy.RouteSpec
	redirects := false
	for i, s := range p.table {
		want := p.wants[i]
		if want == wantNone || (want == wantWithCert && !withCert) || underACME(s) {
			specs = append(specs, s)
			continue
		}
		if coversACME(s) {
			acme := s
			acme.Exact, acme.Path = false, acmeChallenge
			specs = append(specs, acme)
		}
		specs = append(specs, redirected(s, httpsPort))
		redirects = true
	}
	if redirects {
		st.plain = newResource(p.name, envoy.AppendVirtualHost(nil, p.name, []string{p.domain}, specs), p.refs)
	}
}

// redirected is s answering with the redirect to https.
func redirected(s envoy.RouteSpec, httpsPort uint32) envoy.RouteSpec {
	var p envoy.RoutePolicy
	if s.Policy != nil {
		p = *s.Policy
	}
	p.HTTPSRedirect, p.HTTPSPort = true, httpsPort
	s.Policy = &p
	return s
}

// underACME: every request s matches is an ACME challenge, so it is never
// redirected.
func underACME(s envoy.RouteSpec) bool {
	if s.Policy != nil && s.Policy.Regex != "" {
		return false
	}
	return s.Path == acmeChallenge || strings.HasPrefix(s.Path, acmeChallenge+"/")
}

// coversACME: s, a segment prefix, matches ACME challenges among other
// paths; they keep being forwarded by a route of their own, placed just
// before s's redirect. A regex path is redirected whole: which of its
// paths are challenges is not decidable here.
func coversACME(s envoy.RouteSpec) bool {
	if s.Exact || (s.Policy != nil && s.Policy.Regex != "") {
		return false
	}
	return s.Path == "/" || strings.HasPrefix(acmeChallenge+"/", s.Path+"/")
}

// hasCertificate reports whether host is served on https with a
// certificate of its own (its name or its wildcard parent's); the default
// certificate does not count, since a redirect to it would fail the
// client's name check. Nor does a name a Gateway listener's chain holds
// on the port (tlsnames.go): https there is the Gateway's, not this
// host's routes.
func (e *Engine) hasCertificate(host string) bool {
	c := e.tls.config
	if host == "" || c == nil || len(e.tls.chains) == 0 {
		return false
	}
	if _, held := c.gatewayNames[host]; held {
		return false
	}
	if c.hostSecret[host] != "" {
		return true
	}
	if isWildcard(host) {
		return false
	}
	_, parent, ok := strings.Cut(host, ".")
	return ok && c.hostSecret["*."+parent] != ""
}

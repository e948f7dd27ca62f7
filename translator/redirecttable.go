package translator

import (
	"slices"

	"github.com/fairwayhq/fairway/envoy"
)

// plainForm is what a host's plain-HTTP side comes to.
type plainForm uint8

const (
	// plainFormPerPath: some route forwards (or answers in a way of its own),
	// so the plain virtual host lists every route, as the https one does.
	plainFormPerPath plainForm = iota
	// plainFormRedirect: every route redirects to https and nothing else
	// answers first, so the host is one domain of the shared redirect
	// virtual host, and its routes are not in the http table at all.
	plainFormRedirect
	// plainFormACME: as plainFormRedirect, except that a route which
	// covers /.well-known/acme-challenge forwards the challenges: the
	// host keeps a virtual host of two routes, the challenges and a
	// redirect of everything else.
	plainFormACME
)

// compactForm decides whether the plain side of a host with the plan p
// may drop its per-path routes for one redirect of every path, and which
// route forwards the ACME challenges if so. It may when, in today's
// per-path form, every route redirects (nothing forwards, is guarded by
// :authority or by a regex whose unmatched paths must stay 404), and no
// route answers before its redirect (source ranges, CORS, a body limit).
// Then every path a route matches gets the same redirect as before; only
// a path no route matches changes, from a 404 to the redirect (README,
// Plain HTTP and https). The challenges go where they went: to the first
// route that covers them, whose forwarding route stood first in the table.
func compactForm(p *redirectPlan, withCert bool) (plainForm, *envoy.RouteSpec) {
	var acme *envoy.RouteSpec
	for i, s := range p.table {
		want := p.wants[i]
		if want == wantNone || (want == wantWithCert && !withCert) || underACME(s) {
			return plainFormPerPath, nil
		}
		if s.AuthorityRegex != "" || answersBeforeRedirect(s.Policy) {
			return plainFormPerPath, nil
		}
		if acme == nil && coversACME(s) {
			a := s
			a.Exact, a.Path = false, acmeChallenge
			acme = &a
		}
	}
	if acme != nil {
		return plainFormACME, acme
	}
	return plainFormRedirect, nil
}

// answersBeforeRedirect: the policy matches fewer requests than its path
// does, or answers some of them itself before the redirect would (403,
// a CORS preflight, 413), so its redirect is not every request's answer.
func answersBeforeRedirect(p *envoy.RoutePolicy) bool {
	return p != nil && (p.Regex != "" || p.Access != nil || p.CORS != nil || p.MaxRequestBytes > 0)
}

// redirectAll is the one route of a compact plain side: every path to
// https, as each per-path redirect route answers.
func redirectAll(httpsPort uint32) envoy.RouteSpec {
	return envoy.RouteSpec{
		Name:   envoy.HTTPSRedirectVirtualHost,
		Path:   "/",
		Policy: &envoy.RoutePolicy{HTTPSRedirect: true, HTTPSPort: httpsPort},
	}
}

// encodeACMERedirect is the plain virtual host of a plainFormACME
// host: the challenges, then the redirect of everything else. Only the
// route that covers the challenges is in it, so a path added, changed or
// removed elsewhere on the host leaves its bytes as they were.
func encodeACMERedirect(p *redirectPlan, acme envoy.RouteSpec, httpsPort uint32) *Resource {
	specs := []envoy.RouteSpec{acme, redirectAll(httpsPort)}
	var refs []Ref
	if acme.Cluster != "" {
		refs = []Ref{{Kind: KindCluster, Name: acme.Cluster}}
	}
	return newResource(p.name, envoy.AppendVirtualHost(nil, p.name, []string{p.domain}, specs), refs)
}

// redirectHosts is the http table's shared redirect virtual host and the
// domains it was built for: rebuilt only when a host joins or leaves, so
// a route change on a redirect-only host leaves the http table's bytes
// as they were.
type redirectHosts struct {
	domains []string
	vhost   *Resource
}

// virtualHost returns the shared redirect virtual host for domains (the
// redirect-only hosts, sorted), nil when there are none.
func (r *redirectHosts) virtualHost(domains []string, httpsPort uint32) *Resource {
	if len(domains) == 0 {
		r.domains, r.vhost = nil, nil
		return nil
	}
	if r.vhost != nil && slices.Equal(r.domains, domains) {
		return r.vhost
	}
	name := envoy.HTTPSRedirectVirtualHost
	r.domains = slices.Clone(domains) // the caller reuses its list
	r.vhost = newResource(name, envoy.AppendVirtualHost(nil, name, domains, []envoy.RouteSpec{redirectAll(httpsPort)}), nil)
	return r.vhost
}

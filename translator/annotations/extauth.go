package annotations

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fairwayhq/fairway/translator/policy"
)

// extAuthEntries: external authentication, ingress-nginx's auth-url and
// its companions. They guard access: a value fairway cannot honour
// exactly blocks the Ingress rather than serving it unchecked, as
// ingress-nginx denies the location. auth-method, auth-signin,
// auth-signin-redirect-param and auth-proxy-set-headers are refused
// (refused.go), auth-snippet with every snippet.
var extAuthEntries = []Entry{
	{Key: "auth-url", Guards: true, Parse: func(v string, r *policy.Route) error {
		u, err := parseAuthURL(v)
		if err == nil {
			extAuth(r).URL = u
		}
		return err
	}},
	{Key: "auth-response-headers", Guards: true, Parse: func(v string, r *policy.Route) error {
		hs, err := parseTokens(v, authHeaderToken, "header names such as \"X-Auth-Request-User, X-Auth-Request-Email\"")
		if err != nil {
			return err
		}
		for i := range hs {
			hs[i] = strings.ToLower(hs[i])
		}
		slices.Sort(hs)
		extAuth(r).ResponseHeaders = slices.Compact(hs)
		return nil
	}},
	{Key: "auth-request-redirect", Guards: true, Parse: func(v string, r *policy.Route) error {
		if strings.ContainsAny(v, "$") {
			return errors.New("nginx variables are not supported; write the value itself, or leave the annotation out to send the request's own path")
		}
		if v == "" || strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
			return errors.New("want a URL or path without control characters")
		}
		extAuth(r).RequestRedirect = v
		return nil
	}},
	{Key: "auth-always-set-cookie", Guards: true, Parse: func(v string, r *policy.Route) error {
		on, err := parseBool(v)
		if err == nil {
			extAuth(r).AlwaysSetCookie = on
		}
		return err
	}},
	{Key: "auth-cache-key", Parse: unsupported("Envoy's ext_authz filter keeps no cache of answers, so every request asks the auth service; it is ignored")},
	{Key: "auth-cache-duration", Parse: unsupported("Envoy's ext_authz filter keeps no cache of answers, so every request asks the auth service; it is ignored")},
	{Key: "auth-keepalive", Parse: keepalive},
	{Key: "auth-keepalive-requests", Parse: keepalive},
	{Key: "auth-keepalive-timeout", Parse: keepalive},
	{Key: "enable-global-auth", Parse: func(v string, _ *policy.Route) error {
		on, err := parseBool(v)
		if err != nil {
			return err
		}
		if on {
			return unsupportedError{`fairway has no global external authentication (ingress-nginx's global-auth-url), so there is nothing to enable; only an Ingress's own auth-url applies`}
		}
		return nil
	}},
}

// authHeaderToken is ingress-nginx's check of a header name in
// auth-response-headers.
var authHeaderToken = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// keepalive: Envoy keeps connections to the auth service's cluster open
// and reuses them by its own pool defaults; nginx's tuning of its pool has
// no counterpart, and no effect on who gets in.
func keepalive(v string, _ *policy.Route) error {
	if _, err := strconv.Atoi(strings.TrimSpace(v)); err != nil {
		return errors.New("want a whole number")
	}
	return unsupportedError{"Envoy reuses connections to the auth service by its own connection pool; the value is ignored"}
}

func extAuth(r *policy.Route) *policy.ExtAuth {
	if r.ExtAuth == nil {
		r.ExtAuth = &policy.ExtAuth{}
	}
	return r.ExtAuth
}

// parseAuthURL reads auth-url. nginx expands variables in it (the
// oauth2-proxy recipe calls https://$host/oauth2/auth, through nginx
// itself); an Envoy cluster needs its host before any request, so a
// variable is refused rather than guessed. A host of the form
// <service>.<namespace>.svc[.cluster.local] names that Service.
func parseAuthURL(v string) (policy.AuthURL, error) {
	if strings.Contains(v, "$") {
		return policy.AuthURL{}, errors.New("nginx variables such as $host are not supported: fairway needs the auth service's host before any request; name it, e.g. http://oauth2-proxy.auth.svc.cluster.local/oauth2/auth")
	}
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil {
		return policy.AuthURL{}, errors.New("not a URL")
	}
	out := policy.AuthURL{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Hostname())}
	switch out.Scheme {
	case "http":
		out.Port = 80
	case "https":
		out.Port = 443
	default:
		return policy.AuthURL{}, fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	if out.Host == "" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return policy.AuthURL{}, errors.New("want http[s]://host[:port]/path, without user or fragment")
	}
	if net.ParseIP(out.Host) == nil && !dnsName.MatchString(out.Host) {
		return policy.AuthURL{}, fmt.Errorf("host %q is not a DNS name or an IP address", out.Host)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return policy.AuthURL{}, fmt.Errorf("port %q is not between 1 and 65535", p)
		}
		out.Port = uint32(n)
	}
	out.PathQuery = u.EscapedPath()
	if out.PathQuery == "" {
		out.PathQuery = "/"
	}
	if u.RawQuery != "" {
		out.PathQuery += "?" + u.RawQuery
	}
	out.Service, out.Namespace, out.Short = serviceDNSName(out.Host)
	return out, nil
}

var dnsName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$`)

// serviceDNSName reads <service>.<namespace>.svc and
// <service>.<namespace>.svc.cluster.local, the names cluster DNS gives a
// Service, and a bare <service>.<namespace> (short): nginx resolves a
// literal auth-url host once, through the pod's resolv.conf, whose search
// path tries <name>.svc.cluster.local before the name itself, so a bare
// <service>.<namespace> reaches that Service when it exists.
func serviceDNSName(host string) (service, namespace string, short bool) {
	host = strings.TrimSuffix(host, ".")
	name, ok := strings.CutSuffix(host, ".svc.cluster.local")
	if !ok {
		name, ok = strings.CutSuffix(host, ".svc")
	}
	service, namespace, found := strings.Cut(name, ".")
	if !found || service == "" || namespace == "" || strings.Contains(namespace, ".") || net.ParseIP(host) != nil {
		return "", "", false
	}
	return service, namespace, !ok
}

// extAuthWithoutURL drops the auth-* settings of an object without a
// usable auth-url: ingress-nginx ignores them, as the companions of an
// auth-url that is not there. A malformed auth-url has blocked the
// object already.
func extAuthWithoutURL(r *policy.Route) []Finding {
	if r.ExtAuth == nil || r.ExtAuth.URL.Scheme != "" {
		return nil
	}
	r.ExtAuth = nil
	return []Finding{{
		Key: NginxPrefix + "auth-url", Kind: Invalid,
		Message: "is not set or not valid, so this Ingress's auth-response-headers, auth-request-redirect and auth-always-set-cookie are ignored, as in ingress-nginx",
	}}
}

// unsupportedError is a parse result that is not a malformed value: the
// key is known and its value well-formed, but Envoy has nothing that does
// it, and leaving it out asks no more of access than before.
type unsupportedError struct{ msg string }

func (e unsupportedError) Error() string { return e.msg }

func unsupported(msg string) func(string, *policy.Route) error {
	return func(string, *policy.Route) error { return unsupportedError{msg} }
}

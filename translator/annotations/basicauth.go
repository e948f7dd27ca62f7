package annotations

import (
	"errors"
	"regexp"
	"strings"

	"github.com/fairwayhq/fairway/translator/policy"
)

// basicAuthEntries: HTTP Basic authentication from a Secret's htpasswd
// users, as ingress-nginx's auth-type, auth-secret, auth-secret-type and
// auth-realm. Every key but the realm guards access: a value fairway
// cannot honour blocks the Ingress rather than serving it open.
var basicAuthEntries = []Entry{
	{Key: "auth-type", Guards: true, Parse: func(v string, r *policy.Route) error {
		switch strings.TrimSpace(v) {
		case "basic":
		case "digest":
			basicAuth(r).Digest = true
		default:
			return errors.New(`want "basic" (or "digest", which fairway refuses)`)
		}
		basicAuth(r).Type = true
		return nil
	}},
	{Key: "auth-secret", Guards: true, Parse: func(v string, r *policy.Route) error {
		ns, name, err := parseSecretRef(v, true)
		if err != nil {
			return err
		}
		a := basicAuth(r)
		a.SecretNamespace, a.SecretName = ns, name
		return nil
	}},
	{Key: "auth-secret-type", Guards: true, Parse: func(v string, r *policy.Route) error {
		switch strings.TrimSpace(v) {
		case "auth-file":
		case "auth-map":
			basicAuth(r).Map = true
		default:
			return errors.New(`want "auth-file" (the Secret's key "auth" holds htpasswd lines) or "auth-map" (one key per user)`)
		}
		return nil
	}},
	{Key: "auth-realm", Parse: func(v string, r *policy.Route) error {
		if !realmPattern.MatchString(v) {
			return errors.New(`want printable text without '"' or '\', which would end the realm's quoted string in WWW-Authenticate; the default realm applies`)
		}
		basicAuth(r).Realm = v
		return nil
	}},
}

// realmPattern is what can stand inside WWW-Authenticate's quoted realm
// as written: Envoy places it verbatim and refuses control characters.
var realmPattern = regexp.MustCompile(`^[^\x00-\x1f\x7f"\\]{1,256}$`)

// basicAuthChecks settle the keys together. Digest authentication is
// refused: Envoy has no digest filter. Any auth-secret, auth-secret-type
// or auth-realm without auth-type, or auth-type without auth-secret,
// blocks the Ingress: ingress-nginx would serve the first open and deny
// the second with 503, and either way the author asked for a password
// that fairway cannot check.
func basicAuthChecks(r *policy.Route) []Finding {
	a := r.BasicAuth
	if a == nil {
		return nil
	}
	var f Finding
	switch {
	case a.Digest:
		f = Finding{Key: NginxPrefix + "auth-type", Kind: Refused, Message: `is "digest": fairway cannot do digest authentication (Envoy has no such filter); the Ingress is not served`}
	case !a.Type:
		f = Finding{Key: NginxPrefix + "auth-type", Kind: Invalid, Message: `is not "basic", but other keys of basic authentication are set: fairway cannot tell that no password is wanted; the Ingress is not served`}
	case a.SecretName == "":
		f = Finding{Key: NginxPrefix + "auth-secret", Kind: Invalid, Message: `is not set: basic authentication has no users; the Ingress is not served`}
	default:
		return nil
	}
	f.Blocks = true
	r.BasicAuth = nil
	return []Finding{f}
}

func basicAuth(r *policy.Route) *policy.BasicAuth {
	if r.BasicAuth == nil {
		r.BasicAuth = &policy.BasicAuth{}
	}
	return r.BasicAuth
}

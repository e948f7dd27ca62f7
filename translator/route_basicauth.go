package translator

import (
	"cmp"

	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/annotations"
)

// defaultRealm is the realm WWW-Authenticate names when auth-realm is
// not set. ingress-nginx sends an empty realm; Envoy cannot (an empty
// realm is unset, and it then names each request's URL, which keeps
// browsers from reusing a password across paths), so fairway names the
// realm of ingress-nginx's own basic-auth example.
const defaultRealm = "Authentication Required"

// basicAuthSecret is the Secret an Ingress's basic authentication reads,
// or false when it has none (canaries follow their main Ingress's).
func (st *ingressState) basicAuthSecret() (nsName, bool) {
	if st.policy == nil || st.policy.BasicAuth == nil || st.isCanary() {
		return nsName{}, false
	}
	a := st.policy.BasicAuth
	return nsName{cmp.Or(a.SecretNamespace, st.obj.Namespace), a.SecretName}, true
}

// resolveBasicAuth reads the users of the Ingress's basic authentication
// from its Secret into its policy. It returns false, with a Problem that
// names the Secret (and the user, never a hash), when the Ingress must
// not be served: the Secret is in another namespace, missing, or holds an
// entry Envoy cannot check. Serving it would open what its author closed;
// ingress-nginx denies such a location with 503.
func (st *ingressState) resolveBasicAuth(ps *problems, secrets map[nsName]*corev1.Secret) bool {
	k, ok := st.basicAuthSecret()
	if !ok {
		return true
	}
	key := annotations.NginxPrefix + "auth-secret"
	if _, ok := st.obj.Annotations[annotations.FairwayPrefix+"auth-secret"]; ok {
		key = annotations.FairwayPrefix + "auth-secret" // the one read
	}
	field := "metadata.annotations[" + key + "]"
	if k.namespace != st.obj.Namespace {
		ps.add(st.ref, RefusedAnnotation, "%s: names Secret %s/%s in another namespace; fairway reads an Ingress's auth Secret from its own namespace only; the Ingress is not served", field, k.namespace, k.name)
		return false
	}
	s := secrets[k]
	if s == nil {
		ps.add(st.ref, SecretNotFound, "%s: Secret %s/%s not found; basic authentication has no users, so the Ingress is not served", field, k.namespace, k.name)
		return false
	}
	users, err := basicAuthUsers(s, st.policy.BasicAuth.Map)
	if err != nil {
		ps.add(st.ref, SecretInvalid, "%s: Secret %s/%s %v; the Ingress is not served", field, k.namespace, k.name, err)
		return false
	}
	pol := *st.policy
	a := *pol.BasicAuth
	a.Users = htpasswdText(users)
	pol.BasicAuth = &a
	st.policy = &pol
	return true
}

// basicAuthPolicy puts a route's basic authentication in the route's own
// filter chain.
func basicAuthPolicy(r *httpRoute, out *envoy.RoutePolicy) bool {
	a := r.policy.BasicAuth
	if a == nil || a.Users == "" {
		return false
	}
	out.BasicAuth = &envoy.BasicAuth{Users: a.Users, Realm: cmp.Or(a.Realm, defaultRealm)}
	return true
}

// trackAuthSecret keeps authSecretReaders in step with an Ingress's
// parse.
func (e *Engine) trackAuthSecret(ik nsName, next *ingressState) {
	k, reads := next.authSecretOf()
	e.authSecretReaders.set(ik, k, reads)
}

func (st *ingressState) authSecretOf() (nsName, bool) {
	if st == nil {
		return nsName{}, false
	}
	return st.basicAuthSecret()
}

// secretChanged: a TLS Secret, or any Secret a spec.tls, an
// auth-tls-secret or a proxy-ssl-secret names (whose Problem says what is
// wrong with it, or whose CA goes out over SDS), moves certificates; any
// Secret may hold an Ingress's basic-auth users or a backend's CA, whose
// Ingresses are checked again. The many Opaque Secrets that are none of
// these cost a look-up, not a pass over the certificates.
func (e *Engine) secretChanged(k nsName, old, next *corev1.Secret) {
	if isTLSSecret(old) || isTLSSecret(next) || e.namedByTLS(k) || e.backendSecrets.readers.read(k) {
		e.dirty.tls = true
	}
	e.reparse(&e.authSecretReaders, k)
	e.backendSecretChanged(k)
	e.gw.gatewayReadsChanged()
	if e.gatewayReads() {
		e.dirty.gateway = true
	}
}

// namedByTLS reports whether an Ingress's spec.tls, or its
// auth-tls-secret, names the Secret k.
func (e *Engine) namedByTLS(k nsName) bool {
	for ik, st := range e.ingresses {
		if c := st.clientCert(); c != nil && c.SecretNamespace == k.namespace && c.SecretName == k.name {
			return true
		}
		if ik.namespace != k.namespace {
			continue
		}
		for _, t := range st.obj.Spec.TLS {
			if t.SecretName == k.name {
				return true
			}
		}
	}
	return false
}

func isTLSSecret(s *corev1.Secret) bool { return s != nil && s.Type == corev1.SecretTypeTLS }

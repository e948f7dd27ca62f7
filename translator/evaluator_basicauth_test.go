package translator

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	basicauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"
	"google.golang.org/protobuf/types/known/anypb"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/envoy"
)

func init() { chainFilterEffects[envoy.BasicAuthFilter] = basicAuthEffect }

// basicAuthEffect is Envoy's basic_auth filter: the request's
// Authorization must be "Basic " and the base64 of "user:password",
// where the user is in the filter's htpasswd lines and the password's
// SHA-1, in base64, is its {SHA} hash. Otherwise 401 with
// WWW-Authenticate naming the realm. A setting beyond the users and the
// realm fails the test, since this evaluator would pass over it.
func basicAuthEffect(t *testing.T, cfg *anypb.Any, req request, out *outcome) {
	t.Helper()
	ba := unpack(t, cfg, &basicauthv3.BasicAuth{})
	if ba.GetForwardUsernameHeader() != "" || ba.GetAuthenticationHeader() != "" || ba.GetAllowMissing() || ba.GetEmitDynamicMetadata() {
		t.Fatalf("a basic_auth setting this evaluator does not follow: %v", ba)
	}
	if ba.GetRealm() == "" {
		t.Fatalf("basic_auth without a realm: Envoy would name each request's URL")
	}
	users := map[string]string{}
	for _, line := range strings.Split(ba.GetUsers().GetInlineString(), "\n") {
		name, hash, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(hash, "{SHA}") || users[name] != "" {
			t.Fatalf("basic_auth users Envoy would refuse: a line %q", name)
		}
		users[name] = hash
	}
	if credentialsMatch(header(req, "Authorization"), users) {
		return
	}
	out.status, out.cluster = envoy.UnauthorizedStatus, ""
	setResponseHeader(out, "www-authenticate", `Basic realm="`+ba.GetRealm()+`"`)
}

func credentialsMatch(authorization string, users map[string]string) bool {
	encoded, ok := strings.CutPrefix(authorization, "Basic ")
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return false
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return false
	}
	hash, known := users[user]
	return known && hash == shaHash(password)
}

// shaHash is htpasswd -s's hash of a password.
func shaHash(password string) string {
	sum := sha1.Sum([]byte(password))
	return "{SHA}" + base64.StdEncoding.EncodeToString(sum[:])
}

// touchesAuthorization: the route sets the Authorization header on its
// way to the backend, which would hide what the client sent.
func touchesAuthorization(headers map[string]string) bool {
	for k := range headers {
		if strings.EqualFold(k, "Authorization") {
			return true
		}
	}
	return false
}

func basicCredentials(user, password string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
}

// TestBasicAuthOutcomes follows requests through the basic-auth goldens:
// the right user and password are forwarded, with the Authorization
// header as sent (nginx passes it on too); a wrong or missing one gets
// 401 with the realm. The goldens' users are foo (bar) and admin
// (s3cret).
func TestBasicAuthOutcomes(t *testing.T) {
	const realm = `Basic realm="Authentication Required"`
	cases := []struct {
		golden  string
		headers map[string]string
		status  int
		www     string
	}{
		{"annotation-auth-type-basic", basicCredentials("foo", "bar"), 0, ""},
		{"annotation-auth-type-basic", basicCredentials("admin", "s3cret"), 0, ""},
		{"annotation-auth-type-basic", basicCredentials("foo", "s3cret"), 401, realm},
		{"annotation-auth-type-basic", basicCredentials("nobody", "bar"), 401, realm},
		{"annotation-auth-type-basic", map[string]string{"Authorization": "Bearer abc"}, 401, realm},
		{"annotation-auth-type-basic", nil, 401, realm},
		{"annotation-auth-secret-type-auth-map", basicCredentials("admin", "s3cret"), 0, ""},
		{"annotation-auth-secret-type-auth-map", basicCredentials("admin", "bar"), 401, realm},
		{"annotation-auth-realm", nil, 401, `Basic realm="Authentication Required - foo"`},
		{"annotation-auth-realm", basicCredentials("foo", "bar"), 0, ""},
		{"annotation-auth-realm-invalid", nil, 401, realm},
	}
	for _, c := range cases {
		in := readGoldenInput(t, "testdata/"+c.golden+"/input.yaml")
		rc := routeConfig(Translate(in.Input, in.Options), envoy.HTTPRouteConfig)
		out := evaluate(t, rc, request{authority: "private.example.com", path: "/x", headers: c.headers})
		if out.status != c.status || out.responseHeaders["www-authenticate"] != c.www {
			t.Errorf("%s %v: status %d WWW-Authenticate %q, want %d %q", c.golden, c.headers, out.status, out.responseHeaders["www-authenticate"], c.status, c.www)
		}
		if c.status == 0 && (out.cluster != "default/web/80" || touchesAuthorization(out.upstreamHeaders)) {
			t.Errorf("%s %v: forwarded to %q setting %v, want default/web/80 with the request's Authorization as sent", c.golden, c.headers, out.cluster, out.upstreamHeaders)
		}
	}
	// The Ingresses refused for their auth serve nothing; the open one is
	// served without a password.
	for _, golden := range []string{"annotation-auth-secret-missing", "annotation-auth-secret-bcrypt", "annotation-auth-type-invalid"} {
		rc := routeConfig(translateGolden(t, golden), envoy.HTTPRouteConfig)
		for _, host := range []string{"private.example.com", "cross.example.com", "apr1.example.com", "malformed.example.com", "digest.example.com", "no-type.example.com", "no-secret.example.com"} {
			if out := evaluate(t, rc, request{authority: host, path: "/"}); out.status != 404 {
				t.Errorf("%s %s: status %d cluster %q, want 404 (not served)", golden, host, out.status, out.cluster)
			}
		}
		if out := evaluate(t, rc, request{authority: "open.example.com", path: "/"}); out.status != 0 || out.cluster != "default/web/80" {
			t.Errorf("%s open.example.com: status %d, want forwarded", golden, out.status)
		}
	}
}

// TestBasicAuthSecretChangeRetranslates: the users come from a Secret
// that is not the Ingress, so the engine must follow it: added, it
// serves the Ingress; changed to a hash Envoy cannot check, or deleted,
// it unserves it, each time as a translation from scratch would.
func TestBasicAuthSecretChangeRetranslates(t *testing.T) {
	in := readGoldenInput(t, "testdata/annotation-auth-type-basic/input.yaml")
	secret := in.Secrets[0]
	in.Secrets = nil
	e := NewEngine(in.Options)
	e.Sync(in.Input)
	check := func(step string, want int, secrets ...*corev1.Secret) {
		t.Helper()
		warm := e.Output()
		cold := NewEngine(in.Options)
		full := in.Input
		full.Secrets = secrets
		cold.Sync(full)
		if diff := CompareOutputs(warm, cold.Output()); diff != "" {
			t.Fatalf("%s: incremental differs from scratch:\n%s", step, diff)
		}
		rc := routeConfig(warm.Result(), envoy.HTTPRouteConfig)
		if out := evaluate(t, rc, request{authority: "private.example.com", path: "/"}); out.status != want {
			t.Fatalf("%s: status %d, want %d", step, out.status, want)
		}
	}
	check("no Secret", 404)
	if err := e.Upsert(secret); err != nil {
		t.Fatal(err)
	}
	check("Secret added", 401, secret)
	bad := secret.DeepCopy()
	bad.Data = map[string][]byte{"auth": []byte("foo:$apr1$qICNZ61Q$2iooiJVUAMmprq258/ChP1\n")}
	if err := e.Upsert(bad); err != nil {
		t.Fatal(err)
	}
	check("Secret with an apr1 hash", 404, bad)
	if err := e.Delete(bad); err != nil {
		t.Fatal(err)
	}
	check("Secret deleted", 404)
}

// TestBasicAuthHashesNeverShown: the users' hashes reach the route config
// Envoy gets, and nothing that is shown: the debug and translate JSON
// (Resources without showSecrets) and the Problems, which become Events
// and logs, carry the user and the Secret only.
func TestBasicAuthHashesNeverShown(t *testing.T) {
	hashes := []string{shaHash("bar"), shaHash("s3cret"), "$2y$05$pthxvn2t8b9rF9gF1FhvrutHKik", "$apr1$qICNZ61Q$2iooiJVUAMmprq258"}
	for _, golden := range []string{"annotation-auth-type-basic", "annotation-auth-secret-type-auth-map", "annotation-auth-secret-bcrypt"} {
		res := translateGolden(t, golden)
		shown, err := res.Resources(false)
		if err != nil {
			t.Fatal(err)
		}
		text, err := json.Marshal(struct {
			*Resources
			Problems []Problem
		}{shown, res.Problems})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hashes {
			if strings.Contains(string(text), h) || strings.Contains(string(text), strings.TrimPrefix(h, "{SHA}")) {
				t.Errorf("%s: a password hash is shown: %s", golden, h)
			}
		}
		if golden == "annotation-auth-type-basic" {
			sent, err := res.Resources(true)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := json.Marshal(sent); !strings.Contains(string(b), strings.TrimPrefix(shaHash("bar"), "{SHA}")) || !strings.Contains(string(shown.Routes[0]), envoy.RedactedUsers) {
				t.Errorf("%s: the users are not in the config Envoy gets, or not redacted where shown", golden)
			}
		}
	}
}

// TestProxylessBasicAuthFailsClosed: a gRPC client runs no basic_auth
// filter, so the proxyless route of an Ingress with basic authentication
// answers 401 (which gRPC fails as an unsupported action), with the right
// password or without one, rather than forwarding unchecked.
func TestProxylessBasicAuthFailsClosed(t *testing.T) {
	res := translateGolden(t, "annotation-auth-type-basic")
	rc := proxylessRoutes(t, res, "private.example.com")
	for _, headers := range []map[string]string{nil, basicCredentials("foo", "bar")} {
		req := get("/pkg.Svc/Call")
		req.authority, req.headers = "private.example.com", headers
		if out := evaluate(t, rc, req); out.status != envoy.UnauthorizedStatus || out.cluster != "" {
			t.Errorf("%v: proxyless %+v, want a 401 direct response", headers, out)
		}
	}
	open := evaluate(t, proxylessRoutes(t, res, "open.example.com"), request{authority: "open.example.com", path: "/pkg.Svc/Call"})
	if open.status != 0 || open.cluster != "default/web/80" {
		t.Errorf("the open Ingress's proxyless route: %+v, want forwarded", open)
	}
}

// TestOpaqueSecretNamedByTLSRetranslates: a spec.tls that names a Secret
// which turns up Opaque (not a certificate) gets that Problem instead of
// SecretNotFound at once, as from scratch: Opaque Secrets reach the
// engine for basic auth, and the one a spec.tls names still moves TLS.
func TestOpaqueSecretNamedByTLSRetranslates(t *testing.T) {
	in := readGoldenInput(t, "testdata/annotation-auth-type-basic/input.yaml")
	ing := in.Ingresses[1].DeepCopy() // the open one
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"open.example.com"}, SecretName: "open-tls"}}
	in.Ingresses[1] = ing
	e := NewEngine(in.Options)
	e.Sync(in.Input)
	e.Output()
	opaque := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "open-tls"}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"x": []byte("y")}}
	if err := e.Upsert(opaque); err != nil {
		t.Fatal(err)
	}
	warm := e.Output()
	full := in.Input
	full.Secrets = append(slices.Clone(full.Secrets), opaque)
	cold := NewEngine(in.Options)
	cold.Sync(full)
	if diff := CompareOutputs(warm, cold.Output()); diff != "" {
		t.Fatalf("incremental differs from scratch:\n%s", diff)
	}
}

// TestBasicAuthGuardsTheDefaultBackend: an Ingress's defaultBackend is
// one of its routes, and asks for the password too.
func TestBasicAuthGuardsTheDefaultBackend(t *testing.T) {
	in := readGoldenInput(t, "testdata/annotation-auth-type-basic/input.yaml")
	ing := in.Ingresses[0].DeepCopy()
	ing.Spec.DefaultBackend = ing.Spec.Rules[0].HTTP.Paths[0].Backend.DeepCopy()
	in.Ingresses = []*networkingv1.Ingress{ing}
	rc := routeConfig(Translate(in.Input, in.Options), envoy.HTTPRouteConfig)
	if out := evaluate(t, rc, request{authority: "elsewhere.example.com", path: "/"}); out.status != envoy.UnauthorizedStatus {
		t.Errorf("the default backend without a password: %+v, want 401", out)
	}
	if out := evaluate(t, rc, request{authority: "elsewhere.example.com", path: "/", headers: basicCredentials("foo", "bar")}); out.status != 0 || out.cluster != "default/web/80" {
		t.Errorf("the default backend with the password: %+v, want forwarded", out)
	}
}

// TestBasicAuthAfterRedirects: nginx redirects (ssl-redirect, a
// permanent-redirect) in its rewrite phase, before it asks for the
// password, so a plain-HTTP request goes to https before a password is
// sent in the clear; https itself asks for it.
func TestBasicAuthAfterRedirects(t *testing.T) {
	in := readGoldenInput(t, "testdata/annotation-auth-type-basic/input.yaml")
	moved := in.Ingresses[0].DeepCopy()
	moved.Annotations = maps.Clone(moved.Annotations)
	moved.Annotations["nginx.ingress.kubernetes.io/permanent-redirect"] = "https://elsewhere.example.com/"
	in.Ingresses = []*networkingv1.Ingress{moved}
	rc := routeConfig(Translate(in.Input, in.Options), envoy.HTTPRouteConfig)
	if out := evaluate(t, rc, request{authority: "private.example.com", path: "/"}); out.status != 301 || out.location != "https://elsewhere.example.com/" {
		t.Errorf("permanent-redirect with basic auth, no password: %+v, want the 301", out)
	}

	in = readGoldenInput(t, "testdata/annotation-auth-type-basic/input.yaml")
	cert, _ := base64.StdEncoding.DecodeString(e2eCert)
	key, _ := base64.StdEncoding.DecodeString(e2eKey)
	in.Secrets = append(slices.Clone(in.Secrets), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "private-tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key}})
	tlsIng := in.Ingresses[0].DeepCopy()
	tlsIng.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"private.example.com"}, SecretName: "private-tls"}}
	in.Ingresses = []*networkingv1.Ingress{tlsIng}
	in.Options.SSLRedirect = true
	res := Translate(in.Input, in.Options)
	plain := evaluate(t, routeConfig(res, envoy.HTTPRouteConfig), request{authority: "private.example.com", path: "/x"})
	if plain.status != 308 || !strings.HasPrefix(plain.location, "https://") {
		t.Errorf("plain HTTP on a TLS host with basic auth: %+v, want the 308 to https before any password", plain)
	}
	https := 0
	for _, rc := range res.Routes {
		if rc.GetName() == envoy.HTTPRouteConfig {
			continue
		}
		https++
		out := evaluate(t, rc, request{scheme: "https", authority: "private.example.com", path: "/x"})
		if out.status != envoy.UnauthorizedStatus {
			t.Errorf("https route table %s without a password: %+v, want 401", rc.GetName(), out)
		}
	}
	if https == 0 {
		t.Error("no https route table")
	}
}

// TestBasicAuthGuardsCanaryRoutes: a canary's requests follow its main
// Ingress's annotations, so the canary's header route asks for the main
// Ingress's password too, and never forwards without it.
func TestBasicAuthGuardsCanaryRoutes(t *testing.T) {
	in := readGoldenInput(t, "testdata/annotation-auth-type-basic/input.yaml")
	const canary = `
metadata:
  name: private-canary
  namespace: default
  creationTimestamp: "2026-01-02T00:00:00Z"
  annotations: {nginx.ingress.kubernetes.io/canary: "true", nginx.ingress.kubernetes.io/canary-by-header: X-Canary}
spec:
  ingressClassName: fairway
  rules: [{host: private.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}]}}]
`
	var c networkingv1.Ingress
	if err := yaml.UnmarshalStrict([]byte(canary), &c); err != nil {
		t.Fatal(err)
	}
	svc := in.Services[0].DeepCopy()
	svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Port: 8080})
	in.Services = []*corev1.Service{svc}
	in.Ingresses = []*networkingv1.Ingress{in.Ingresses[0], &c}
	rc := routeConfig(Translate(in.Input, in.Options), envoy.HTTPRouteConfig)
	if out := evaluate(t, rc, request{authority: "private.example.com", path: "/", headers: map[string]string{"X-Canary": "always"}}); out.status != envoy.UnauthorizedStatus {
		t.Errorf("the canary's header route without a password: %+v, want 401", out)
	}
	withPassword := basicCredentials("foo", "bar")
	withPassword["X-Canary"] = "always"
	if out := evaluate(t, rc, request{authority: "private.example.com", path: "/", headers: withPassword}); out.status != 0 || out.cluster != "default/web/8080" {
		t.Errorf("the canary's header route with the password: %+v, want the canary", out)
	}
}

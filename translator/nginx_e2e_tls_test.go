package translator

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/envoy"
)

// TestNginxE2ETLSRedirect ports the request and response expectations of
// ingress-nginx's e2e cases for force-ssl-redirect and the HTTP to HTTPS
// redirect of TLS hosts (its ssl-redirect default) to fairway, through the
// route tables it emits. ingress-nginx redirects TLS hosts by default;
// fairway does so with --ssl-redirect, which the rows that expect its
// default set. Where the Location differs only in how the same URL is
// written, the row says so.
func TestNginxE2ETLSRedirect(t *testing.T) {
	cases := []struct {
		source      string // the e2e file and case
		sslRedirect bool
		annotations map[string]string
		tls         bool
		host, path  string
		status      int
		location    string
	}{
		// test/e2e/annotations/forcesslredirect.go: "should redirect to https"
		{
			source:      "forcesslredirect.go: should redirect to https",
			annotations: map[string]string{"nginx.ingress.kubernetes.io/force-ssl-redirect": "true"},
			host:        "forcesslredirect.bar.com", path: "/",
			status: 308, location: "https://forcesslredirect.bar.com/",
		},
		// test/e2e/settings/tls.go: "should not use ports during the HTTP to
		// HTTPS redirection". nginx writes "https://<host>"; Envoy keeps the
		// request's path "/", the same URL (RFC 3986 6.2.3).
		{
			source:      "settings/tls.go: should not use ports during the HTTP to HTTPS redirection",
			sslRedirect: true, tls: true,
			host: "settings-tls", path: "/",
			status: 308, location: "https://settings-tls/",
		},
		// The same case as a client that names the http port: Envoy's
		// https_redirect drops ":80", as nginx never writes it.
		{
			source:      "settings/tls.go: should not use ports during the HTTP to HTTPS redirection (Host with :80)",
			sslRedirect: true, tls: true,
			host: "settings-tls:80", path: "/",
			status: 308, location: "https://settings-tls/",
		},
		// test/e2e/settings/no_tls_redirect_locations.go: "Check no tls
		// redirect locations config", with ingress-nginx's default list
		// (/.well-known/acme-challenge): such a path is never redirected.
		{
			source:      "settings/no_tls_redirect_locations.go: Check no tls redirect locations config (default list)",
			sslRedirect: true, tls: true,
			host: "settings-tls", path: "/.well-known/acme-challenge/token",
			status: 0,
		},
		// test/e2e/annotations/forcesslredirect.go with the annotation set
		// to false: force-ssl-redirect asks nothing, the host has no TLS, so
		// the request is forwarded.
		{
			source:      "forcesslredirect.go: should redirect to https (annotation false)",
			annotations: map[string]string{"nginx.ingress.kubernetes.io/force-ssl-redirect": "false"},
			host:        "forcesslredirect.bar.com", path: "/",
			status: 0,
		},
	}
	for _, c := range cases {
		in := e2eTLSInput(t, strings.Split(c.host, ":")[0], c.annotations, c.tls)
		res := Translate(in, Options{SSLRedirect: c.sslRedirect})
		rc := routeConfig(res, envoy.HTTPRouteConfig)
		if rc == nil {
			t.Fatalf("%s: no http route configuration", c.source)
		}
		out := evaluate(t, rc, request{authority: c.host, path: c.path})
		if out.status != c.status || out.location != c.location {
			t.Errorf("%s: got %d %q, want %d %q", c.source, out.status, out.location, c.status, c.location)
		}
		if c.status == 0 && out.cluster != "default/http-svc/80" {
			t.Errorf("%s: forwarded to %q, want the echo Service", c.source, out.cluster)
		}
	}
}

// e2eTLSInput is the e2e framework's single Ingress (framework.
// NewSingleIngress / NewSingleIngressWithTLS): host, path "/", the echo
// Service on port 80, with a certificate for host when tls.
func e2eTLSInput(t *testing.T, host string, annotations map[string]string, tls bool) Input {
	t.Helper()
	var in Input
	doc := `
ingressClasses:
- metadata: {name: fairway}
  spec: {controller: fairway.dev/ingress-controller}
services:
- metadata: {name: http-svc, namespace: default}
  spec: {ports: [{port: 80}]}
secrets:
- metadata: {name: e2e-tls, namespace: default}
  type: kubernetes.io/tls
  data: {tls.crt: "CRT", tls.key: "KEY"}
ingresses:
- metadata: {name: e2e, namespace: default}
  spec:
    ingressClassName: fairway
    rules: [{host: HOST, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: http-svc, port: {number: 80}}}}]}}]
`
	doc = strings.NewReplacer("HOST", host, "CRT", e2eCert, "KEY", e2eKey).Replace(doc)
	if err := yaml.UnmarshalStrict([]byte(doc), &in); err != nil {
		t.Fatal(err)
	}
	ing := in.Ingresses[0]
	ing.Annotations = annotations
	if tls {
		ing.Spec.TLS = append(ing.Spec.TLS, tlsEntry(host, "e2e-tls"))
	}
	return in
}

// A certificate without a SAN for the e2e hosts: fairway serves a TLS host
// with the Secret its Ingress names whatever names the certificate holds,
// as ingress-nginx does.
const (
	e2eCert = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJ0akNDQVYyZ0F3SUJBZ0lJR090aGtvR3NTZmd3Q2dZSUtvWkl6ajBFQXdJd05URVlNQllHQTFVRUNoTVAKWm1GcGNuZGhlU0JsZUdGdGNHeGxNUmt3RndZRFZRUURFeEJ6YUc5d0xtVjRZVzF3YkdVdVkyOXRNQ0FYRFRJMgpNREV3TVRBd01EQXdNRm9ZRHpJeE1qWXdNVEF4TURBd01EQXdXakExTVJnd0ZnWURWUVFLRXc5bVlXbHlkMkY1CklHVjRZVzF3YkdVeEdUQVhCZ05WQkFNVEVITm9iM0F1WlhoaGJYQnNaUzVqYjIwd1dUQVRCZ2NxaGtqT1BRSUIKQmdncWhrak9QUU1CQndOQ0FBUzR3TWdNbktCUEZxbTNLWVRFSGowQkhaRDc1R0cvTForWWdqNUNMalZCWUxldAplb0ZBTG1WSXpwY25IMnFhODAwSkFSZHdoUEgyUG56alVBZzFxWklDbzFVd1V6QU9CZ05WSFE4QkFmOEVCQU1DCkI0QXdFd1lEVlIwbEJBd3dDZ1lJS3dZQkJRVUhBd0V3TEFZRFZSMFJCQ1V3STRJUWMyaHZjQzVsZUdGdGNHeGwKTG1OdmJZSVBZWEJwTG1WNFlXMXdiR1V1WTI5dE1Bb0dDQ3FHU000OUJBTUNBMGNBTUVRQ0lGajJpWUs1bEVqZQpKUEpnblR5VitGVGZaYTRBYXpkOER4NVI5RG5vRlV5eEFpQTVxOU1KOXRsTjA0TTdQN0Q4L3NoaDZ3TGxnOGpNClZoeEJsUytRc3ZlRDVBPT0KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
	e2eKey  = "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUNvV0gvQjFHSnBwcytYOW0wNkRjWDhocU9kUUx2cTczU2xyUWl3VTdwTWVvQW9HQ0NxR1NNNDkKQXdFSG9VUURRZ0FFdU1ESURKeWdUeGFwdHltRXhCNDlBUjJRKytSaHZ5MmZtSUkrUWk0MVFXQzNyWHFCUUM1bApTTTZYSng5cW12Tk5DUUVYY0lUeDlqNTg0MUFJTmFtU0FnPT0KLS0tLS1FTkQgRUMgUFJJVkFURSBLRVktLS0tLQo="
)

package annotations

import (
	"testing"

	"github.com/fairwayhq/fairway/translator/policy"
)

// TestParseClientCert: the auth-tls-* keys together, as ingress-nginx's
// client certificate example writes them.
func TestParseClientCert(t *testing.T) {
	r, found := Parse(map[string]string{
		NginxPrefix + "auth-tls-secret":                       "default/ca-secret",
		NginxPrefix + "auth-tls-verify-client":                "optional_no_ca",
		NginxPrefix + "auth-tls-verify-depth":                 "2",
		NginxPrefix + "auth-tls-pass-certificate-to-upstream": "true",
	})
	want := policy.ClientCert{SecretNamespace: "default", SecretName: "ca-secret", Verify: policy.VerifyOptionalNoCA, Depth: 2, PassCertificate: true}
	if len(found) != 0 || r.ClientCert == nil || *r.ClientCert != want {
		t.Fatalf("got %+v, %+v; want %+v and no findings", r.ClientCert, found, want)
	}
	if !r.ClientCert.Asks() || r.ClientCert.MaxDepth() != 3 { // Envoy counts the trusted CA too
		t.Errorf("Asks %v, MaxDepth %d", r.ClientCert.Asks(), r.ClientCert.MaxDepth())
	}
}

// TestParseClientCertDefaults: the Secret alone is verify on, depth 1, no
// certificate upstream.
func TestParseClientCertDefaults(t *testing.T) {
	r, found := Parse(map[string]string{NginxPrefix + "auth-tls-secret": "apps/ca-secret"})
	c := r.ClientCert
	if len(found) != 0 || c == nil || c.SecretNamespace != "apps" || c.SecretName != "ca-secret" || c.Verify != policy.VerifyOn || c.PassCertificate {
		t.Fatalf("got %+v, %+v", c, found)
	}
	if !c.Asks() || c.MaxDepth() != 2 {
		t.Errorf("Asks %v, MaxDepth %d; want true, 2 (nginx's 1 in Envoy's count)", c.Asks(), c.MaxDepth())
	}
	off, _ := Parse(map[string]string{NginxPrefix + "auth-tls-secret": "apps/ca-secret", NginxPrefix + "auth-tls-verify-client": "off"})
	if off.ClientCert.Asks() {
		t.Error("verify off asks for a certificate")
	}
}

// TestParseClientCertMalformed: a malformed Secret, mode or depth blocks
// the Ingress (the keys guard access); a malformed pass-certificate flag
// is ignored, which keeps the certificate from the backend.
func TestParseClientCertMalformed(t *testing.T) {
	for _, c := range []struct {
		key, value string
		blocks     bool
	}{
		{"auth-tls-secret", "", true},
		{"auth-tls-secret", "ca-secret", true},
		{"auth-tls-secret", "a/b/c", true},
		{"auth-tls-secret", "Default/ca", true},
		{"auth-tls-secret", "/ca", true},
		{"auth-tls-verify-client", "ON", true},
		{"auth-tls-verify-client", "required", true},
		{"auth-tls-verify-depth", "0", true},
		{"auth-tls-verify-depth", "-1", true},
		{"auth-tls-verify-depth", "101", true},
		{"auth-tls-verify-depth", "1.5", true},
		{"auth-tls-pass-certificate-to-upstream", "yes", false},
	} {
		a := map[string]string{NginxPrefix + c.key: c.value}
		if c.key != "auth-tls-secret" {
			a[NginxPrefix+"auth-tls-secret"] = "default/ca"
		}
		r, found := Parse(a)
		if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks != c.blocks {
			t.Errorf("%s: %q: got %+v, want one Invalid finding, blocking %v", c.key, c.value, found, c.blocks)
			continue
		}
		if c.key == "auth-tls-pass-certificate-to-upstream" && r.ClientCert.PassCertificate {
			t.Errorf("%q: the certificate is passed", c.value)
		}
	}
}

// TestParseClientCertWithoutSecret: the other keys alone do nothing, as
// in ingress-nginx, and say so; the error page is reported as not
// honoured, without blocking; match-cn is refused.
func TestParseClientCertWithoutSecret(t *testing.T) {
	r, found := Parse(map[string]string{NginxPrefix + "auth-tls-verify-client": "on", NginxPrefix + "auth-tls-verify-depth": "2"})
	if r.ClientCert != nil || len(found) != 1 || found[0].Key != NginxPrefix+"auth-tls-secret" || found[0].Blocks {
		t.Errorf("without the Secret: got %+v, %+v", r.ClientCert, found)
	}
	r, found = Parse(map[string]string{NginxPrefix + "auth-tls-secret": "default/ca", NginxPrefix + "auth-tls-error-page": "https://example.com/e"})
	if r.ClientCert == nil || len(found) != 1 || found[0].Kind != Unsupported || found[0].Blocks {
		t.Errorf("error page: got %+v, %+v", r.ClientCert, found)
	}
	_, found = Parse(map[string]string{NginxPrefix + "auth-tls-secret": "default/ca", NginxPrefix + "auth-tls-match-cn": "CN=alice"})
	if len(found) != 1 || found[0].Kind != Refused || !found[0].Blocks {
		t.Errorf("match-cn: got %+v, want Refused and blocking", found)
	}
}

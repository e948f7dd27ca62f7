package annotations

import (
	"strings"
	"testing"

	"github.com/fairwayhq/fairway/translator/policy"
)

// TestParseProxySSL reads whole annotation sets: each proxy-ssl-* value
// lands in its field of policy.BackendTLS, under either prefix.
func TestParseProxySSL(t *testing.T) {
	const p = NginxPrefix + "proxy-ssl-"
	for _, c := range []struct {
		ann  map[string]string
		want policy.BackendTLS
	}{
		{map[string]string{p + "secret": "shop/backend-ca"}, policy.BackendTLS{Secret: "shop/backend-ca"}},
		{map[string]string{p + "secret": " shop/backend-ca ", p + "verify": "on"}, policy.BackendTLS{Secret: "shop/backend-ca", Verify: true}},
		{map[string]string{p + "secret": "shop/ca", p + "verify": "off", p + "verify-depth": "3"}, policy.BackendTLS{Secret: "shop/ca", VerifyDepth: 3}},
		{map[string]string{p + "secret": "shop/ca", p + "name": "Web.Shop.svc", p + "server-name": "on"}, policy.BackendTLS{Secret: "shop/ca", Name: "web.shop.svc", ServerName: true}},
		{map[string]string{p + "secret": "shop/ca", p + "protocols": "TLSv1.3  TLSv1.2"}, policy.BackendTLS{Secret: "shop/ca", MinVersion: policy.TLSv1_2, MaxVersion: policy.TLSv1_3}},
		{map[string]string{p + "secret": "shop/ca", p + "protocols": "TLSv1 TLSv1.2"}, policy.BackendTLS{Secret: "shop/ca", MinVersion: policy.TLSv1, MaxVersion: policy.TLSv1_2}},
		{map[string]string{p + "secret": "shop/ca", p + "protocols": "TLSv1.1", p + "ciphers": "ECDHE-RSA-AES128-SHA"}, policy.BackendTLS{Secret: "shop/ca", MinVersion: policy.TLSv1_1, MaxVersion: policy.TLSv1_1, Ciphers: "ECDHE-RSA-AES128-SHA"}},
		{map[string]string{p + "secret": "shop/ca", p + "ciphers": "AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"}, policy.BackendTLS{Secret: "shop/ca", Ciphers: "AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256"}},
		{map[string]string{p + "secret": "shop/ca", p + "ciphers": "DEFAULT"}, policy.BackendTLS{Secret: "shop/ca"}},
		{map[string]string{FairwayPrefix + "proxy-ssl-secret": "shop/ours", p + "secret": "shop/theirs"}, policy.BackendTLS{Secret: "shop/ours"}},
	} {
		r, found := Parse(c.ann)
		if len(found) != 0 || r.Upstream.TLS != c.want {
			t.Errorf("%v: got %+v, %v; want %+v", c.ann, r.Upstream.TLS, found, c.want)
		}
	}
}

// TestParseProxySSLInvalid: a malformed value is a finding naming the
// key; those that guard the backend (the Secret, verify, the name) block
// the Ingress, and the others leave the default in place.
func TestParseProxySSLInvalid(t *testing.T) {
	const p = NginxPrefix + "proxy-ssl-"
	for _, c := range []struct {
		key, value, says string
		blocks           bool
	}{
		{"secret", "backend-ca", "namespace/name", true},
		{"secret", "shop/", "namespace/name", true},
		{"secret", "shop/a/b", "namespace/name", true},
		{"secret", "Shop/ca", "namespace/name", true},
		{"verify", "true", `"on" or "off"`, true},
		{"verify", "ON", `"on" or "off"`, true},
		{"name", "web_shop", "DNS name", true},
		{"name", "[::1]", "DNS name", true},
		{"name", "", "DNS name", true},
		{"verify-depth", "-1", "whole number", false},
		{"verify-depth", "100", "whole number", false},
		{"verify-depth", "two", "whole number", false},
		{"server-name", "yes", `"on" or "off"`, false},
		{"protocols", "SSLv3 TLSv1.2", "not spoken by Envoy", false},
		{"protocols", "TLSv1.4", "not one of", false},
		{"protocols", "  ", "names no protocol", false},
		{"ciphers", "HIGH:!aNULL", "not a cipher suite Envoy accepts", false},
		{"ciphers", "AES128-SHA:", "not a cipher suite Envoy accepts", false},
		{"ciphers", "aes128-sha", "not a cipher suite Envoy accepts", false},
	} {
		ann := map[string]string{p + "secret": "shop/ca", p + "name": "web.shop.svc", p + c.key: c.value}
		r, found := Parse(ann)
		var hit *Finding
		for i := range found {
			if found[i].Key == p+c.key && hit == nil {
				hit = &found[i]
			}
		}
		if hit == nil || hit.Kind != Invalid || hit.Blocks != c.blocks || !strings.Contains(hit.Message, c.says) {
			t.Errorf("%s=%q: findings %+v; want Invalid, blocks %v, saying %q", c.key, c.value, found, c.blocks, c.says)
			continue
		}
		tls := r.Upstream.TLS
		if !c.blocks && (tls.VerifyDepth != 0 || tls.ServerName || tls.MinVersion != "" || tls.MaxVersion != "" || tls.Ciphers != "") {
			t.Errorf("%s=%q: %+v; want the default kept", c.key, c.value, tls)
		}
	}
}

// TestProxySSLWithoutSecret: ingress-nginx reads no proxy-ssl-* without
// proxy-ssl-secret. verify "on" then has nothing to verify against and
// blocks; the others are ignored with a finding. server-name "on"
// without a name to send sends none. Versions below TLS 1.2 without
// ciphers are kept, with a finding: Envoy's default list cannot speak
// them.
func TestProxySSLWithoutSecret(t *testing.T) {
	const p = NginxPrefix + "proxy-ssl-"
	for _, c := range []struct {
		ann    map[string]string
		key    string
		blocks bool
	}{
		{map[string]string{p + "verify": "on"}, p + "verify", true},
		{map[string]string{p + "verify": "on", p + "name": "web.shop.svc"}, p + "verify", true},
		{map[string]string{p + "name": "web.shop.svc", p + "server-name": "on"}, p + "secret", false},
		{map[string]string{p + "ciphers": "AES128-SHA"}, p + "secret", false},
		{map[string]string{p + "secret": "shop/ca", p + "server-name": "on"}, p + "server-name", false},
		{map[string]string{p + "secret": "shop/ca", p + "protocols": "TLSv1 TLSv1.1"}, p + "protocols", false},
	} {
		r, found := Parse(c.ann)
		if len(found) != 1 || found[0].Key != c.key || found[0].Blocks != c.blocks {
			t.Errorf("%v: findings %+v; want one on %s, blocks %v", c.ann, found, c.key, c.blocks)
		}
		if tls := r.Upstream.TLS; tls.ServerName || (tls.Secret == "" && tls != (policy.BackendTLS{})) || (tls.MaxVersion != "" && tls.MaxVersion != policy.TLSv1_1) {
			t.Errorf("%v: %+v left in the policy", c.ann, tls)
		}
	}
	if _, found := Parse(map[string]string{p + "verify": "off"}); len(found) != 0 {
		t.Errorf(`verify "off" alone: %+v; want nothing to say`, found)
	}
}

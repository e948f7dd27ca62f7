package envoy

import (
	"strings"
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
)

// TestUpstreamTLSNames: the zero UpstreamTLS keeps the protocol's name;
// every field that differs gives another name, all after the protocol's
// suffix, and the same settings give the same name.
func TestUpstreamTLSNames(t *testing.T) {
	base := UpstreamTLS{CASecret: UpstreamCASecretName("shop", "ca"), SubjectAltName: "web.shop.svc", MaxVerifyDepth: 2}
	variants := []UpstreamTLS{
		{}, base,
		{CASecret: UpstreamCASecretName("shop", "ca2"), SubjectAltName: "web.shop.svc", MaxVerifyDepth: 2},
		{CASecret: base.CASecret, SubjectAltName: "api.shop.svc", MaxVerifyDepth: 2},
		{CASecret: base.CASecret, SubjectAltName: "web.shop.svc", MaxVerifyDepth: 3},
		{CASecret: base.CASecret, SubjectAltName: "web.shop.svc", MaxVerifyDepth: 2, SNI: "web.shop.svc"},
		{CASecret: base.CASecret, SubjectAltName: "web.shop.svc", MaxVerifyDepth: 2, CertSecret: UpstreamCertSecretName("shop", "ca")},
		{MinVersion: TLSv1_3}, {MaxVersion: TLSv1_3}, {MinVersion: TLSv1_2, MaxVersion: TLSv1_3},
		{Ciphers: "AES128-SHA"}, {Ciphers: "AES128-SHA:AES256-SHA"}, {Ciphers: "AES256-SHA:AES128-SHA"},
		// Fields that run into each other must not meet.
		{SNI: "ab", Ciphers: "c"}, {SNI: "a", Ciphers: "bc"},
	}
	seen := map[string]UpstreamTLS{}
	for _, v := range variants {
		name := UpstreamClusterName("shop", "web", 443, Upstream{TLS: true, Verify: &v})
		if v == (UpstreamTLS{}) {
			if name != "shop/web/443/tls" {
				t.Errorf("zero: %q, want shop/web/443/tls", name)
			}
		} else if !strings.HasPrefix(name, "shop/web/443/tls/proxy-ssl-") || len(name) != len("shop/web/443/tls/proxy-ssl-")+16 {
			t.Errorf("%+v: %q, want shop/web/443/tls/proxy-ssl-<16 hex digits>", v, name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("%q names both %+v and %+v", name, prev, v)
		}
		seen[name] = v
		if again := UpstreamClusterName("shop", "web", 443, Upstream{TLS: true, Verify: &v}); again != name {
			t.Errorf("%+v: %q, then %q", v, name, again)
		}
	}
	if got := UpstreamClusterName("shop", "web", 80, Upstream{Verify: &base}); got != "shop/web/80" {
		t.Errorf("verification without TLS: %q, want the plain cluster's name", got)
	}
}

// TestUpstreamTLSContext: each setting lands in its UpstreamTlsContext
// field; the zero value is the unverified context without SNI.
func TestUpstreamTLSContext(t *testing.T) {
	if got, want := upstreamTLSContext("h2", UpstreamTLS{}), (&tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{AlpnProtocols: []string{"h2"}}}); !proto.Equal(got, want) {
		t.Errorf("zero: %v, want %v", got, want)
	}
	v := UpstreamTLS{
		CASecret: "shop/ca/upstream-ca", SubjectAltName: "web.shop.svc", MaxVerifyDepth: 4,
		CertSecret: "shop/ca/upstream-cert", SNI: "web.shop.svc",
		MinVersion: TLSv1_2, MaxVersion: TLSv1_3, Ciphers: "ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA",
	}
	ctx := upstreamTLSContext("http/1.1", v)
	common := ctx.GetCommonTlsContext()
	cv := common.GetCombinedValidationContext()
	san := cv.GetDefaultValidationContext().GetMatchTypedSubjectAltNames()
	switch {
	case ctx.GetSni() != "web.shop.svc":
		t.Errorf("sni %q", ctx.GetSni())
	case cv.GetValidationContextSdsSecretConfig().GetName() != v.CASecret || cv.GetValidationContextSdsSecretConfig().GetSdsConfig().GetAds() == nil:
		t.Errorf("validation context over SDS: %v", cv.GetValidationContextSdsSecretConfig())
	case len(san) != 1 || san[0].GetSanType() != tlsv3.SubjectAltNameMatcher_DNS || san[0].GetMatcher().GetExact() != "web.shop.svc":
		t.Errorf("SAN matchers: %v", san)
	case cv.GetDefaultValidationContext().GetMaxVerifyDepth().GetValue() != 4:
		t.Errorf("max_verify_depth: %v", cv.GetDefaultValidationContext().GetMaxVerifyDepth())
	case len(common.GetTlsCertificateSdsSecretConfigs()) != 1 || common.GetTlsCertificateSdsSecretConfigs()[0].GetName() != v.CertSecret:
		t.Errorf("client certificate: %v", common.GetTlsCertificateSdsSecretConfigs())
	case common.GetTlsParams().GetTlsMinimumProtocolVersion() != TLSv1_2 || common.GetTlsParams().GetTlsMaximumProtocolVersion() != TLSv1_3:
		t.Errorf("tls_params: %v", common.GetTlsParams())
	case strings.Join(common.GetTlsParams().GetCipherSuites(), " ") != "ECDHE-RSA-AES128-GCM-SHA256 AES256-SHA":
		t.Errorf("cipher_suites: %v", common.GetTlsParams().GetCipherSuites())
	}
	if err := ctx.ValidateAll(); err != nil {
		t.Error(err)
	}
	if err := ValidationContextSecret("shop/ca/upstream-ca", []byte("PEM")).ValidateAll(); err != nil {
		t.Error(err)
	}
}

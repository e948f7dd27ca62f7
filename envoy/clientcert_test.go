package envoy

import (
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// chainContext unpacks a chain's downstream TLS context.
func chainContext(t *testing.T, c TLSChain) *tlsv3.DownstreamTlsContext {
	t.Helper()
	ctx := &tlsv3.DownstreamTlsContext{}
	if err := chainSocket(c).GetTypedConfig().UnmarshalTo(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// TestClientAuthContext: each verify mode asks for (or requires) a
// certificate as nginx's ssl_verify_client does, with the CA named over
// SDS and the host's depth; off asks for nothing.
func TestClientAuthContext(t *testing.T) {
	for _, tc := range []struct {
		verify         ClientVerify
		asks, requires bool
		untrusted      bool
	}{
		{ClientVerifyOn, true, true, false},
		{ClientVerifyOptional, true, false, false},
		{ClientVerifyOptionalNoCA, true, false, true},
		{ClientVerifyOff, false, false, false},
	} {
		ctx := chainContext(t, TLSChain{Secret: "ns/tls", ServerNames: []string{"a.example.com"},
			ClientAuth: &ClientAuth{CASecret: "ns/ca/ca", Verify: tc.verify, MaxDepth: 3}})
		combined := ctx.GetCommonTlsContext().GetCombinedValidationContext()
		if (combined != nil) != tc.asks {
			t.Errorf("%s: validation context %v, want one: %v", tc.verify, combined, tc.asks)
			continue
		}
		if got := ctx.GetRequireClientCertificate().GetValue(); got != tc.requires {
			t.Errorf("%s: require_client_certificate %v, want %v", tc.verify, got, tc.requires)
		}
		if !tc.asks {
			continue
		}
		if got := combined.GetValidationContextSdsSecretConfig().GetName(); got != "ns/ca/ca" {
			t.Errorf("%s: CA secret %q", tc.verify, got)
		}
		def := combined.GetDefaultValidationContext()
		if def.GetMaxVerifyDepth().GetValue() != 3 {
			t.Errorf("%s: max_verify_depth %v", tc.verify, def.GetMaxVerifyDepth())
		}
		if got := def.GetTrustChainVerification() == tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED; got != tc.untrusted {
			t.Errorf("%s: accepts untrusted %v, want %v", tc.verify, got, tc.untrusted)
		}
	}
}

// TestClientCertRouteConfiguration: the client's copies of every
// ssl-client-* header are removed, and the certificate is added only when
// asked for.
func TestClientCertRouteConfiguration(t *testing.T) {
	headers := func(a *ClientAuth) map[string]string {
		rc := ClientCertRouteConfiguration("t", nil, a)
		for _, want := range []string{ClientCertHeader, ClientVerifyHeader, ClientSubjectDNHeader, ClientIssuerDNHeader} {
			found := false
			for _, h := range rc.GetRequestHeadersToRemove() {
				found = found || h == want
			}
			if !found {
				t.Errorf("%+v: %s is not removed", a, want)
			}
		}
		out := map[string]string{}
		for _, h := range rc.GetRequestHeadersToAdd() {
			out[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
		}
		return out
	}
	on := headers(&ClientAuth{CASecret: "c", Verify: ClientVerifyOn})
	if _, ok := on[ClientCertHeader]; ok {
		t.Errorf("certificate passed without being asked: %v", on)
	}
	if on[ClientVerifyHeader] != "SUCCESS" || on[ClientSubjectDNHeader] != "%DOWNSTREAM_PEER_SUBJECT%" || on[ClientIssuerDNHeader] != "%DOWNSTREAM_PEER_ISSUER%" {
		t.Errorf("on: %v", on)
	}
	pass := headers(&ClientAuth{CASecret: "c", Verify: ClientVerifyOptional, PassCertificate: true})
	if pass[ClientCertHeader] != "%DOWNSTREAM_PEER_CERT%" {
		t.Errorf("pass: %v", pass)
	}
	if _, ok := pass[ClientVerifyHeader]; ok {
		t.Errorf("optional: ssl-client-verify set to a value Envoy cannot know: %v", pass)
	}
	off := headers(&ClientAuth{CASecret: "c", Verify: ClientVerifyOff, PassCertificate: true})
	if off[ClientVerifyHeader] != "NONE" || len(off) != 2 {
		t.Errorf("off: %v", off)
	}
}

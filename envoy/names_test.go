package envoy

import "testing"

func TestNames(t *testing.T) {
	for got, want := range map[string]string{
		ClusterName("shop", "web", 80, false): "shop/web/80",
		ClusterName("infra", "dns", 53, true): "infra/dns/53/udp",
		TCPListenerName(5432):                 "tcp-5432",
		UDPListenerName(53):                   "udp-53",
		SecretName("shop", "shop-tls"):        "shop/shop-tls",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// TestConstructorsValidate checks each constructor's output against
// go-control-plane's generated validation.
func TestConstructorsValidate(t *testing.T) {
	type validator interface{ ValidateAll() error }
	for name, m := range map[string]validator{
		"tcp listener":   TCPProxyListener("tcp-5432", 5432, "shop/db/5432"),
		"udp listener":   UDPProxyListener("udp-53", 53, "infra/dns/53/udp"),
		"http listener":  HTTPListener(HTTPListenerName, 80, HTTPRouteConfig),
		"https listener": HTTPSListener(HTTPSListenerName, 443, HTTPSRouteConfig, []TLSChain{{Secret: "a/b", ServerNames: []string{"x.example.com"}}, {Secret: "a/c"}}),
		"cluster":        EDSCluster("shop/web/80"),
		"endpoints":      ClusterLoadAssignment("shop/web/80", []Locality{{Zone: "a", Endpoints: []Endpoint{{"10.0.0.1", 8080}}}, {Endpoints: []Endpoint{{"fd00::1", 8080}}}}),
		"route config":   RouteConfiguration(HTTPRouteConfig, nil),
		"route":          ClusterRoute("r", WithAuthorityRegex(SegmentPrefixMatch("/api"), "(?i)^[^.]+\\.foo\\.com$", true), "c"),
		"root route":     DirectResponseRoute("r", SegmentPrefixMatch("/"), 503),
		"exact route":    ClusterRoute("r", ExactPathMatch("/x/"), "c"),
		"secret":         TLSSecret("a/b", []byte("cert"), []byte("key")),
	} {
		if err := m.ValidateAll(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSegmentPrefixMatch(t *testing.T) {
	if m := SegmentPrefixMatch("/"); m.GetPrefix() != "/" {
		t.Errorf("\"/\" must be a plain prefix (path_separated_prefix cannot end in '/'), got %v", m)
	}
	if m := SegmentPrefixMatch("/api"); m.GetPathSeparatedPrefix() != "/api" {
		t.Errorf("got %v, want path_separated_prefix /api", m)
	}
}

func TestRedactSecret(t *testing.T) {
	s := TLSSecret("a/b", []byte("cert"), []byte("key"))
	r := RedactSecret(s)
	if got := r.GetTlsCertificate().GetPrivateKey().GetInlineString(); got != RedactedKey {
		t.Errorf("redacted key = %q", got)
	}
	if string(s.GetTlsCertificate().GetPrivateKey().GetInlineBytes()) != "key" {
		t.Error("RedactSecret changed its argument")
	}
	if string(r.GetTlsCertificate().GetCertificateChain().GetInlineBytes()) != "cert" {
		t.Error("the certificate chain is public and stays")
	}
}

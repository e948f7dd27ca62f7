package annotations

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fairwayhq/fairway/translator/policy"
)

// proxySSLEntries: what TLS to an HTTPS or GRPCS backend checks and
// presents (ingress-nginx's "Backend Certificate Authentication"). The
// Secret, the verification switch and the name guard the backend: a
// value that cannot be honoured blocks the Ingress, since serving it
// would send its traffic to whoever answers.
var proxySSLEntries = []Entry{
	{Key: "proxy-ssl-secret", Guards: true, Parse: parseProxySSLSecret},
	{Key: "proxy-ssl-verify", Guards: true, Parse: parseProxySSLVerify},
	{Key: "proxy-ssl-verify-depth", Parse: parseProxySSLVerifyDepth},
	{Key: "proxy-ssl-name", Guards: true, Parse: parseProxySSLName},
	{Key: "proxy-ssl-server-name", Parse: parseProxySSLServerName},
	{Key: "proxy-ssl-protocols", Parse: parseProxySSLProtocols},
	{Key: "proxy-ssl-ciphers", Parse: parseProxySSLCiphers},
}

// parseOnOff reads nginx's switches, which are "on" or "off" only.
func parseOnOff(value string) (bool, error) {
	switch strings.TrimSpace(value) {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, errors.New(`want "on" or "off"`)
}

// parseProxySSLSecret reads "namespace/name", as ingress-nginx requires
// it; the translator checks that the namespace is the Ingress's.
func parseProxySSLSecret(value string, r *policy.Route) error {
	ns, name, err := parseSecretRef(value, false)
	if err != nil {
		return err
	}
	r.Upstream.TLS.Secret = ns + "/" + name
	return nil
}

func parseProxySSLVerify(value string, r *policy.Route) error {
	on, err := parseOnOff(value)
	r.Upstream.TLS.Verify = on
	return err
}

// maxVerifyDepth bounds auth-tls-verify-depth and proxy-ssl-verify-depth
// (nginx's count of CAs between a certificate and the trusted one) at
// Envoy's own default limit, which counts the trusted one too.
const maxVerifyDepth = 99

// parseProxySSLVerifyDepth reads nginx's count of CAs between the
// backend's certificate and the trusted one; 0 is its default, 1.
func parseProxySSLVerifyDepth(value string, r *policy.Route) error {
	n, err := strconv.ParseUint(strings.TrimSpace(value), 10, 32)
	if err != nil || n > maxVerifyDepth {
		return fmt.Errorf("not a whole number between 0 and %d", maxVerifyDepth)
	}
	r.Upstream.TLS.VerifyDepth = uint32(n)
	return nil
}

// parseProxySSLName reads the DNS name the backend's certificate must
// carry. An IP address is no DNS name a certificate's SAN check meets.
func parseProxySSLName(value string, r *policy.Route) error {
	v := strings.ToLower(strings.TrimSpace(value))
	if strings.HasPrefix(v, "[") || checkHostName(v) != nil {
		return errors.New("not a DNS name")
	}
	r.Upstream.TLS.Name = v
	return nil
}

func parseProxySSLServerName(value string, r *policy.Route) error {
	on, err := parseOnOff(value)
	r.Upstream.TLS.ServerName = on
	return err
}

// parseProxySSLProtocols reads nginx's space-separated versions. Envoy
// takes a range, so the oldest and newest named bound it; SSLv2 and
// SSLv3, which nginx accepts, Envoy does not speak.
func parseProxySSLProtocols(value string, r *policy.Route) error {
	lo, hi := -1, -1
	for _, f := range strings.Fields(value) {
		i := slices.Index(policy.TLSVersions, policy.TLSVersion(f))
		switch {
		case f == "SSLv2" || f == "SSLv3":
			return fmt.Errorf("%s is not spoken by Envoy; name TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", f)
		case i < 0:
			return fmt.Errorf("%q is not one of TLSv1, TLSv1.1, TLSv1.2 and TLSv1.3", f)
		}
		if lo < 0 || i < lo {
			lo = i
		}
		hi = max(hi, i)
	}
	if lo < 0 {
		return errors.New("names no protocol")
	}
	r.Upstream.TLS.MinVersion, r.Upstream.TLS.MaxVersion = policy.TLSVersions[lo], policy.TLSVersions[hi]
	return nil
}

// envoyCiphers are the TLS 1.0-1.2 suites Envoy (BoringSSL) accepts in a
// cipher list, by the OpenSSL names nginx takes too. OpenSSL's keywords
// and exclusions ("HIGH", "!aNULL") have no Envoy meaning.
var envoyCiphers = []string{
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
	"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
	"ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
	"AES128-GCM-SHA256", "AES128-SHA",
	"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
	"AES256-GCM-SHA384", "AES256-SHA",
}

// parseProxySSLCiphers reads an OpenSSL cipher list of suite names,
// keeping their order (the preference) without repeats. "DEFAULT", as
// ingress-nginx's default, is Envoy's default list.
func parseProxySSLCiphers(value string, r *policy.Route) error {
	v := strings.TrimSpace(value)
	if v == "DEFAULT" {
		r.Upstream.TLS.Ciphers = ""
		return nil
	}
	var out []string
	for _, c := range strings.Split(v, ":") {
		if !slices.Contains(envoyCiphers, c) {
			return fmt.Errorf("%q is not a cipher suite Envoy accepts (%s)", c, strings.Join(envoyCiphers, ", "))
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	r.Upstream.TLS.Ciphers = strings.Join(out, ":")
	return nil
}

// proxySSLWithoutSecret: ingress-nginx reads no proxy-ssl-* at all
// without proxy-ssl-secret. The others are then ignored; verification
// asked for with nothing to verify against blocks the Ingress.
func proxySSLWithoutSecret(r *policy.Route) []Finding {
	t := r.Upstream.TLS
	if t.Secret != "" || t == (policy.BackendTLS{}) {
		return nil
	}
	r.Upstream.TLS = policy.BackendTLS{}
	if t.Verify {
		return []Finding{{
			Key: NginxPrefix + "proxy-ssl-verify", Kind: Invalid, Blocks: true,
			Message: `is "on" without proxy-ssl-secret, so there is no CA to verify the backend against; it guards the backend, so the Ingress is not served`,
		}}
	}
	return []Finding{{
		Key: NginxPrefix + "proxy-ssl-secret", Kind: Invalid,
		Message: "names no usable Secret, so this Ingress's other proxy-ssl-* annotations are ignored, as in ingress-nginx",
	}}
}

// serverNameWithoutName: nginx would send its upstream group's name
// ("upstream_balancer"), which names no backend; fairway sends no SNI.
func serverNameWithoutName(r *policy.Route) []Finding {
	t := &r.Upstream.TLS
	if !t.ServerName || t.Name != "" {
		return nil
	}
	t.ServerName = false
	return []Finding{{
		Key: NginxPrefix + "proxy-ssl-server-name", Kind: Invalid,
		Message: `is "on" without proxy-ssl-name, so there is no name to send; no SNI is sent`,
	}}
}

// legacyProtocolsWithoutCiphers: Envoy's default cipher list has no suite
// for TLS 1.0 or 1.1, so a backend held below TLS 1.2 with it would fail
// every handshake. The range is kept (the user asked for it) and the
// Problem says what to add.
func legacyProtocolsWithoutCiphers(r *policy.Route) []Finding {
	t := r.Upstream.TLS
	if t.MaxVersion == "" || slices.Index(policy.TLSVersions, t.MaxVersion) >= slices.Index(policy.TLSVersions, policy.TLSv1_2) || t.Ciphers != "" {
		return nil
	}
	return []Finding{{
		Key: NginxPrefix + "proxy-ssl-protocols", Kind: Invalid,
		Message: "allows only versions below TLSv1.2, for which Envoy's default cipher list has no suite: every handshake fails unless proxy-ssl-ciphers names one (ECDHE-RSA-AES128-SHA, AES128-SHA, ...)",
	}}
}

package annotations

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/fairwayhq/fairway/translator/policy"
)

// clientCertEntries: client certificate authentication (auth-tls-*), per
// host, on the https filter chain. The CA, the verify mode and the depth
// decide who completes the handshake, so they guard access: a malformed
// value blocks the Ingress rather than serving its hosts to anyone.
// auth-tls-match-cn is not here: Envoy cannot match the subject's CN
// exactly as nginx's regex on $ssl_client_s_dn does, so it stays Refused.
var clientCertEntries = []Entry{
	{Key: "auth-tls-secret", Guards: true, Parse: parseClientCertSecret},
	{Key: "auth-tls-verify-client", Guards: true, Parse: parseClientVerify},
	{Key: "auth-tls-verify-depth", Guards: true, Parse: parseClientVerifyDepth},
	{Key: "auth-tls-pass-certificate-to-upstream", Parse: parsePassClientCert},
	{Key: "auth-tls-error-page", Parse: parseClientCertErrorPage},
}

func clientCert(r *policy.Route) *policy.ClientCert {
	if r.ClientCert == nil {
		r.ClientCert = &policy.ClientCert{}
	}
	return r.ClientCert
}

// parseClientCertSecret reads "namespace/name"; ingress-nginx denies a
// value without the namespace (k8s.ParseNameNS), and so does fairway.
func parseClientCertSecret(value string, r *policy.Route) error {
	ns, name, err := parseSecretRef(value, false)
	if err != nil {
		return err
	}
	c := clientCert(r)
	c.SecretNamespace, c.SecretName = ns, name
	return nil
}

func parseClientVerify(value string, r *policy.Route) error {
	var v policy.ClientVerify
	switch value {
	case "on":
		v = policy.VerifyOn
	case "off":
		v = policy.VerifyOff
	case "optional":
		v = policy.VerifyOptional
	case "optional_no_ca":
		v = policy.VerifyOptionalNoCA
	default:
		return errors.New(`want "on", "off", "optional" or "optional_no_ca"`)
	}
	clientCert(r).Verify = v
	return nil
}

func parseClientVerifyDepth(value string, r *policy.Route) error {
	n, err := strconv.ParseUint(value, 10, 32)
	if err != nil || n < 1 || n > maxVerifyDepth {
		return fmt.Errorf("want a whole number from 1 to %d", maxVerifyDepth)
	}
	clientCert(r).Depth = uint32(n)
	return nil
}

func parsePassClientCert(value string, r *policy.Route) error {
	on, err := parseBool(value)
	if err != nil {
		return err
	}
	clientCert(r).PassCertificate = on
	return nil
}

func parseClientCertErrorPage(value string, r *policy.Route) error {
	if value == "" {
		return errors.New("is empty")
	}
	clientCert(r).ErrorPage = value
	return nil
}

// clientCertChecks: the auth-tls-* keys do nothing without
// auth-tls-secret, as in ingress-nginx; and the error page is not
// honoured, since Envoy refuses a client at the handshake, before there
// is a request to redirect. Neither opens anything: the hosts stay
// behind their certificate check.
func clientCertChecks(r *policy.Route) []Finding {
	c := r.ClientCert
	switch {
	case c == nil:
		return nil
	case c.SecretName == "":
		r.ClientCert = nil
		return []Finding{{Key: NginxPrefix + "auth-tls-secret", Kind: Invalid,
			Message: "is not set, so this Ingress's other auth-tls-* annotations are ignored, as in ingress-nginx"}}
	case c.ErrorPage != "":
		return []Finding{{Key: NginxPrefix + "auth-tls-error-page", Kind: Unsupported,
			Message: "Envoy refuses a client without a valid certificate during the TLS handshake, before there is a request to redirect; the annotation is ignored and the host stays closed to such clients"}}
	}
	return nil
}

package annotations

import (
	"github.com/fairwayhq/fairway/translator/policy"
)

// tlsEntries: Plain HTTP to https (ssl-redirect, force-ssl-redirect).
// Neither guards access: a redirect moves a client to https, it does not
// keep anyone out, so a malformed value is ignored like any other.
var tlsEntries = []Entry{
	{Key: "ssl-redirect", Parse: parseSSLRedirect},
	{Key: "force-ssl-redirect", Parse: parseForceSSLRedirect},
}

// parseSSLRedirect decides, for this object's routes, what the global
// switch (--ssl-redirect) would: redirect plain HTTP to https on hosts
// with a certificate, or not.
func parseSSLRedirect(value string, r *policy.Route) error {
	on, err := parseBool(value)
	if err != nil {
		return err
	}
	r.TLSRedirect.Set, r.TLSRedirect.Enabled = true, on
	return nil
}

// parseForceSSLRedirect redirects even without a certificate, for TLS that
// ends before fairway; "false" is the default and asks nothing.
func parseForceSSLRedirect(value string, r *policy.Route) error {
	on, err := parseBool(value)
	if err != nil {
		return err
	}
	r.TLSRedirect.Force = on
	return nil
}

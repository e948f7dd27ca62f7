package translator

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// validateHost checks an Ingress host the way the API server does: a
// lowercase DNS-1123 subdomain, optionally with a leading "*." label, and not
// an IP address. Hosts read from files never met the API server, so the
// translator checks again; a bad host would otherwise make Envoy reject the
// whole route table.
func validateHost(host string) error {
	if _, err := netip.ParseAddr(host); err == nil {
		return fmt.Errorf("%q is an IP address; Ingress hosts must be DNS names", host)
	}
	var errs []string
	if strings.HasPrefix(host, "*.") {
		errs = validation.IsWildcardDNS1123Subdomain(host)
	} else {
		errs = validation.IsDNS1123Subdomain(host)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%q is not a valid host: %s", host, strings.Join(errs, "; "))
	}
	return nil
}

// isWildcard reports whether host is of the form "*.suffix".
func isWildcard(host string) bool { return strings.HasPrefix(host, "*.") }

// wildcardMatches reports whether the Ingress wildcard host "*.foo.com"
// matches name: exactly one extra DNS label, compared case-insensitively and
// ignoring a ":port". "bar.foo.com" matches; "foo.com" and "baz.bar.foo.com"
// do not. This is the rule the Envoy route config encodes with
// singleLabelRegex; the translator uses it to decide TLS coverage.
func wildcardMatches(wildcard, name string) bool {
	if !isWildcard(wildcard) {
		return false
	}
	name = strings.ToLower(stripPort(name))
	suffix := wildcard[1:] // ".foo.com"
	if !strings.HasSuffix(name, suffix) {
		return false
	}
	label := name[:len(name)-len(suffix)]
	return label != "" && !strings.Contains(label, ".")
}

// stripPort removes a ":port" from a Host header value.
func stripPort(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		return host[:i]
	}
	return host
}

// singleLabelRegex is the :authority pattern that narrows Envoy's "*.foo.com"
// domain (any number of labels, any case) to the Ingress rule: exactly one
// label before ".foo.com", any case, optional port. RE2 syntax, which both
// Envoy and Go's regexp accept.
func singleLabelRegex(wildcard string) string {
	return `(?i)^[^.:]+` + regexp.QuoteMeta(wildcard[1:]) + `(:[0-9]+)?$`
}

package annotations

import (
	"errors"
	"fmt"
	"strings"
)

// parseSecretRef reads the Secret an annotation names (auth-secret,
// auth-tls-secret, proxy-ssl-secret): "namespace/name", or with
// nameOnly also a bare name in the object's own namespace (ns "").
// ingress-nginx reads auth-tls-secret and proxy-ssl-secret with
// k8s.ParseNameNS, which wants the namespace, and auth-secret either way.
func parseSecretRef(v string, nameOnly bool) (ns, name string, err error) {
	want := `want "namespace/name" of a Secret`
	if nameOnly {
		want = `want a Secret's name, or "namespace/name"`
	}
	ns, name, found := strings.Cut(strings.TrimSpace(v), "/")
	switch {
	case !found && !nameOnly:
		return "", "", errors.New(want)
	case !found:
		ns, name = "", ns
	case !isDNSLabel(ns):
		return "", "", fmt.Errorf("%s; namespace %q is not a DNS label", want, ns)
	}
	if !isSecretName(name) {
		return "", "", fmt.Errorf("%s; %q is not a Secret's name (a DNS subdomain)", want, name)
	}
	return ns, name, nil
}

// isDNSLabel: a namespace name (RFC 1123 label).
func isDNSLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// isSecretName: a Secret's name (RFC 1123 subdomain).
func isSecretName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !isDNSLabel(label) {
			return false
		}
	}
	return true
}

package pki

import (
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"time"
)

// CAProblem says why a CA can no longer be used to issue (it is not a CA,
// or it expires within renewBefore), or "" when it can. A CA that is
// replaced makes every leaf it signed invalid, so the caller re-issues
// them all.
func CAProblem(ca *KeyPair, now time.Time, renewBefore time.Duration) string {
	switch {
	case !ca.Cert.IsCA || !ca.Cert.BasicConstraintsValid:
		return "the CA certificate is not a CA"
	case ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return "the CA certificate may not sign certificates"
	case ca.Cert.CheckSignatureFrom(ca.Cert) != nil:
		return "the CA certificate is not self-signed"
	}
	return expiryProblem(ca.Cert, now, renewBefore)
}

// LeafProblem says why a leaf certificate must be re-issued, or "" when it
// is good: it must be signed by ca, name exactly what l names, be for l's
// usage, and stay valid for longer than renewBefore.
func LeafProblem(leaf *KeyPair, ca *x509.Certificate, l Leaf, now time.Time, renewBefore time.Duration) string {
	c := leaf.Cert
	if err := c.CheckSignatureFrom(ca); err != nil {
		return "not signed by the current CA"
	}
	if c.IsCA {
		return "a CA certificate where a leaf belongs"
	}
	if !sameSet(c.DNSNames, l.DNSNames) {
		return fmt.Sprintf("DNS names %v, want %v", c.DNSNames, l.DNSNames)
	}
	if !sameSet(ipStrings(c.IPAddresses), ipStrings(l.IPs)) {
		return fmt.Sprintf("IP addresses %v, want %v", c.IPAddresses, l.IPs)
	}
	uris := make([]string, 0, len(c.URIs))
	for _, u := range c.URIs {
		uris = append(uris, u.String())
	}
	if !sameSet(uris, l.URIs) {
		return fmt.Sprintf("URI names %v, want %v", uris, l.URIs)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{l.Usage.extKeyUsage()}) {
		return "the wrong extended key usage"
	}
	return expiryProblem(c, now, renewBefore)
}

func expiryProblem(c *x509.Certificate, now time.Time, renewBefore time.Duration) string {
	switch {
	case !now.Before(c.NotAfter):
		return "expired on " + c.NotAfter.UTC().Format(time.RFC3339)
	case !now.Add(renewBefore).Before(c.NotAfter):
		return fmt.Sprintf("expires on %s, within the renewal window of %v", c.NotAfter.UTC().Format(time.RFC3339), renewBefore)
	case now.Add(Backdate).Before(c.NotBefore):
		return "not valid until " + c.NotBefore.UTC().Format(time.RFC3339)
	}
	return ""
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

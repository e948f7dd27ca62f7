package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// checkXDSAuth enforces who may be served without a client certificate:
// xDS carries every TLS private key, so without mTLS it is served only on
// loopback (make run, tests), unless --xds-insecure says the exposure is
// meant (the compose demo, on its private network).
func checkXDSAuth(c serveConfig) error {
	if err := checkTrustDomain(c.trustDomain); err != nil {
		return err
	}
	if c.tlsClientCA != "" || c.insecure || isLoopback(c.xdsAddress) {
		return nil
	}
	return fmt.Errorf("--xds-address %q is not loopback: serve it with client certificates (--xds-tls-cert, --xds-tls-key and --xds-tls-client-ca), or pass --xds-insecure to serve every secret to anyone who reaches it", c.xdsAddress)
}

// isLoopback reports whether addr binds only loopback. An empty host binds
// every interface; a host name other than localhost may resolve anywhere.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkTrustDomain accepts what SPIFFE allows in a trust domain name:
// lower-case letters, digits, dots, dashes and underscores.
func checkTrustDomain(td string) error {
	if td == "" {
		return errors.New("--trust-domain is empty")
	}
	if strings.Trim(td, "abcdefghijklmnopqrstuvwxyz0123456789.-_") != "" {
		return fmt.Errorf("--trust-domain %q: use lower-case letters, digits, '.', '-' and '_' only", td)
	}
	return nil
}

package translator

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
)

// minRSABits is the smallest RSA key Envoy loads as a server certificate
// (2048 bits; BoringSSL builds in FIPS mode take 2048, 3072 and 4096 only).
const minRSABits = 2048

// envoyCurves are the ECDSA curves Envoy loads a server certificate for.
var envoyCurves = map[string]bool{"P-256": true, "P-384": true, "P-521": true}

// checkEnvoyKey refuses a certificate whose key Envoy would refuse, though
// Go's TLS stack accepts it: Envoy takes only RSA keys of at least 2048
// bits and ECDSA keys on P-256, P-384 or P-521. Envoy checks the leaf's
// public key, which X509KeyPair has already matched with the private key.
// Sent anyway, such a Secret is rejected by Envoy, and the https listener
// that names it stays warming: every TLS host on it goes dark.
func checkEnvoyKey(leafDER []byte) error {
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return err
	}
	switch k := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return fmt.Errorf("the certificate's key is RSA with %d bits; Envoy needs at least %d", bits, minRSABits)
		}
	case *ecdsa.PublicKey:
		if name := curveName(k.Curve); !envoyCurves[name] {
			return fmt.Errorf("the certificate's key is ECDSA on curve %s; Envoy supports P-256, P-384 and P-521", name)
		}
	case ed25519.PublicKey:
		return fmt.Errorf("the certificate's key is Ed25519; Envoy supports RSA (at least %d bits) and ECDSA (P-256, P-384, P-521)", minRSABits)
	default:
		return fmt.Errorf("the certificate's key is %T; Envoy supports RSA (at least %d bits) and ECDSA (P-256, P-384, P-521)", k, minRSABits)
	}
	return nil
}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "unknown"
	}
	return c.Params().Name
}

package policy

// ClientCert asks that clients of the object's hosts present a
// certificate signed by a CA (ingress-nginx's auth-tls-*). It is a
// property of a host's TLS handshake, not of a route: the back end
// applies it to the https filter chains of the object's hosts.
type ClientCert struct {
	// SecretNamespace and SecretName name the Secret holding the CA
	// bundle (key ca.crt) and, optionally, a revocation list (ca.crl).
	// An empty name means auth-tls-secret was not given, and the other
	// fields do nothing, as in ingress-nginx. An empty namespace is the
	// object's own.
	SecretNamespace, SecretName string
	Verify                      ClientVerify
	// Depth is the longest chain accepted, leaf excluded and trust anchor
	// included (nginx's ssl_verify_depth); 0 is ingress-nginx's default, 1.
	Depth uint32
	// PassCertificate sends the client's certificate to the backend in
	// the ssl-client-cert header, URL-encoded PEM.
	PassCertificate bool
	// ErrorPage is auth-tls-error-page, kept so the front end can report
	// that it is not honoured (Envoy refuses at the handshake, before
	// there is a request to redirect).
	ErrorPage string
}

// ClientVerify is nginx's ssl_verify_client.
type ClientVerify string

const (
	VerifyOn           ClientVerify = ""         // a certificate signed by the CA is required: the default
	VerifyOff          ClientVerify = "off"      // no certificate is asked for
	VerifyOptional     ClientVerify = "optional" // asked for; when sent it must be signed by the CA
	VerifyOptionalNoCA ClientVerify = "optional_no_ca"
)

// Asks reports whether the handshake asks the client for a certificate.
func (c *ClientCert) Asks() bool { return c != nil && c.SecretName != "" && c.Verify != VerifyOff }

// MaxDepth is Depth, with its default filled in, in Envoy's count:
// nginx's ssl_verify_depth (OpenSSL 1.1 and later) counts the CAs
// between the client's certificate and the trusted one, while Envoy's
// max_verify_depth also counts the trusted one.
func (c *ClientCert) MaxDepth() uint32 {
	return max(c.Depth, 1) + 1
}

package policy

// BackendTLS is what TLS to the backend checks and presents
// (ingress-nginx's proxy-ssl-*). It applies only to a backend spoken to
// over TLS. It is comparable, as part of Upstream.
type BackendTLS struct {
	// Secret is the Secret ("namespace/name") whose ca.crt the backend's
	// certificate must chain to and whose tls.crt and tls.key, when it
	// has them, are presented to the backend; "" for none.
	Secret string
	// Verify checks the backend's certificate against the Secret's CAs
	// (and Name); off by default, as in ingress-nginx.
	Verify bool
	// VerifyDepth bounds the intermediate CAs between the backend's
	// certificate and a trusted CA, in nginx's count; 0 is nginx's 1.
	VerifyDepth uint32
	// Name is the DNS name the certificate must carry, and the one sent
	// in SNI with ServerName; "" checks the chain only.
	Name string
	// ServerName sends Name in SNI.
	ServerName bool
	// MinVersion and MaxVersion bound the protocol; "" is fairway's
	// default (Envoy's, TLS 1.2).
	MinVersion, MaxVersion TLSVersion
	// Ciphers are the TLS 1.0-1.2 cipher suites by name, joined by ":";
	// "" is the default list.
	Ciphers string
}

// TLSVersion is a TLS protocol version by nginx's name ("TLSv1.2").
type TLSVersion string

// The TLS versions, oldest first.
const (
	TLSv1   TLSVersion = "TLSv1"
	TLSv1_1 TLSVersion = "TLSv1.1"
	TLSv1_2 TLSVersion = "TLSv1.2"
	TLSv1_3 TLSVersion = "TLSv1.3"
)

// TLSVersions are the versions in order, for ranges.
var TLSVersions = []TLSVersion{TLSv1, TLSv1_1, TLSv1_2, TLSv1_3}

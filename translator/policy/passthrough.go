package policy

// Passthrough hands the object's TLS connections to its backend
// unopened: the fleet reads only the SNI of the client hello and proxies
// the bytes (ingress-nginx's ssl-passthrough). Nothing of HTTP applies
// to such a connection, so the object's other route policy does not
// either; only its source ranges can still be enforced, on the
// connection's address.
type Passthrough struct {
	// Enabled: ssl-passthrough "true". "false" leaves the object an
	// ordinary, terminated one.
	Enabled bool
}

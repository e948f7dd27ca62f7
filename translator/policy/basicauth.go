package policy

// BasicAuth asks for a user name and password (HTTP Basic, RFC 7617)
// before a request is forwarded. The front end names where the users are;
// the translator reads them from that Secret, since annotations alone
// cannot see it.
type BasicAuth struct {
	// Digest: the object asked for digest authentication, which fairway
	// cannot do; it is kept so that the front end can refuse it.
	Digest bool
	// Type: auth-type was set (to basic or digest). The other keys alone
	// ask for nothing, and are reported.
	Type bool
	// SecretNamespace is "" when the reference names no namespace (the
	// object's own); SecretName is "" when none was given.
	SecretNamespace, SecretName string
	// Map: the Secret holds one key per user, its value the hash
	// (auth-map); otherwise its "auth" key holds htpasswd lines
	// (auth-file).
	Map bool
	// Realm is what WWW-Authenticate names; "" is fairway's default.
	Realm string
	// Users are htpasswd lines ("user:{SHA}...", sorted by user) that
	// the translator read from the Secret; the front end leaves them
	// empty. They are password hashes: nothing but the Envoy config may
	// show them.
	Users string
}

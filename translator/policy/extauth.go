package policy

// ExtAuth asks an HTTP service whether each request may pass before it is
// forwarded (ingress-nginx's auth-url): a 2xx lets it through, anything
// else answers the client instead, and a service that cannot be asked
// denies (fail closed).
type ExtAuth struct {
	// URL is the service's URL, held parsed so that the back end builds
	// its cluster and check request from checked parts.
	URL AuthURL
	// ResponseHeaders are the headers of the service's answer copied onto
	// the forwarded request (auth-response-headers), lower case, sorted.
	ResponseHeaders []string
	// RequestRedirect is the value of X-Auth-Request-Redirect sent to the
	// service; "" sends the request's own path and query, as nginx's
	// $request_uri.
	RequestRedirect string
	// AlwaysSetCookie passes the service's Set-Cookie to the client on
	// success too, not only on a denial (auth-always-set-cookie).
	AlwaysSetCookie bool
}

// AuthURL is an auth-url, parsed. Host is either a Service's DNS name
// inside the cluster (InCluster) or any other name, looked up by DNS.
type AuthURL struct {
	Scheme string // "http" or "https"
	Host   string // lower case, without the port
	Port   uint32 // the URL's, or the scheme's default
	// PathQuery is the path and query the check request is sent to,
	// exactly as written ("/" when the URL has none): nginx calls the
	// URL as it is and does not append the request's path.
	PathQuery string
	// Service and Namespace name the Service when Host is its cluster DNS
	// name (<service>.<namespace>.svc[.cluster.local]); else "".
	Service, Namespace string
	// Short: Host is a bare <service>.<namespace>, which the cluster's
	// DNS search path makes that Service when it exists and leaves a
	// name on the internet otherwise.
	Short bool
}

package annotations

import "strings"

// refusedKeys are the annotations that guard access and that fairway does
// not implement. Serving an Ingress without them would open what its
// author closed, so such an Ingress is not served at all (fail closed).
// This is the one list of them; the README's migration section mirrors
// it.
var refusedKeys = map[string]string{
	"satisfy":                    "it combines access rules fairway does not implement",
	"enable-modsecurity":         "fairway has no web application firewall",
	"enable-owasp-core-rules":    "fairway has no web application firewall",
	"modsecurity-transaction-id": "fairway has no web application firewall",
	"limit-connections":          "Envoy has no filter that counts a client address's connections or requests in flight (local_ratelimit counts requests per time, connection_limit and the circuit breakers count all clients together), and this limit protects the backend",
	"global-rate-limit":          "a limit shared by the whole fleet needs a rate limit service, which fairway does not run, and the limit protects the backend",
	// External authentication's companions that Envoy cannot honour
	// exactly (extauth.go, README "External authentication").
	"auth-method":                "Envoy v1.40's ext_authz sends the check with the request's own method and cannot set another, which the auth service may decide on",
	"auth-signin":                "Envoy cannot turn the auth service's 401 into a redirect to the sign-in URL carrying the escaped request URL, so users would get a bare 401 instead of a login",
	"auth-signin-redirect-param": "it renames the redirect parameter of auth-signin, which fairway refuses",
	"auth-proxy-set-headers":     "fairway does not read ConfigMaps, so the headers it names would not reach the auth service, whose decision may depend on them",
}

// refusal says why a key is refused, or "" when it is not: every snippet
// (raw nginx configuration, which fairway never takes), every auth-*
// (authentication fairway does not implement) and the keys above.
func refusal(key string) string {
	if _, implemented := table[key]; implemented {
		return ""
	}
	if why, ok := refusedKeys[key]; ok {
		return why
	}
	switch {
	case strings.HasSuffix(key, "-snippet"):
		return "snippets are raw nginx configuration, which fairway never takes"
	case strings.HasPrefix(key, "auth-"):
		return "fairway does not implement this authentication, and serving without it would open what it closes"
	case strings.HasPrefix(key, "modsecurity-"):
		return "fairway has no web application firewall"
	}
	return ""
}

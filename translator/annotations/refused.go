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
	"limit-connections":          "fairway does not implement per-client limits, which protect the backend",
	"limit-rps":                  "fairway does not implement per-client limits, which protect the backend",
	"limit-rpm":                  "fairway does not implement per-client limits, which protect the backend",
	"limit-burst-multiplier":     "fairway does not implement per-client limits, which protect the backend",
	"limit-whitelist":            "fairway does not implement per-client limits, which protect the backend",
	"limit-allowlist":            "fairway does not implement per-client limits, which protect the backend",
	"global-rate-limit":          "fairway does not implement rate limits, which protect the backend",
	"proxy-ssl-verify":           "fairway does not verify backend certificates yet, which this asks for",
	"proxy-ssl-secret":           "fairway does not verify backend certificates yet, which this asks for",
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

package translator

import (
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
	"github.com/fairwayhq/fairway/translator/policy"
)

// redirectListener is what a redirect's port needs of the listener it
// answers on: the port a redirect without scheme or port keeps, and the
// scheme whose well-known port the Location leaves out.
type redirectListener struct {
	port  uint32
	https bool
}

// listenerOf is l's; without a listener, plain HTTP on 80, the usual
// Gateway's.
func listenerOf(l *gatewayapi.Listener) redirectListener {
	if l == nil {
		return redirectListener{port: 80}
	}
	return redirectListener{port: uint32(max(l.Port, 0)), https: l.Protocol == gatewayv1.HTTPSProtocolType}
}

// gatewayRedirect is a RequestRedirect with the Gateway API's meanings
// made explicit: it keeps the request's query (as Envoy's path_redirect
// does without strip_query), answers 302 unless it says, and goes to
// the port redirectPort gives.
func gatewayRedirect(rd policy.Redirect, l redirectListener) *policy.Redirect {
	rd.KeepQuery = true
	if rd.Code == 0 {
		rd.Code = 302
	}
	rd.Port = redirectPort(rd, l)
	return &rd
}

// redirectPort is the Location's port as the Gateway API derives it (the
// given one; else a new scheme's well-known port; else the listener's),
// in Envoy's terms: 0, no port_redirect, when it is the well-known port
// of the Location's scheme, which the Gateway API says to leave out.
// Envoy writes a port_redirect even when it is the scheme's own, and
// without one it drops the request's port when it redirects to another
// host, and a port that was the old scheme's own when the scheme
// changes; otherwise the request's port stays, which for a request that
// came in on the listener is the listener's.
func redirectPort(rd policy.Redirect, l redirectListener) uint32 {
	scheme := strings.ToLower(rd.Scheme)
	port := rd.Port
	switch {
	case port != 0:
	case scheme != "":
		port = defaultPort(scheme)
	default:
		port = l.port
	}
	if scheme == "" {
		scheme = "http"
		if l.https {
			scheme = "https"
		}
	}
	if port == defaultPort(scheme) {
		return 0
	}
	return port
}

// defaultPort is a scheme's well-known port; 0 for another scheme.
func defaultPort(scheme string) uint32 {
	switch strings.ToLower(scheme) {
	case "http":
		return 80
	case "https":
		return 443
	}
	return 0
}

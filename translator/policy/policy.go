// Package policy is the typed route model that fairway's front ends fill
// and its Envoy back end reads: what a route does beyond naming its
// backend. The Ingress front end fills it from annotations
// (translator/annotations); a Gateway API HTTPRoute's filters fill the same
// fields. It holds neither Ingress nor Envoy types, so both front ends and
// the back end can share it without knowing each other.
//
// The zero value of every field means "as fairway does by default"; a
// front end sets only what the user asked for.
package policy

import (
	"net/netip"
	"time"
)

// Route is the policy of one front-end object's routes (an Ingress's, for
// annotations), shared by all of them. It is built once per object change
// and then only read.
type Route struct {
	Match    Match
	Rewrite  Rewrite
	Redirect *Redirect // answer with a redirect instead of forwarding
	// TLSRedirect says whether plain-HTTP requests are sent to https.
	TLSRedirect TLSRedirect
	Hosts       Hosts
	Timeouts    Timeouts
	// BodyLimit caps a request body; nil is fairway's default, a limit of
	// 0 means no limit.
	BodyLimit *Size
	Retries   *Retries
	CORS      *CORS
	Access    *Access
	Upstream  Upstream
	// Affinity keeps a client on one endpoint (affinity.go).
	Affinity Affinity
	// Canary: the object is, or asks to be, a canary (canary.go).
	Canary *Canary
	// Passthrough: the object's hosts are passed through by SNI, not
	// terminated (passthrough.go).
	Passthrough *Passthrough
	// RateLimit caps each client's request rate (ratelimit.go); nil is
	// no limit.
	RateLimit *RateLimit
	// ClientCert asks the object's hosts' clients for a certificate
	// (clientcert.go).
	ClientCert *ClientCert
	// BasicAuth asks for a user and password (basicauth.go).
	BasicAuth *BasicAuth
	// ExtAuth asks an auth service about each request first (extauth.go).
	ExtAuth *ExtAuth

	// From the Gateway API's route filters (gateway.go): header edits,
	// mirrors and the rule's timeouts.
	RequestHeaders, ResponseHeaders HeaderEdits
	Mirrors                         []Mirror
	GatewayTimeouts                 GatewayTimeouts
}

// Match changes how the object's paths match.
type Match struct {
	// Regex: each path is an RE2 expression, case-insensitive and
	// anchored at the start only (nginx's "location ~*").
	Regex bool
}

// Rewrite changes the request on its way to the backend.
type Rewrite struct {
	// Target replaces the whole matched path; $1..$9 are the path regex's
	// capture groups. "" leaves the path alone. Setting it makes the
	// object's paths regexes, as in ingress-nginx.
	Target string
	// AppRoot redirects a request for exactly "/" to this path (302).
	AppRoot string
	// XForwardedPrefix is sent as X-Forwarded-Prefix.
	XForwardedPrefix string
	// Host replaces the Host (:authority) the backend sees.
	Host string
	// Path replaces the whole path (URLRewrite ReplaceFullPath), and
	// PathPrefix only the part the route's PathPrefix match matched
	// (ReplacePrefixMatch); "" leaves it.
	Path, PathPrefix string
}

// Redirect answers every request of the route with a redirect instead of
// forwarding it. The URL is held parsed, so that the back end builds the
// Location from checked parts and never pastes user text: an empty part
// keeps the request's own.
type Redirect struct {
	Scheme string // "http" or "https"; "" keeps the request's
	Host   string // without the port; "" keeps the request's
	Port   uint32 // 0: the scheme's default
	// Path replaces the request's path, and Query (without "?") its
	// query; with Path "" both are the request's own.
	Path, Query string
	// PathPrefix replaces only the part of the path the route's
	// PathPrefix match matched (RequestRedirect ReplacePrefixMatch).
	PathPrefix string
	// KeepQuery keeps the request's query with a new Path or PathPrefix,
	// as the Gateway API's redirects do; an Ingress's redirect URL is
	// the whole target.
	KeepQuery bool
	Code      int // 301, 302, 303, 307 or 308
	// Temporal: from temporal-redirect, which wins over
	// permanent-redirect and takes its code from temporal-redirect-code.
	Temporal bool
}

// TLSRedirect is a route's plain-HTTP to https rule, against the global
// switch. A redirect answers 308 with the same URL on https; paths under
// /.well-known/acme-challenge/ are never redirected (ACME HTTP-01).
type TLSRedirect struct {
	// Set: the object decided (ssl-redirect); otherwise the global switch
	// applies. Enabled redirects only on hosts with a certificate of their
	// own, since there is nothing to redirect to otherwise.
	Set, Enabled bool
	// Force redirects even when fairway holds no certificate for the host
	// (TLS ends before fairway); it wins over Set with Enabled false, as
	// force-ssl-redirect wins over ssl-redirect in ingress-nginx.
	Force bool
}

// Hosts are extra names and redirects of the object's hosts.
type Hosts struct {
	// Aliases are served exactly like the object's hosts.
	Aliases []string
	// FromToWWW redirects www.<host> to <host> and back, whichever of the
	// two the object does not name.
	FromToWWW bool
}

// Timeouts of a forwarded request; zero is fairway's default.
type Timeouts struct {
	// Read and Send bound the wait between two reads from, or writes to,
	// the backend.
	Read, Send time.Duration
}

// Size is a number of bytes.
type Size int64

// Retries of a request that failed before it reached a backend.
type Retries struct {
	// Attempts is the number of tries in all, the first included; 0 is
	// unlimited, as in nginx.
	Attempts uint32
}

// CORS answers preflights and decorates responses for browsers. Nil and
// empty fields are ingress-nginx's defaults, which the back end fills in.
type CORS struct {
	// Enabled: the object asked for CORS (enable-cors). The other fields
	// alone do nothing, as in ingress-nginx; they are kept until then so
	// that the front end can report them.
	Enabled bool
	// AllowOrigins are "*", or scheme://host[:port] where the host may
	// start with "*." for exactly one extra DNS label.
	AllowOrigins  []string
	AllowMethods  []string
	AllowHeaders  []string
	ExposeHeaders []string
	// AllowCredentials and MaxAge are pointers since their defaults
	// (true, 1728000 s) are not their zero values, and "false" and "0"
	// are values a user may write.
	AllowCredentials *bool
	MaxAge           *time.Duration
}

// Access admits requests by client address: the address is admitted when
// it is in Allow (or Allow is empty) and not in Deny. A refused request
// gets 403.
type Access struct {
	Allow, Deny []netip.Prefix
}

// Upstream is how the backend is spoken to. It is part of a cluster's
// identity: one Service port used with two Upstreams is two clusters.
// It is comparable, so that it can be part of a map key.
type Upstream struct {
	Protocol Protocol
	Balance  Balance
	// ConnectTimeout bounds a connect to one endpoint; 0 is fairway's
	// default.
	ConnectTimeout time.Duration
	// TLS is what TLS to the backend checks and presents (proxyssl.go).
	TLS BackendTLS
}

// Protocol is a backend's application protocol.
type Protocol string

const (
	// FromService: the front end left it to the backend, whose Service
	// port's appProtocol decides (HTTP/1.1 when it names none fairway
	// knows). A front end that asks for HTTP/1.1 says HTTP, which
	// overrides an appProtocol of h2c: the two must differ.
	FromService Protocol = ""
	HTTP        Protocol = "http"  // HTTP/1.1 in the clear
	HTTPS       Protocol = "https" // HTTP/1.1 over TLS
	H2C         Protocol = "h2c"   // HTTP/2 in the clear (gRPC)
	GRPCS       Protocol = "h2"    // HTTP/2 over TLS
)

// Balance is how requests spread over a backend's endpoints.
type Balance string

const (
	RoundRobin   Balance = "" // the default
	LeastRequest Balance = "least-request"
)

package policy

import "time"

// This file holds the parts of the route model that the Gateway API's
// HTTPRoute and GRPCRoute bring: richer matches, weighted backends and the
// route filters. The Ingress front end leaves them zero; the back end
// builds each from these typed fields, never from user text.

// PathKind is how a route's path is compared with the request's.
type PathKind uint8

const (
	// PathPrefix matches whole path segments: /foo matches /foo, /foo/
	// and /foo/bar, never /foobar. It is the zero value, as "/" with
	// PathPrefix is the Gateway API's default match.
	PathPrefix PathKind = iota
	// PathExact matches the path exactly, case-sensitively.
	PathExact
	// PathRegex matches the whole path (without the query) against an
	// RE2 expression.
	PathRegex
)

// PathMatch is one route's path match.
type PathMatch struct {
	Kind  PathKind
	Value string
}

// RequestMatch is what a request must carry besides its path. Every
// condition must hold; the zero value matches every request.
type RequestMatch struct {
	// Method is an HTTP method in upper case; "" matches any.
	Method string
	// Headers match request headers (names compared case-insensitively),
	// Query the query string's parameters (names compared exactly).
	Headers, Query []ValueMatch
}

// ValueMatch requires a header or query parameter Name to equal Value,
// or with Regex to match it whole as an RE2 expression.
type ValueMatch struct {
	Name, Value string
	Regex       bool
}

// HeaderEdits change the headers of a request on its way to the backend,
// or of a response on its way back (RequestHeaderModifier,
// ResponseHeaderModifier): Set replaces, Add appends (a second value when
// the header is there), Remove drops. Names are as the user wrote them;
// HTTP compares them case-insensitively.
type HeaderEdits struct {
	Set, Add []Header
	Remove   []string
}

// Empty reports whether the edits change nothing.
func (e HeaderEdits) Empty() bool { return len(e.Set)+len(e.Add)+len(e.Remove) == 0 }

// Header is one header name and value.
type Header struct {
	Name, Value string
}

// Backend is one weighted backend of a route: a port of a Service. A
// weight of 0 takes no requests, as the Gateway API says.
type Backend struct {
	Namespace, Name string
	Port            int32
	Weight          int32
	// Headers are the header edits of the backend's own filters (a
	// backendRef's RequestHeaderModifier and ResponseHeaderModifier):
	// made only on the requests sent to this backend and on its
	// responses. nil: none.
	Headers *BackendHeaders
}

// BackendHeaders are one backend's request and response header edits.
type BackendHeaders struct {
	Request, Response HeaderEdits
}

// Mirror sends a copy of each request (or of a Fraction of them) to
// another backend and ignores its answer (RequestMirror).
type Mirror struct {
	Backend Backend
	// Fraction of the requests mirrored; nil mirrors all of them.
	Fraction *Fraction
}

// Fraction is Numerator/Denominator, at most 1.
type Fraction struct {
	Numerator, Denominator int32
}

// GatewayTimeouts are an HTTPRoute rule's timeouts; zero is none set.
type GatewayTimeouts struct {
	// Request bounds the whole exchange, from the request's start to the
	// response's end, retries included.
	Request time.Duration
	// BackendRequest bounds one try at the backend.
	BackendRequest time.Duration
}

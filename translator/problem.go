package translator

import (
	"cmp"
	"fmt"
	"slices"
)

// Reason is a machine-readable cause of a Problem. It becomes the reason of
// the Kubernetes Event, so it is CamelCase like the API's own reasons.
type Reason string

// Problem reasons.
const (
	// BackendNotFound: the Service or Service port a backend names is missing.
	BackendNotFound Reason = "BackendNotFound"
	// InvalidBackend: a backend names neither a Service nor a port properly.
	InvalidBackend Reason = "InvalidBackend"
	// UnsupportedBackend: a resource backend, or an ExternalName Service.
	UnsupportedBackend Reason = "UnsupportedBackend"
	// PortConflict: an older object already holds the (port, protocol).
	PortConflict Reason = "PortConflict"
	// DuplicatePath: an older Ingress already routes this host and path.
	DuplicatePath Reason = "DuplicatePath"
	// DefaultBackendConflict: an older Ingress already has a defaultBackend.
	DefaultBackendConflict Reason = "DefaultBackendConflict"
	// InvalidHost: a rule or TLS host is not a valid DNS name or wildcard.
	InvalidHost Reason = "InvalidHost"
	// RegexTooLarge: a host whose match needs a regex larger than the
	// fleet's Envoys accept.
	RegexTooLarge Reason = "RegexTooLarge"
	// InvalidPath: a path or pathType that cannot be matched as specified.
	InvalidPath Reason = "InvalidPath"
	// SecretNotFound: a TLS entry, or an Ingress's auth-secret, names a
	// Secret that does not exist.
	SecretNotFound Reason = "SecretNotFound"
	// SecretInvalid: the Secret lacks a usable, matching certificate and
	// key, or (auth-secret) holds a user Envoy cannot check.
	SecretInvalid Reason = "SecretInvalid"
	// TLSConflict: a server name of the https port (or its default
	// chain) is already an older object's: an Ingress that serves the TLS
	// host with another Secret, or, between the Ingresses and the
	// Gateways' HTTPS and TLS listeners on that port, whichever asked
	// first (tlsnames.go). The message names the holder.
	TLSConflict Reason = "TLSConflict"
	// InvalidPort: a Service port whose number is not 1..65535, so it can
	// be neither a listener nor a backend.
	InvalidPort Reason = "InvalidPort"
	// UnsupportedProtocol: a protocol fairway cannot proxy (SCTP), or one
	// that does not fit the use (UDP behind an HTTP route).
	UnsupportedProtocol Reason = "UnsupportedProtocol"
	// InvalidEndpoint: an EndpointSlice entry fairway cannot use.
	InvalidEndpoint Reason = "InvalidEndpoint"
	// NoNodePort: nodes mode, but the Service port has no nodePort, or
	// the Service says allocateLoadBalancerNodePorts: false.
	NoNodePort Reason = "NoNodePort"
	// InvalidSourceRange: spec.loadBalancerSourceRanges holds something
	// that is not a CIDR; the Service's listeners are not opened.
	InvalidSourceRange Reason = "InvalidSourceRange"
	// ObjectTooLarge: an object over one of the Limits, refused whole.
	ObjectTooLarge Reason = "ObjectTooLarge"
	// UnsupportedAnnotation: an annotation under fairway's or
	// ingress-nginx's prefix that fairway does not implement; it is
	// ignored and the rest of the Ingress is served.
	UnsupportedAnnotation Reason = "UnsupportedAnnotation"
	// RefusedAnnotation: a snippet, or an annotation that guards access
	// and that fairway does not implement: the Ingress is not served.
	RefusedAnnotation Reason = "RefusedAnnotation"
	// InvalidAnnotation: a malformed annotation value. It is ignored,
	// unless it guards access: then the Ingress is not served.
	InvalidAnnotation Reason = "InvalidAnnotation"
	// AddressPoolExhausted: a LoadBalancer Service needs an address and
	// the address pools have no free one of its family.
	AddressPoolExhausted Reason = "AddressPoolExhausted"
	// AddressNotInPool: a Service names an address (spec.loadBalancerIP
	// or an address annotation) outside every address pool, or there is
	// no pool at all.
	AddressNotInPool Reason = "AddressNotInPool"
	// AddressTaken: the address a Service names is held by another
	// Service it may not share with.
	AddressTaken Reason = "AddressTaken"
	// InvalidAddress: a malformed spec.loadBalancerIP or address
	// annotation.
	InvalidAddress Reason = "InvalidAddress"
	// UnsupportedIPFamily: a Service's spec.ipFamilies asks for a family
	// that the fleet (without a pool) or the pools cannot serve.
	UnsupportedIPFamily Reason = "UnsupportedIPFamily"
	// CanaryWithoutMain: a canary Ingress's host and path match no main
	// Ingress's route, so it serves nothing.
	CanaryWithoutMain Reason = "CanaryWithoutMain"
	// DuplicateCanary: a main route already has an older canary.
	DuplicateCanary Reason = "DuplicateCanary"
	// IgnoredOnCanary: an annotation of a canary Ingress other than
	// canary-*, which its requests do not follow (the main's do).
	IgnoredOnCanary Reason = "IgnoredOnCanary"
	// PassthroughConflict: a host that one Ingress passes through
	// (ssl-passthrough) and another routes or terminates, or two
	// passthrough Ingresses name; the older wins.
	PassthroughConflict Reason = "PassthroughConflict"
	// IgnoredOnPassthrough: what a passthrough Ingress carries that a
	// connection fairway never opens makes moot (annotations, spec.tls,
	// paths other than "/").
	IgnoredOnPassthrough Reason = "IgnoredOnPassthrough"
	// InvalidPassthrough: a passthrough rule or Ingress that cannot be
	// passed through (no host, a wildcard host, no backend, no source
	// let in).
	InvalidPassthrough Reason = "InvalidPassthrough"
	// ClientCertConflict: an older Ingress already sets the host's client
	// certificate check (auth-tls-*) differently.
	ClientCertConflict Reason = "ClientCertConflict"
	// ClientCertUnavailable: a client certificate check that fairway
	// cannot put on the TLS handshake of the Ingress's hosts (a rule
	// without a host, a host without a certificate).
	ClientCertUnavailable Reason = "ClientCertUnavailable"
	// UnsupportedFilter: a Gateway API route filter asks what Envoy
	// cannot do (edit Host or a pseudo-header); that part is left out.
	UnsupportedFilter Reason = "UnsupportedFilter"
	// ProxylessConflict: the name a proxyless client dials for a
	// Gateway's hostname (<host>:<port>) is an older Gateway's, or a
	// Service's target; those clients get the other.
	ProxylessConflict Reason = "ProxylessConflict"
)

// Reasons lists every Reason the translator gives, for dashboards that want
// a series per reason before the first Problem.
var Reasons = []Reason{
	BackendNotFound, InvalidBackend, UnsupportedBackend, PortConflict, DuplicatePath, DefaultBackendConflict,
	InvalidHost, RegexTooLarge, InvalidPath, SecretNotFound, SecretInvalid, TLSConflict, InvalidPort, UnsupportedProtocol,
	InvalidEndpoint, NoNodePort, InvalidSourceRange, ObjectTooLarge, UnsupportedAnnotation, RefusedAnnotation, InvalidAnnotation,
	AddressPoolExhausted, AddressNotInPool, AddressTaken, InvalidAddress, UnsupportedIPFamily,
	CanaryWithoutMain, DuplicateCanary, IgnoredOnCanary,
	PassthroughConflict, IgnoredOnPassthrough, InvalidPassthrough,
	ClientCertConflict, ClientCertUnavailable, UnsupportedFilter, ProxylessConflict,
}

// Problem is one thing wrong with one object. Message names the field.
type Problem struct {
	ObjectRef `json:",inline"`
	Reason    Reason `json:"reason"`
	Message   string `json:"message"`
}

// String is the one-line form the CLI prints.
func (p Problem) String() string {
	return fmt.Sprintf("%s %s: %s: %s", p.Kind, p.NamespacedName(), p.Reason, p.Message)
}

// slot is where one piece of the engine keeps its Problems, so that
// rebuilding the piece replaces exactly those, and gathering them all walks
// only the pieces that have any.
type slot struct {
	piece     slotPiece
	namespace string
	name      string
}

type slotPiece uint8

const (
	slotIngress slotPiece = iota
	slotHost
	slotDefaults
	slotClaims
	slotTLS
	slotCluster
	slotProxyless
	slotGateway
)

// setProblems replaces a piece's Problems.
func (e *Engine) setProblems(s slot, ps []Problem) {
	if len(ps) == 0 {
		delete(e.problemSlots, s)
		return
	}
	e.problemSlots[s] = ps
}

// problems collects Problems during one translation.
type problems []Problem

func (ps *problems) add(ref ObjectRef, reason Reason, format string, args ...any) {
	*ps = append(*ps, Problem{ObjectRef: ref, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

// sorted orders by object, reason and message, and drops exact repeats (an
// Ingress that names one missing Service in two paths says so once per path,
// since the message names the path, but never twice for the same path).
func (ps problems) sorted() []Problem {
	out := []Problem(ps)
	slices.SortFunc(out, func(a, b Problem) int {
		return cmp.Or(compareRefs(a.ObjectRef, b.ObjectRef), cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Message, b.Message))
	})
	return slices.Compact(out)
}

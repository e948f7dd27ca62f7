package pki

import (
	"fmt"
	"strings"
)

// The identities of issue 13's contract, as SPIFFE IDs under a trust
// domain. A stream's identity is read from its verified certificate, never
// from the node id the client claims.

// DefaultTrustDomain is the trust domain when none is configured.
const DefaultTrustDomain = "fairway"

// FleetID is a fleet Envoy that may join any node group.
func FleetID(trustDomain string) string { return "spiffe://" + trustDomain + "/fleet" }

// FleetGroupID is a fleet Envoy that may join only the node group group.
func FleetGroupID(trustDomain, group string) string { return FleetID(trustDomain) + "/" + group }

// ProxylessID is a proxyless gRPC application in namespace.
func ProxylessID(trustDomain, namespace string) string {
	return "spiffe://" + trustDomain + "/proxyless/" + namespace
}

// ControlPlaneID is fairway itself.
func ControlPlaneID(trustDomain string) string { return "spiffe://" + trustDomain + "/control-plane" }

// ServerLeaf is fairway's serving certificate: every name a client in the
// cluster may dial the Service by, and the control plane's identity.
func ServerLeaf(trustDomain, service, namespace string) Leaf {
	return Leaf{
		CommonName: service + "." + namespace + ".svc",
		DNSNames: []string{
			service,
			service + "." + namespace,
			service + "." + namespace + ".svc",
			service + "." + namespace + ".svc.cluster.local",
		},
		URIs:  []string{ControlPlaneID(trustDomain)},
		Usage: ServerAuth,
	}
}

// FleetLeaf is the fleet's client certificate, shared by its Envoys.
func FleetLeaf(trustDomain string) Leaf {
	return Leaf{CommonName: "fairway-fleet", URIs: []string{FleetID(trustDomain)}, Usage: ClientAuth}
}

// ProxylessLeaf is the client certificate of the proxyless applications
// in namespace.
func ProxylessLeaf(trustDomain, namespace string) Leaf {
	return Leaf{CommonName: "proxyless." + namespace, URIs: []string{ProxylessID(trustDomain, namespace)}, Usage: ClientAuth}
}

// CheckTrustDomain refuses a trust domain that would not make a valid
// SPIFFE ID: lower-case letters, digits, dots, dashes and underscores.
func CheckTrustDomain(td string) error {
	if td == "" {
		return fmt.Errorf("empty trust domain")
	}
	if strings.Trim(td, "abcdefghijklmnopqrstuvwxyz0123456789.-_") != "" {
		return fmt.Errorf("trust domain %q: only lower-case letters, digits, '.', '-' and '_'", td)
	}
	return nil
}

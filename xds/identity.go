package xds

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/fairwayhq/fairway/pki"
)

// DefaultTrustDomain is the SPIFFE trust domain of the identities fairway
// accepts when none is configured: the one certgen issues in.
const DefaultTrustDomain = pki.DefaultTrustDomain

// Role is what an xDS client's certificate says it is. The node a client
// claims in its requests is its own word; the role is the CA's.
type Role int

const (
	// RoleAnonymous is a stream without a verified client certificate: the
	// server was started without client authentication, which serve allows
	// only on loopback or with --xds-insecure.
	RoleAnonymous Role = iota
	// RoleFleet is an Envoy of the fleet: spiffe://<td>/fleet may join any
	// node group, spiffe://<td>/fleet/<group> only node.cluster <group>.
	RoleFleet
	// RoleProxyless is a proxyless gRPC application,
	// spiffe://<td>/proxyless/<namespace>: it gets the proxyless view only,
	// and never a secret.
	RoleProxyless
)

// Identity is the verified identity of an xDS stream.
type Identity struct {
	Role Role
	// URI is the certificate's SPIFFE ID; empty for RoleAnonymous.
	URI string
	// Group binds a fleet identity to one node.cluster ("" = any).
	Group string
	// Namespace is a proxyless identity's namespace.
	Namespace string
}

func (id Identity) String() string {
	if id.Role == RoleAnonymous {
		return "anonymous (no client certificate)"
	}
	return id.URI
}

// Authorization configures who may get what over xDS.
type Authorization struct {
	// TrustDomain is the SPIFFE trust domain identities must be in
	// (DefaultTrustDomain when empty).
	TrustDomain string
	// RequireIdentity refuses streams without a verified client
	// certificate; serve sets it whenever a client CA is configured, so a
	// TLS setup gone wrong fails closed rather than serving anyone.
	RequireIdentity bool
}

// ParseIdentity reads the identity from a client certificate's URI SAN. A
// SPIFFE certificate carries exactly one URI; anything else, another trust
// domain or an unknown path is refused, since it names no role fairway
// could grant.
func ParseIdentity(cert *x509.Certificate, trustDomain string) (Identity, error) {
	if trustDomain == "" {
		trustDomain = DefaultTrustDomain
	}
	if len(cert.URIs) != 1 {
		return Identity{}, fmt.Errorf("certificate %q has %d URI SANs, want exactly one SPIFFE ID", cert.Subject.CommonName, len(cert.URIs))
	}
	u := cert.URIs[0]
	id := Identity{URI: u.String()}
	if u.Scheme != "spiffe" || u.Host != trustDomain || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Identity{}, fmt.Errorf("certificate identity %q is not a SPIFFE ID in trust domain %q", id.URI, trustDomain)
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "fleet":
		id.Role = RoleFleet
	case len(parts) == 2 && parts[0] == "fleet" && parts[1] != "":
		id.Role, id.Group = RoleFleet, parts[1]
	case len(parts) == 2 && parts[0] == "proxyless" && parts[1] != "":
		id.Role, id.Namespace = RoleProxyless, parts[1]
	default:
		return Identity{}, fmt.Errorf("certificate identity %q is no xDS client identity (want %s/fleet[/<group>] or %s/proxyless/<namespace>)",
			id.URI, spiffeRoot(trustDomain), spiffeRoot(trustDomain))
	}
	return id, nil
}

func spiffeRoot(trustDomain string) string {
	return (&url.URL{Scheme: "spiffe", Host: trustDomain}).String()
}

// identityOf derives a stream's identity from the verified peer certificate
// of its connection. A stream with no verified chain is anonymous, which is
// an error when an identity is required.
func (a Authorization) identityOf(ctx context.Context) (Identity, *refusal) {
	var chains [][]*x509.Certificate
	if ctx != nil {
		if p, ok := peer.FromContext(ctx); ok {
			if info, ok := p.AuthInfo.(credentials.TLSInfo); ok {
				chains = info.State.VerifiedChains
			}
		}
	}
	if len(chains) == 0 || len(chains[0]) == 0 {
		if a.RequireIdentity {
			return Identity{}, &refusal{reason: "no_identity", msg: "xDS requires a verified client certificate"}
		}
		return Identity{Role: RoleAnonymous}, nil
	}
	id, err := ParseIdentity(chains[0][0], a.TrustDomain)
	if err != nil {
		return Identity{}, &refusal{reason: "unknown_identity", msg: err.Error()}
	}
	return id, nil
}

// refusal is a request an identity may not make: reason is the metric
// label, msg what the client and the log are told.
type refusal struct{ reason, msg string }

// grpcStatus is the error the stream ends with.
func (r *refusal) grpcStatus() error { return status.Error(codes.PermissionDenied, r.msg) }

// authorize decides whether id may make a request of typeURL as node. It
// looks at the node the request is served as (its view and node.cluster),
// so a forged node can only ask for what the certificate allows anyway.
// A fleet identity may also use the proxyless view: an Envoy is trusted
// with more than that view holds.
func (id Identity) authorize(node *corev3.Node, typeURL string) *refusal {
	deny := func(reason, what string) *refusal {
		return &refusal{reason: reason, msg: fmt.Sprintf("identity %s (node %q, cluster %q) may not get %s",
			id, node.GetId(), node.GetCluster(), what)}
	}
	switch id.Role {
	case RoleProxyless:
		if typeURL == resourcev3.SecretType {
			return deny("secret", "secrets (SDS is for the fleet only)")
		}
		if !IsProxyless(node) {
			return deny("group", "the fleet's view: the node does not present itself as a proxyless client")
		}
	case RoleFleet:
		if id.Group != "" && node.GetCluster() != id.Group {
			return deny("group", fmt.Sprintf("node group %q: the certificate is bound to node.cluster %q", node.GetCluster(), id.Group))
		}
	}
	return nil
}

package xds

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

func certWithURIs(uris ...string) *x509.Certificate {
	c := &x509.Certificate{}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil {
			panic(err)
		}
		c.URIs = append(c.URIs, u)
	}
	return c
}

func TestParseIdentity(t *testing.T) {
	for _, tc := range []struct {
		uris []string
		want Identity
		err  string
	}{
		{uris: []string{"spiffe://fairway/fleet"}, want: Identity{Role: RoleFleet, URI: "spiffe://fairway/fleet"}},
		{uris: []string{"spiffe://fairway/fleet/edge-a"}, want: Identity{Role: RoleFleet, URI: "spiffe://fairway/fleet/edge-a", Group: "edge-a"}},
		{uris: []string{"spiffe://fairway/proxyless/shop"}, want: Identity{Role: RoleProxyless, URI: "spiffe://fairway/proxyless/shop", Namespace: "shop"}},
		{uris: nil, err: "0 URI SANs"},
		{uris: []string{"spiffe://fairway/fleet", "spiffe://fairway/proxyless/shop"}, err: "2 URI SANs"},
		{uris: []string{"spiffe://other/fleet"}, err: `not a SPIFFE ID in trust domain "fairway"`},
		{uris: []string{"https://fairway/fleet"}, err: "not a SPIFFE ID"},
		{uris: []string{"spiffe://fairway/control-plane"}, err: "no xDS client identity"},
		{uris: []string{"spiffe://fairway/fleet/"}, err: "no xDS client identity"},
		{uris: []string{"spiffe://fairway/fleet/a/b"}, err: "no xDS client identity"},
		{uris: []string{"spiffe://fairway/proxyless"}, err: "no xDS client identity"},
	} {
		got, err := ParseIdentity(certWithURIs(tc.uris...), "")
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: error %v, want one containing %q", tc.uris, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%v: %v", tc.uris, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("%v: got %+v, want %+v", tc.uris, got, tc.want)
		}
	}
	if _, err := ParseIdentity(certWithURIs("spiffe://prod.example/fleet"), "prod.example"); err != nil {
		t.Errorf("configured trust domain: %v", err)
	}
}

func TestIdentityAuthorize(t *testing.T) {
	envoyNode := &corev3.Node{Id: "envoy-1", Cluster: "edge-a", UserAgentName: "envoy"}
	grpcNode := &corev3.Node{Id: "app-1", Cluster: "edge-b", UserAgentName: "gRPC Go"}
	fleet := Identity{Role: RoleFleet, URI: "spiffe://fairway/fleet"}
	fleetA := Identity{Role: RoleFleet, URI: "spiffe://fairway/fleet/edge-a", Group: "edge-a"}
	app := Identity{Role: RoleProxyless, URI: "spiffe://fairway/proxyless/shop", Namespace: "shop"}
	sds, lds := resourcev3.SecretType, resourcev3.ListenerType
	for _, tc := range []struct {
		name   string
		id     Identity
		node   *corev3.Node
		typ    string
		reason string // "" = allowed
	}{
		{"anonymous gets all", Identity{}, envoyNode, sds, ""},
		{"fleet gets secrets", fleet, envoyNode, sds, ""},
		{"fleet may use the proxyless view", fleet, grpcNode, lds, ""},
		{"bound fleet in its group", fleetA, envoyNode, sds, ""},
		{"bound fleet in another group", fleetA, &corev3.Node{Id: "envoy-2", Cluster: "edge-b"}, lds, "group"},
		{"proxyless gets its view", app, grpcNode, lds, ""},
		{"proxyless asks for secrets", app, grpcNode, sds, "secret"},
		{"proxyless forges an Envoy node", app, envoyNode, lds, "group"},
	} {
		r := tc.id.authorize(tc.node, tc.typ)
		switch {
		case tc.reason == "" && r != nil:
			t.Errorf("%s: refused: %s", tc.name, r.msg)
		case tc.reason != "" && (r == nil || r.reason != tc.reason):
			t.Errorf("%s: got %+v, want a refusal for %s", tc.name, r, tc.reason)
		case r != nil && (!strings.Contains(r.msg, tc.id.URI) || !strings.Contains(r.msg, tc.node.GetId())):
			t.Errorf("%s: message %q names neither identity nor node", tc.name, r.msg)
		}
	}
}

func tlsPeerContext(cert *x509.Certificate) context.Context {
	state := tls.ConnectionState{}
	if cert != nil {
		state.VerifiedChains = [][]*x509.Certificate{{cert}}
	}
	return peer.NewContext(context.Background(), &peer.Peer{AuthInfo: credentials.TLSInfo{State: state}})
}

// TestNodesRefuseByIdentity: the callbacks end a stream with
// PermissionDenied when its certificate does not allow the request, SotW
// and delta, and count it.
func TestNodesRefuseByIdentity(t *testing.T) {
	p := newTestPublisher()
	n := NewNodes(p, hclog.NewNullLogger(), p.metrics)
	n.Authorize(Authorization{RequireIdentity: true})
	app := tlsPeerContext(certWithURIs("spiffe://fairway/proxyless/shop"))
	grpcNode := &corev3.Node{Id: "app-1", UserAgentName: "gRPC Go"}

	if err := n.OnStreamOpen(tlsPeerContext(nil), 1, ""); status.Code(err) != codes.PermissionDenied {
		t.Errorf("open without a certificate: %v", err)
	}
	if err := n.OnDeltaStreamOpen(tlsPeerContext(certWithURIs("spiffe://fairway/control-plane")), 2, ""); status.Code(err) != codes.PermissionDenied {
		t.Errorf("open with a non-client identity: %v", err)
	}
	if err := n.OnStreamOpen(app, 3, ""); err != nil {
		t.Fatal(err)
	}
	if err := n.OnStreamRequest(3, &discoveryv3.DiscoveryRequest{Node: grpcNode, TypeUrl: resourcev3.ListenerType}); err != nil {
		t.Errorf("proxyless listeners: %v", err)
	}
	if s := n.Streams(); len(s) != 1 || s[0].Identity != "spiffe://fairway/proxyless/shop" {
		t.Errorf("/debug/nodes streams %+v, want the one accepted stream with its identity", s)
	}
	err := n.OnStreamRequest(3, &discoveryv3.DiscoveryRequest{Node: grpcNode, TypeUrl: resourcev3.SecretType})
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "spiffe://fairway/proxyless/shop") {
		t.Errorf("proxyless SDS over SotW: %v", err)
	}
	// A delta per-type SDS stream: the type comes from the stream, and
	// only the first request carries the node.
	if err := n.OnDeltaStreamOpen(app, 4, resourcev3.SecretType); err != nil {
		t.Fatal(err)
	}
	if err := n.OnStreamDeltaRequest(4, &discoveryv3.DeltaDiscoveryRequest{Node: grpcNode}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("proxyless SDS over delta: %v", err)
	}
	if err := n.OnDeltaStreamOpen(app, 5, ""); err != nil {
		t.Fatal(err)
	}
	forged := &corev3.Node{Id: "envoy-1", Cluster: "fairway", UserAgentName: "envoy"}
	if err := n.OnStreamDeltaRequest(5, &discoveryv3.DeltaDiscoveryRequest{Node: forged, TypeUrl: resourcev3.ClusterType}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("proxyless with a forged Envoy node: %v", err)
	}
	for reason, want := range map[string]float64{"no_identity": 1, "unknown_identity": 1, "secret": 2, "group": 1} {
		if got := counterValue(t, p.metrics.RefusedStreams.WithLabelValues(reason)); got != want {
			t.Errorf("refused %s = %v, want %v", reason, got, want)
		}
	}
}

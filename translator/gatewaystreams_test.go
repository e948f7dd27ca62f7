package translator

import (
	"maps"
	"testing"

	"github.com/fairwayhq/fairway/envoy"
)

// TestStreamRoutesRefuseUnresolvedShare: a TCPRoute's or TLSRoute's
// backendRefs that do not resolve take their weight of connections to
// envoy.UnresolvedBackendCluster, which the result does not hold (so
// Envoy closes those connections), never to the valid backends; a route
// with no valid backend refuses every connection and still holds its
// SNI name against a newer route; a UDPRoute's invalid share goes to its
// valid backend. The result still validates: the missing cluster is
// missing by design.
func TestStreamRoutesRefuseUnresolvedShare(t *testing.T) {
	in := readGoldenInput(t, "testdata/gateway-streams-unresolved/input.yaml")
	res := Translate(in.Input, in.Options)
	if err := res.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if hasCluster(res, envoy.UnresolvedBackendCluster) {
		t.Fatalf("the result holds %s; Envoy would send the refused share to it", envoy.UnresolvedBackendCluster)
	}
	if hasCluster(res, "default/old-new/8443") {
		t.Error("the cluster of a TLSRoute whose name an older route holds is published")
	}
	const gw = "default/edge"
	for _, c := range []struct {
		what string
		port int
		sni  string
		want map[string]uint32
	}{
		{"TCP, one of two backends missing", 5432, "", map[string]uint32{"default/pg-a/5432": 3, envoy.UnresolvedBackendCluster: 1}},
		{"TCP, no backend resolves", 6379, "", map[string]uint32{envoy.UnresolvedBackendCluster: 1}},
		{"TLS, a backend without a ReferenceGrant", 443, "db.example.com", map[string]uint32{"default/db/8443": 1, envoy.UnresolvedBackendCluster: 1}},
		{"TLS, the oldest route's name, no backend", 443, "old.example.com", map[string]uint32{envoy.UnresolvedBackendCluster: 1}},
	} {
		l, _ := gatewayListener(t, res, gw, c.port, false)
		if l == nil {
			t.Errorf("%s: no listener on %d", c.what, c.port)
			continue
		}
		fc := gatewayChain(t, l, c.port, c.sni, c.sni != "")
		if fc == nil {
			t.Errorf("%s: no chain for %q", c.what, c.sni)
			continue
		}
		if got := tcpClusters(t, fc); !maps.Equal(got, c.want) {
			t.Errorf("%s: tcp_proxy sends to %v, want %v", c.what, got, c.want)
		}
	}
	l, _ := gatewayListener(t, res, gw, 53, true)
	if l == nil {
		t.Fatal("no UDP listener on 53")
	}
	if got, want := udpClusters(t, l), map[string]uint32{"default/dns/53/udp": 1}; !maps.Equal(got, want) {
		t.Errorf("UDP: udp_proxy sends to %v, want %v", got, want)
	}
}

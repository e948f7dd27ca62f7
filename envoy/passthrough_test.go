package envoy

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
)

// TestHTTPSListenerEncoderWithPassthrough: with passthrough chains the
// encoder's bytes are proto.Marshal's of WithPassthrough(HTTPSListener),
// with and without terminating chains, source ranges and an access log;
// with none they are Append's, so listeners without passthrough hosts
// encode as before.
func TestHTTPSListenerEncoderWithPassthrough(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 5))
	ranges := [][]string{nil, {"10.0.0.0/8"}, {"10.0.0.0/16", "192.168.1.7/32", "2001:db8::/32"}}
	for i := range 100 {
		var chains []TLSChain
		for j := range r.IntN(5) {
			host := fmt.Sprintf("t%d-%s.example.com", j, randomString(r, 1+r.IntN(20)))
			chains = append(chains, TLSChain{Secret: "ns/s", ServerNames: []string{host}, RouteConfig: HTTPSHostRouteConfig(host)})
		}
		var pass []PassthroughChain
		for j := range r.IntN(4) {
			host := fmt.Sprintf("p%d-%s.example.com", j, randomString(r, 1+r.IntN(20)))
			pass = append(pass, PassthroughChain{ServerName: host, Cluster: fmt.Sprintf("ns/db%d/5432", j), SourceRanges: ranges[r.IntN(len(ranges))]})
		}
		log := LogFormat(nil)
		if i%2 == 1 {
			log = DefaultTCPLogFormat
		}
		ca := ClientAddress{ProxyProtocol: i%3 == 0}
		want := mustMarshal(t, WithPassthrough(HTTPSListener(HTTPSListenerName, DefaultListenAddress, 443, chains, DefaultHTTPLogFormat, ca), pass, log))
		x := NewHTTPSListenerEncoder(HTTPSListenerName, DefaultListenAddress, 443, DefaultHTTPLogFormat, ca)
		if got := x.AppendWithPassthrough(nil, chains, pass, log); !bytes.Equal(got, want) {
			t.Fatalf("case %d (%d chains, %d passthrough): encodings differ\n got %x\nwant %x", i, len(chains), len(pass), got, want)
		}
		if len(pass) == 0 && !bytes.Equal(x.AppendWithPassthrough(nil, chains, nil, log), x.Append(nil, chains)) {
			t.Fatalf("case %d: without passthrough chains the encoding is not Append's", i)
		}
	}
}

// TestPassthroughChainHasNoTermination: the chain matches its host's SNI
// (and its sources), carries no transport socket, and proxies to its
// cluster with the L4 listeners' idle timeout and connect attempts.
func TestPassthroughChainHasNoTermination(t *testing.T) {
	fc := passthroughFilterChain(PassthroughChain{ServerName: "db.example.com", Cluster: "ns/db/5432", SourceRanges: []string{"10.0.0.0/8"}}, nil)
	if fc.GetTransportSocket() != nil {
		t.Fatal("a passthrough chain terminates TLS")
	}
	m := fc.GetFilterChainMatch()
	if got := m.GetServerNames(); len(got) != 1 || got[0] != "db.example.com" {
		t.Errorf("server_names = %v", got)
	}
	if got := m.GetSourcePrefixRanges(); len(got) != 1 || got[0].GetAddressPrefix() != "10.0.0.0" || got[0].GetPrefixLen().GetValue() != 8 {
		t.Errorf("source_prefix_ranges = %v", got)
	}
	var proxy tcpproxyv3.TcpProxy
	if err := fc.GetFilters()[0].GetTypedConfig().UnmarshalTo(&proxy); err != nil {
		t.Fatal(err)
	}
	if proxy.GetCluster() != "ns/db/5432" || proxy.GetIdleTimeout().AsDuration() != TCPIdleTimeout || proxy.GetMaxConnectAttempts().GetValue() != TCPMaxConnectAttempts {
		t.Errorf("tcp_proxy = %v", &proxy)
	}
	if fc.GetName() != "db.example.com" {
		t.Errorf("name = %q", fc.GetName())
	}
}

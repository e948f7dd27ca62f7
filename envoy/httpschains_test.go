package envoy

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestHTTPSListenerEncoder: the encoder's bytes are proto.Marshal's of
// HTTPSListener, for listeners of no chain, a default chain only, and many
// SNI chains sharing Secrets, with and without the PROXY protocol, trusted
// hops and an access log, and with chains that check client certificates
// (each verify mode) among them.
func TestHTTPSListenerEncoder(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	options := []struct {
		log LogFormat
		ca  ClientAddress
	}{
		{nil, ClientAddress{}},
		{DefaultHTTPLogFormat, ClientAddress{ProxyProtocol: true, XFFTrustedHops: 2}},
	}
	for i := range 200 {
		var chains []TLSChain
		for j := range r.IntN(12) {
			host := fmt.Sprintf("h%d-%s.example.com", j, randomString(r, 1+r.IntN(30)))
			if r.IntN(4) == 0 {
				host = "*." + host
			}
			c := TLSChain{Secret: fmt.Sprintf("ns/s%d", r.IntN(3)), ServerNames: []string{host}, RouteConfig: HTTPSHostRouteConfig(host)}
			if r.IntN(5) == 0 {
				modes := []ClientVerify{ClientVerifyOn, ClientVerifyOff, ClientVerifyOptional, ClientVerifyOptionalNoCA}
				c.ClientAuth = &ClientAuth{CASecret: fmt.Sprintf("ns/ca%d/ca", r.IntN(2)), Verify: modes[r.IntN(len(modes))], MaxDepth: uint32(1 + r.IntN(3))}
			}
			chains = append(chains, c)
		}
		if r.IntN(2) == 0 {
			chains = append(chains, TLSChain{Secret: "ns/default", RouteConfig: HTTPSRouteConfig})
		}
		o := options[i%len(options)]
		port := uint32(443 + r.IntN(2)*8000)
		want := mustMarshal(t, HTTPSListener(HTTPSListenerName, DefaultListenAddress, port, chains, o.log, o.ca))
		x := NewHTTPSListenerEncoder(HTTPSListenerName, DefaultListenAddress, port, o.log, o.ca)
		if got := x.Append(nil, chains); !bytes.Equal(got, want) {
			t.Fatalf("case %d (%d chains): encodings differ\n got %x\nwant %x", i, len(chains), got, want)
		}
	}
}

package envoy

import (
	"fmt"
	"slices"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// HTTPSListenerEncoder writes the encoding of an HTTPSListener without
// building it. The listener has a filter chain per TLS host, each with a
// whole connection manager that differs from the others only in the route
// configuration it names: ten thousand hosts are ten thousand chains, and
// building and marshalling each as messages costs most of a cold build.
// So the parts that are the same in every chain are encoded once, and a
// chain is its few differing strings written around them. Tests hold the
// bytes identical to proto.Marshal of HTTPSListener.
type HTTPSListenerEncoder struct {
	head, tail []byte // the listener before and after its filter chains (field 3)
	hcmHead    []byte // the connection manager's fields outside its route specifier
	rdsHead    []byte // Rds without route_config_name: its config source
	sockets    map[string][]byte
}

// NewHTTPSListenerEncoder prepares the encoding of HTTPSListener(name,
// address, port, chains, log, ca) for any chains.
func NewHTTPSListenerEncoder(name, address string, port uint32, log LogFormat, ca ClientAddress) *HTTPSListenerEncoder {
	x := &HTTPSListenerEncoder{sockets: map[string][]byte{}}
	empty := marshalOrPanic(HTTPSListener(name, address, port, nil, log, ca))
	x.head, x.tail = splitAfter(empty, 2) // name (1), address (2), then filter_chains (3)
	hcm := httpConnectionManager(name, "", log, ca)
	hcm.RouteSpecifier = nil // a oneof: written after every other field
	x.hcmHead = marshalOrPanic(hcm)
	x.rdsHead = marshalOrPanic(&hcmv3.Rds{ConfigSource: adsSource()})
	return x
}

// Append appends the listener's encoding with chains.
func (x *HTTPSListenerEncoder) Append(b []byte, chains []TLSChain) []byte {
	sizes := make([]chainSizes, len(chains))
	total := len(x.head) + len(x.tail)
	for i, c := range chains {
		sizes[i] = x.sizes(c)
		total += sizeMessage(3, sizes[i].chain)
	}
	b = slices.Grow(b, total) // the listener of ten thousand hosts is megabytes: no regrowth
	b = append(b, x.head...)
	for i, c := range chains {
		b = x.appendChain(b, c, sizes[i])
	}
	return append(b, x.tail...)
}

// chainSizes are the lengths of a chain's nested messages, which precede
// them on the wire, and its encoded TLS socket, looked up once.
type chainSizes struct {
	match, rds, hcm, typed, filter, chain int
	socket                                []byte
}

func (x *HTTPSListenerEncoder) sizes(c TLSChain) chainSizes {
	var z chainSizes
	for _, n := range c.ServerNames {
		z.match += sizeString(11, n)
	}
	z.rds = len(x.rdsHead) + sizeString(2, c.RouteConfig)
	z.hcm = len(x.hcmHead) + sizeMessage(3, z.rds)
	z.typed = sizeString(1, hcmTypeURL) + sizeMessage(2, z.hcm)
	z.filter = sizeString(1, edgeHCMFilter) + sizeMessage(4, z.typed)
	z.socket = x.socket(c)
	z.chain = sizeMessage(3, z.filter) + sizeMessage(6, len(z.socket)) + sizeString(7, FilterChainName(c))
	if len(c.ServerNames) > 0 {
		z.chain += sizeMessage(1, z.match)
	}
	return z
}

// appendChain appends one filter_chains field: a FilterChain of
// filter_chain_match (1: server_names, 11), filters (3: the connection
// manager naming c's route configuration), transport_socket (6), name (7).
func (x *HTTPSListenerEncoder) appendChain(b []byte, c TLSChain, z chainSizes) []byte {
	b = appendTagLen(b, 3, z.chain)
	if len(c.ServerNames) > 0 {
		b = appendTagLen(b, 1, z.match)
		for _, n := range c.ServerNames {
			b = appendString(b, 11, n)
		}
	}
	b = appendTagLen(b, 3, z.filter)
	b = appendString(b, 1, edgeHCMFilter)
	b = appendTagLen(b, 4, z.typed)
	b = appendString(b, 1, hcmTypeURL)
	b = appendTagLen(b, 2, z.hcm)
	b = append(b, x.hcmHead...)
	b = appendTagLen(b, 3, z.rds)
	b = append(b, x.rdsHead...)
	b = appendString(b, 2, c.RouteConfig)
	b = appendTagLen(b, 6, len(z.socket))
	b = append(b, z.socket...)
	return appendString(b, 7, FilterChainName(c))
}

// appendTagLen starts a length-delimited field of n bytes.
func appendTagLen(b []byte, num wire, n int) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.BytesType), uint64(n))
}

// socket is the encoded downstream TLS transport socket of a chain, one
// per secret: many hosts share one. A chain that checks client
// certificates (rare) has its own, encoded each time.
func (x *HTTPSListenerEncoder) socket(c TLSChain) []byte {
	if c.ClientAuth.asks() {
		return marshalOrPanic(chainSocket(c))
	}
	s, ok := x.sockets[c.Secret]
	if !ok {
		s = marshalOrPanic(downstreamTLS(c.Secret))
		x.sockets[c.Secret] = s
	}
	return s
}

// splitAfter splits an encoded message after its leading fields numbered
// up to last.
func splitAfter(m []byte, last protowire.Number) (head, tail []byte) {
	rest := m
	for len(rest) > 0 {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 || num > last {
			break
		}
		v := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if v < 0 {
			panic(fmt.Sprintf("envoy: split an encoding: %v", protowire.ParseError(v)))
		}
		rest = rest[n+v:]
	}
	cut := len(m) - len(rest)
	return m[:cut:cut], rest
}

func marshalOrPanic(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("envoy: encode %T: %v", m, err))
	}
	return b
}

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
	// Room for every chain up front: the listener of ten thousand hosts
	// is megabytes, and growing it step by step copies it over and over.
	perChain := len(x.hcmHead) + len(x.rdsHead) + len(hcmTypeURL) + len(hcmFilter) + 64
	for _, s := range x.sockets {
		perChain += len(s)
		break
	}
	b = slices.Grow(b, len(x.head)+len(x.tail)+len(chains)*(perChain+128))
	b = append(b, x.head...)
	var fc []byte
	for _, c := range chains {
		fc = x.appendChain(fc[:0], c)
		b = appendBytesField(b, 3, fc)
	}
	return append(b, x.tail...)
}

// appendChain appends a FilterChain's fields: filter_chain_match (1),
// filters (3), transport_socket (6), name (7).
func (x *HTTPSListenerEncoder) appendChain(b []byte, c TLSChain) []byte {
	if len(c.ServerNames) > 0 {
		var m []byte
		for _, n := range c.ServerNames {
			m = appendString(m, 11, n) // FilterChainMatch.server_names
		}
		b = appendBytesField(b, 1, m)
	}
	rds := appendString(append([]byte(nil), x.rdsHead...), 2, c.RouteConfig)
	hcm := appendBytesField(append(make([]byte, 0, len(x.hcmHead)+len(rds)+8), x.hcmHead...), 3, rds)
	typed := appendBytesField(appendString(nil, 1, hcmTypeURL), 2, hcm)
	filter := appendBytesField(appendString(nil, 1, hcmFilter), 4, typed)
	b = appendBytesField(b, 3, filter)
	b = appendBytesField(b, 6, x.socket(c.Secret))
	return appendString(b, 7, FilterChainName(c))
}

// socket is the encoded downstream TLS transport socket of a secret, one
// per secret: many hosts share one.
func (x *HTTPSListenerEncoder) socket(secret string) []byte {
	s, ok := x.sockets[secret]
	if !ok {
		s = marshalOrPanic(downstreamTLS(secret))
		x.sockets[secret] = s
	}
	return s
}

func appendBytesField(b []byte, num wire, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
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

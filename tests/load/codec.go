package load

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the default codec
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// rawMessage is a response kept as its bytes.
type rawMessage struct{ b []byte }

// rawCodec is the load clients' codec: requests are protobuf as usual,
// responses are kept raw, and the client reads just the fields an ACK
// needs. A thousand clients on the same two cores as fairway must not
// spend the machine decoding resources they do not use.
type rawCodec struct{ proto encoding.CodecV2 }

func newRawCodec() rawCodec { return rawCodec{proto: encoding.GetCodecV2("proto")} }

func (rawCodec) Name() string { return "proto" }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*rawMessage); ok {
		m.b = data.Materialize()
		return nil
	}
	return c.proto.Unmarshal(data, v)
}

// response is what a client reads of a (delta) discovery response.
type response struct {
	version, typeURL, nonce string
	names                   []string // of delta resources, and of SotW clusters
	removed                 []string
	size                    int
}

// Field numbers: DiscoveryResponse{version_info=1, resources=2,
// type_url=4, nonce=5}; DeltaDiscoveryResponse{system_version_info=1,
// resources=2 (Resource{name=3}), type_url=4, removed_resources=6,
// nonce=5}; a Cluster's name is field 1 of the Any's value (field 2).
func parse(b []byte, delta, clusterNames bool) (response, error) {
	r := response{size: len(b)}
	err := fields(b, func(num protowire.Number, v []byte) error {
		switch num {
		case 1:
			r.version = string(v)
		case 4:
			r.typeURL = string(v)
		case 5:
			r.nonce = string(v)
		case 6:
			r.removed = append(r.removed, string(v))
		case 2:
			switch {
			case delta:
				return fields(v, func(n protowire.Number, f []byte) error {
					if n == 3 {
						r.names = append(r.names, string(f))
					}
					return nil
				})
			case clusterNames:
				return fields(v, func(n protowire.Number, value []byte) error {
					if n != 2 {
						return nil
					}
					return fields(value, func(n protowire.Number, name []byte) error {
						if n == 1 {
							r.names = append(r.names, string(name))
						}
						return nil
					})
				})
			}
		}
		return nil
	})
	return r, err
}

// fields calls fn for every length-delimited field of b, in order.
func fields(b []byte, fn func(protowire.Number, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, v); err != nil {
			return err
		}
	}
	return nil
}

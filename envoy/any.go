package envoy

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// mustAny wraps a message in an Any. Marshalling a well-formed generated
// message cannot fail, so a failure is a programming error. The encoding
// is deterministic: an access log's JSON format is a map, and a map in
// random order would give the same listener a new hash on every encoding.
func mustAny(m proto.Message) *anypb.Any {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		panic(fmt.Sprintf("envoy: marshal %T into Any: %v", m, err))
	}
	return a
}

package envoy

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// mustAny wraps a message in an Any. Marshalling a well-formed generated
// message cannot fail, so a failure is a programming error.
func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(fmt.Sprintf("envoy: marshal %T into Any: %v", m, err))
	}
	return a
}

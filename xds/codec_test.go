package xds

import (
	"bytes"
	"testing"
	"unsafe"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestSharedCodecBytes: a response carrying a shared list is written as
// exactly the bytes of marshalling it; any other message goes to protobuf.
func TestSharedCodecBytes(t *testing.T) {
	ls := &lists{}
	anys := []*anypb.Any{
		{TypeUrl: "type.googleapis.com/a", Value: []byte("one")},
		{TypeUrl: "type.googleapis.com/a", Value: bytes.Repeat([]byte{7}, 300)},
	}
	ls.add(anys)
	codec := newSharedCodec(ls, &internTable{})
	assertMarshalsAsProto(t, codec, []*discoveryv3.DiscoveryResponse{
		{VersionInfo: "v1", Resources: anys, TypeUrl: "type.googleapis.com/a", Nonce: "12"},
		{VersionInfo: "v1", Resources: anys, TypeUrl: "t", Nonce: "1", Canary: true, ControlPlane: &corev3.ControlPlane{Identifier: "fairway"}},
		{VersionInfo: "v2", Resources: anys[:1], TypeUrl: "t", Nonce: "2"}, // not the shared list
	})
	if l := ls.find(anys); l == nil || len(l.bytes()) == 0 {
		t.Fatal("the shared list was not found")
	}
	ls.remove(anys)
	if ls.find(anys) != nil {
		t.Fatal("a removed list is still found")
	}
}

// TestSharedCodecDeltaBytes: the same for a delta response carrying a
// type's shared list.
func TestSharedCodecDeltaBytes(t *testing.T) {
	ls := &lists{}
	res := []*discoveryv3.Resource{
		{Name: "a", Version: "1", Resource: &anypb.Any{TypeUrl: "type.googleapis.com/a", Value: []byte("one")}},
		{Name: "b", Version: "2", Resource: &anypb.Any{TypeUrl: "type.googleapis.com/a", Value: bytes.Repeat([]byte{7}, 300)}},
	}
	ls.addDelta(res)
	codec := newSharedCodec(ls, &internTable{})
	assertMarshalsAsProto(t, codec, []*discoveryv3.DeltaDiscoveryResponse{
		{SystemVersionInfo: "v1", Resources: res, TypeUrl: "t", Nonce: "3"},
		{SystemVersionInfo: "v1", Resources: res, TypeUrl: "t", Nonce: "4", RemovedResources: []string{"x", "y"}},
		{SystemVersionInfo: "v2", Resources: res[:1], TypeUrl: "t", Nonce: "5"},
	})
}

// assertMarshalsAsProto holds the codec's bytes for each response equal to
// deterministic proto marshalling, whether or not it used a shared list.
func assertMarshalsAsProto[M proto.Message](t *testing.T, codec *sharedCodec, resps []M) {
	t.Helper()
	for _, resp := range resps {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := codec.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Materialize(), want) {
			t.Errorf("codec bytes differ for %v", resp)
		}
	}
}

// TestSharedCodecInternsRequestNames: a discovery request decodes to
// exactly what protobuf decodes, with the names the table holds as the
// table's very strings; a name that is not UTF-8 is refused, as protobuf
// refuses it.
func TestSharedCodecInternsRequestNames(t *testing.T) {
	names := &internTable{}
	held := "ns/web/80"
	names.add(held)
	codec := newSharedCodec(&lists{}, names)
	for _, req := range []proto.Message{
		&discoveryv3.DiscoveryRequest{VersionInfo: "v", Node: &corev3.Node{Id: "n", Cluster: "c"}, ResourceNames: []string{"ns/web/80", "other", "*"},
			TypeUrl: "t", ResponseNonce: "3", ErrorDetail: &status.Status{Code: 3, Message: "bad"}},
		&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "n"}, TypeUrl: "t", ResourceNamesSubscribe: []string{"a", "ns/web/80"},
			ResourceNamesUnsubscribe: []string{"ns/web/80", "b"}, InitialResourceVersions: map[string]string{"x": "1"}, ResponseNonce: "7"},
	} {
		b, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		got := req.ProtoReflect().New().Interface()
		if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, req) {
			t.Errorf("decoded %v, want %v", got, req)
		}
		var decoded []string
		switch r := got.(type) {
		case *discoveryv3.DiscoveryRequest:
			decoded = r.ResourceNames
		case *discoveryv3.DeltaDiscoveryRequest:
			decoded = append(r.ResourceNamesSubscribe, r.ResourceNamesUnsubscribe...)
		}
		for _, name := range decoded {
			if name == held && unsafe.StringData(name) != unsafe.StringData(held) {
				t.Errorf("%q was decoded into a copy, not the cache's string", name)
			}
		}
	}
	bad, _ := proto.Marshal(&discoveryv3.DiscoveryRequest{TypeUrl: "t"})
	bad = protowire.AppendBytes(protowire.AppendTag(bad, sotwNamesField, protowire.BytesType), []byte{0xff, 0xfe})
	if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(bad)}, &discoveryv3.DiscoveryRequest{}); err == nil {
		t.Error("a name that is not UTF-8 was accepted")
	}
}

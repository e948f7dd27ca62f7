package xds

import (
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestFullSendsBound: at most n large encodings are alive at once: one
// more waits until gRPC frees one (the transport wrote it), or until one
// was held past the hold (a reader that does not read); small sends never
// wait; the bytes are those of proto marshalling.
func TestFullSendsBound(t *testing.T) {
	f := newFullSends(2)
	f.hold = 400 * time.Millisecond
	large := &discoveryv3.DiscoveryResponse{VersionInfo: "1", Resources: []*anypb.Any{{TypeUrl: "t", Value: make([]byte, largeSendBytes)}}}
	small := &discoveryv3.DiscoveryResponse{VersionInfo: "1", Resources: []*anypb.Any{{TypeUrl: "t", Value: []byte("x")}}}
	want, _ := proto.Marshal(large)
	marshal := func(m proto.Message) mem.BufferSlice {
		bs, err := f.marshal(m, func() (mem.BufferSlice, error) {
			b, err := proto.Marshal(m)
			return mem.BufferSlice{mem.SliceBuffer(b)}, err
		})
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}
	first, second := marshal(large), marshal(large)
	if string(first.Materialize()) != string(want) {
		t.Fatal("a large send's bytes differ from proto marshalling")
	}
	start := time.Now()
	marshal(small).Free()
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a small send waited %v with every slot taken", d)
	}
	done := make(chan mem.BufferSlice)
	go func() { done <- marshal(large) }()
	select {
	case <-done:
		t.Fatal("a third large send was encoded with two alive and two slots")
	case <-time.After(100 * time.Millisecond):
	}
	first.Free() // the transport wrote the first
	select {
	case third := <-done:
		third.Free()
	case <-time.After(time.Second):
		t.Fatal("a freed encoding did not give its slot back")
	}
	// Two alive again (second, and a fourth): a fifth waits until the
	// second has held its slot for the hold, though it is not freed.
	fourth := marshal(large)
	start = time.Now()
	fifth := marshal(large)
	if d := time.Since(start); d > 2*f.hold {
		t.Errorf("a send waited %v for slots held past the hold of %v", d, f.hold)
	}
	second.Free() // after its slot was taken back: no second release
	fourth.Free()
	fifth.Free()
	if len(f.slots) != 0 {
		t.Errorf("%d slots still taken after every encoding was freed", len(f.slots))
	}
}

// TestSharedListSendsBound: a large shared list goes to at most n streams
// at once, each send's bytes those of proto marshalling; the next waits
// until the transport wrote one; a small shared list never waits.
func TestSharedListSendsBound(t *testing.T) {
	c := newSharedCodec(&lists{}, nil)
	c.full = newFullSends(1)
	large := []*anypb.Any{{TypeUrl: "t", Value: make([]byte, largeSendBytes)}}
	small := []*anypb.Any{{TypeUrl: "t", Value: []byte("x")}}
	c.lists.add(large)
	c.lists.add(small)
	resp := func(anys []*anypb.Any) *discoveryv3.DiscoveryResponse {
		return &discoveryv3.DiscoveryResponse{VersionInfo: "1", Resources: anys, TypeUrl: "t", Nonce: "n"}
	}
	marshal := func(anys []*anypb.Any) mem.BufferSlice {
		bs, err := c.Marshal(resp(anys))
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}
	first := marshal(large)
	want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(resp(large))
	if string(first.Materialize()) != string(want) {
		t.Fatal("a shared list's send differs from proto marshalling")
	}
	start := time.Now()
	marshal(small).Free()
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a small shared list waited %v with the slot taken", d)
	}
	done := make(chan mem.BufferSlice)
	go func() { done <- marshal(large) }()
	select {
	case <-done:
		t.Fatal("a second large shared send went out with one slot taken")
	case <-time.After(100 * time.Millisecond):
	}
	first.Free()
	select {
	case second := <-done:
		second.Free()
	case <-time.After(time.Second):
		t.Fatal("a written shared send did not give its slot back")
	}
	if len(c.full.slots) != 0 {
		t.Errorf("%d slots still taken after every send was freed", len(c.full.slots))
	}
}

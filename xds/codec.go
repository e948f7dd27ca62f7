package xds

import (
	"sync"
	"unsafe"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the default codec
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// sharedList is a type's full, sorted resource list of one version, which
// every wildcard (or name-everything) SotW response of that version
// carries. Its encoding as field 2 of a DiscoveryResponse is made once, at
// the first send, and every later send writes those very bytes.
type sharedList struct {
	anys    []*anypb.Any
	once    sync.Once
	encoded []byte
}

func (l *sharedList) bytes() []byte {
	l.once.Do(func() {
		size := 0
		for _, a := range l.anys {
			size += protowire.SizeTag(2) + protowire.SizeBytes(anySize(a))
		}
		b := make([]byte, 0, size)
		for _, a := range l.anys {
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(anySize(a)))
			b = protowire.AppendString(protowire.AppendTag(b, 1, protowire.BytesType), a.GetTypeUrl())
			b = protowire.AppendBytes(protowire.AppendTag(b, 2, protowire.BytesType), a.GetValue())
		}
		l.encoded = b
	})
	return l.encoded
}

// anySize is the size of an Any{type_url, value} encoding.
func anySize(a *anypb.Any) int {
	return protowire.SizeTag(1) + protowire.SizeBytes(len(a.GetTypeUrl())) + protowire.SizeTag(2) + protowire.SizeBytes(len(a.GetValue()))
}

// sharedDeltaList is the same for delta responses that send a type whole
// (a new stream's first fetch): Resource messages, field 2 of a
// DeltaDiscoveryResponse.
type sharedDeltaList struct {
	res     []*discoveryv3.Resource
	once    sync.Once
	encoded []byte
}

// Resource{version=1, resource=2: Any{type_url=1, value=2}, name=3}
func (l *sharedDeltaList) bytes() []byte {
	l.once.Do(func() {
		size := 0
		for _, r := range l.res {
			size += protowire.SizeTag(2) + protowire.SizeBytes(resourceSize(r))
		}
		b := make([]byte, 0, size)
		for _, r := range l.res {
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(resourceSize(r)))
			b = protowire.AppendString(protowire.AppendTag(b, 1, protowire.BytesType), r.GetVersion())
			a := r.GetResource()
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(anySize(a)))
			b = protowire.AppendString(protowire.AppendTag(b, 1, protowire.BytesType), a.GetTypeUrl())
			b = protowire.AppendBytes(protowire.AppendTag(b, 2, protowire.BytesType), a.GetValue())
			b = protowire.AppendString(protowire.AppendTag(b, 3, protowire.BytesType), r.GetName())
		}
		l.encoded = b
	})
	return l.encoded
}

func resourceSize(r *discoveryv3.Resource) int {
	return protowire.SizeTag(1) + protowire.SizeBytes(len(r.GetVersion())) +
		protowire.SizeTag(2) + protowire.SizeBytes(anySize(r.GetResource())) +
		protowire.SizeTag(3) + protowire.SizeBytes(len(r.GetName()))
}

// lists finds the shared list a response's resources are, by the address
// of the slice's first element: responses carry the cache's slice itself.
type lists struct {
	mu    sync.RWMutex
	m     map[**anypb.Any]*sharedList
	delta map[**discoveryv3.Resource]*sharedDeltaList
}

func (ls *lists) addDelta(res []*discoveryv3.Resource) {
	if len(res) == 0 {
		return
	}
	ls.mu.Lock()
	if ls.delta == nil {
		ls.delta = map[**discoveryv3.Resource]*sharedDeltaList{}
	}
	ls.delta[unsafe.SliceData(res)] = &sharedDeltaList{res: res}
	ls.mu.Unlock()
}

func (ls *lists) removeDelta(res []*discoveryv3.Resource) {
	if len(res) == 0 {
		return
	}
	ls.mu.Lock()
	delete(ls.delta, unsafe.SliceData(res))
	ls.mu.Unlock()
}

func (ls *lists) findDelta(res []*discoveryv3.Resource) *sharedDeltaList {
	if len(res) == 0 {
		return nil
	}
	ls.mu.RLock()
	l := ls.delta[unsafe.SliceData(res)]
	ls.mu.RUnlock()
	if l == nil || len(l.res) != len(res) {
		return nil
	}
	return l
}

func (ls *lists) add(anys []*anypb.Any) {
	if len(anys) == 0 {
		return
	}
	ls.mu.Lock()
	if ls.m == nil {
		ls.m = map[**anypb.Any]*sharedList{}
	}
	ls.m[unsafe.SliceData(anys)] = &sharedList{anys: anys}
	ls.mu.Unlock()
}

func (ls *lists) remove(anys []*anypb.Any) {
	if len(anys) == 0 {
		return
	}
	ls.mu.Lock()
	delete(ls.m, unsafe.SliceData(anys))
	ls.mu.Unlock()
}

func (ls *lists) find(anys []*anypb.Any) *sharedList {
	if len(anys) == 0 {
		return nil
	}
	ls.mu.RLock()
	l := ls.m[unsafe.SliceData(anys)]
	ls.mu.RUnlock()
	if l == nil || len(l.anys) != len(anys) {
		return nil
	}
	return l
}

// sharedCodec is the xDS server's codec: protobuf, except that a
// DiscoveryResponse carrying a shared list is written as its own few
// fields around the list's ready encoding, passed to gRPC without a copy.
// The bytes are exactly those of marshalling the message.
type sharedCodec struct {
	lists *lists
	names *internTable
	// full bounds the large encodings of other responses (nil: no bound).
	full  *fullSends
	proto encoding.CodecV2
}

func newSharedCodec(ls *lists, names *internTable) *sharedCodec {
	return &sharedCodec{lists: ls, names: names, proto: encoding.GetCodecV2("proto")}
}

// marshalOwn encodes a response that carries no shared list.
func (c *sharedCodec) marshalOwn(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return c.proto.Marshal(v)
	}
	return c.full.marshal(m, func() (mem.BufferSlice, error) { return c.proto.Marshal(v) })
}

func (c *sharedCodec) Name() string { return "proto" }

func (c *sharedCodec) Marshal(v any) (mem.BufferSlice, error) {
	if d, ok := v.(*discoveryv3.DeltaDiscoveryResponse); ok {
		return c.marshalDelta(d)
	}
	resp, ok := v.(*discoveryv3.DiscoveryResponse)
	if !ok {
		return c.marshalOwn(v)
	}
	list := c.lists.find(resp.GetResources())
	if list == nil {
		return c.marshalOwn(v)
	}
	head, err := proto.Marshal(&discoveryv3.DiscoveryResponse{VersionInfo: resp.GetVersionInfo()})
	if err != nil {
		return nil, err
	}
	tail, err := proto.MarshalOptions{Deterministic: true}.Marshal(&discoveryv3.DiscoveryResponse{
		Canary: resp.GetCanary(), TypeUrl: resp.GetTypeUrl(), Nonce: resp.GetNonce(), ControlPlane: resp.GetControlPlane(),
	})
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(head), c.full.shared(list.bytes()), mem.SliceBuffer(tail)}, nil
}

// marshalDelta is Marshal for delta responses: system_version_info=1, the
// shared resources=2, then the rest in field order.
func (c *sharedCodec) marshalDelta(d *discoveryv3.DeltaDiscoveryResponse) (mem.BufferSlice, error) {
	list := c.lists.findDelta(d.GetResources())
	if list == nil {
		return c.marshalOwn(d)
	}
	head, err := proto.Marshal(&discoveryv3.DeltaDiscoveryResponse{SystemVersionInfo: d.GetSystemVersionInfo()})
	if err != nil {
		return nil, err
	}
	tail, err := proto.MarshalOptions{Deterministic: true}.Marshal(&discoveryv3.DeltaDiscoveryResponse{
		TypeUrl: d.GetTypeUrl(), Nonce: d.GetNonce(), RemovedResources: d.GetRemovedResources(), ControlPlane: d.GetControlPlane(),
		RemovedResourceNames: d.GetRemovedResourceNames(), ResourceErrors: d.GetResourceErrors(),
	})
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(head), c.full.shared(list.bytes()), mem.SliceBuffer(tail)}, nil
}

// Unmarshal decodes discovery requests with their resource names interned
// (see intern.go), anything else as protobuf.
func (c *sharedCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if ok, err := c.names.unmarshalRequest(data, v); ok {
		return err
	}
	return c.proto.Unmarshal(data, v)
}

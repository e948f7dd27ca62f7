package xds

import (
	"errors"
	"sync"
	"unicode/utf8"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// A SotW Envoy lists every endpoint assignment it watches in every
// request, ACKs included: ten thousand names, 0.3 MB of strings decoded
// and dropped per request, on every stream. The server's codec decodes a
// request's resource names into the cache's own strings instead, found
// without an allocation; only a name the cache does not have is copied.

// internTable is every resource name the cache holds, in any view or
// type, with the string the cache holds it by. It has a lock of its own:
// the codec reads it on the transport's goroutines.
type internTable struct {
	mu    sync.RWMutex
	names map[string]interned
}

type interned struct {
	name string
	refs int32
}

func (t *internTable) add(name string) {
	t.mu.Lock()
	if t.names == nil {
		t.names = map[string]interned{}
	}
	in := t.names[name]
	if in.refs == 0 {
		in.name = name
	}
	in.refs++
	t.names[name] = in
	t.mu.Unlock()
}

func (t *internTable) remove(name string) {
	t.mu.Lock()
	in := t.names[name]
	if in.refs--; in.refs <= 0 {
		delete(t.names, name)
	} else {
		t.names[name] = in
	}
	t.mu.Unlock()
}

// strings decodes the repeated string field num of a message into the
// table's strings, and returns the rest of the message.
func (t *internTable) strings(b []byte, nums ...protowire.Number) (map[protowire.Number][]string, []byte, error) {
	found, restLen, err := countFields(b, nums)
	if err != nil {
		return nil, nil, err
	}
	rest := make([]byte, 0, restLen)
	t.mu.RLock()
	defer t.mu.RUnlock()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, nil, protowire.ParseError(m)
		}
		if typ == protowire.BytesType && isOneOf(num, nums) {
			v, _ := protowire.ConsumeBytes(b[n:])
			s, err := t.lookup(v)
			if err != nil {
				return nil, nil, err
			}
			found[num] = append(found[num], s)
		} else {
			rest = append(rest, b[:n+m]...)
		}
		b = b[n+m:]
	}
	return found, rest, nil
}

// countFields makes room for the strings of the fields nums, each list
// its exact size (ten thousand names are not appended one by one), and
// counts the bytes of the other fields.
func countFields(b []byte, nums []protowire.Number) (map[protowire.Number][]string, int, error) {
	counts := map[protowire.Number]int{}
	restLen := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, 0, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, 0, protowire.ParseError(m)
		}
		if typ == protowire.BytesType && isOneOf(num, nums) {
			counts[num]++
		} else {
			restLen += n + m
		}
		b = b[n+m:]
	}
	found := make(map[protowire.Number][]string, len(counts))
	for num, n := range counts {
		found[num] = nameList(n)
	}
	return found, restLen, nil
}

// nameLists are lists of request names that Nodes handed back once it
// swapped them for a shared set's token (see namesets.go): a SotW Envoy's
// every ACK lists its ten thousand names again, and the list is reused
// rather than left for the collector.
var nameLists sync.Pool

// nameList is an empty list with room for n names.
func nameList(n int) []string {
	if p, ok := nameLists.Get().(*[]string); ok {
		if cap(*p) >= n {
			return (*p)[:0]
		}
		nameLists.Put(p)
	}
	return make([]string, 0, n)
}

// recycleNames hands back a list no one reads any more.
func recycleNames(names []string) {
	if cap(names) < minSharedNames {
		return
	}
	clear(names[:cap(names)]) // hold no strings
	names = names[:0]
	nameLists.Put(&names)
}

func isOneOf(num protowire.Number, nums []protowire.Number) bool {
	for _, x := range nums {
		if x == num {
			return true
		}
	}
	return false
}

var errNameUTF8 = errors.New("a resource name is not valid UTF-8")

// lookup is the table's string equal to b (the map lookup converts
// without allocating), or a copy of b. The caller holds the read lock.
func (t *internTable) lookup(b []byte) (string, error) {
	if in, ok := t.names[string(b)]; ok {
		return in.name, nil
	}
	if !utf8.Valid(b) {
		return "", errNameUTF8
	}
	return string(b), nil
}

// DiscoveryRequest.resource_names, DeltaDiscoveryRequest's
// resource_names_subscribe and resource_names_unsubscribe.
const (
	sotwNamesField        = 3
	deltaSubscribeField   = 3
	deltaUnsubscribeField = 4
)

// unmarshalRequest decodes a discovery request with its names interned;
// false when v is no discovery request.
func (t *internTable) unmarshalRequest(data mem.BufferSlice, v any) (bool, error) {
	switch req := v.(type) {
	case *discoveryv3.DiscoveryRequest:
		return true, t.unmarshal(data, req, func(f map[protowire.Number][]string) {
			req.ResourceNames = f[sotwNamesField]
		}, sotwNamesField)
	case *discoveryv3.DeltaDiscoveryRequest:
		return true, t.unmarshal(data, req, func(f map[protowire.Number][]string) {
			req.ResourceNamesSubscribe, req.ResourceNamesUnsubscribe = f[deltaSubscribeField], f[deltaUnsubscribeField]
		}, deltaSubscribeField, deltaUnsubscribeField)
	}
	return false, nil
}

func (t *internTable) unmarshal(data mem.BufferSlice, m proto.Message, set func(map[protowire.Number][]string), nums ...protowire.Number) error {
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	found, rest, err := t.strings(buf.ReadOnlyData(), nums...)
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(rest, m); err != nil {
		return err
	}
	set(found)
	return nil
}

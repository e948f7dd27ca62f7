package translator

import (
	"maps"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// routeTable is one encoded route configuration and where each virtual
// host sits in it. A table of ten thousand hosts is megabytes; rebuilding
// it after one host changed copies the unchanged runs from the previous
// encoding as whole ranges instead of gathering every host again.
type routeTable struct {
	name  string
	parts []*Resource // the encoded virtual hosts, in order
	ends  []int       // where each part's field ends in res.Bytes
	res   *Resource
	// tail replaces the shared encoding after the virtual hosts: a chain
	// that checks client certificates sets headers for its host
	// (clientcert.go); nil for the shared one.
	tail []byte
}

// compose encodes the table of parts (sorted by host), reusing the previous
// encoding for parts that are the same Resources as before. The bytes are
// those of encoding the whole RouteConfiguration message.
func (t *routeTable) compose(parts []*Resource) *Resource {
	if t.res != nil && slices.Equal(parts, t.parts) {
		return t.res // the same virtual hosts: the same bytes, not copied again
	}
	head, tail := routeConfigParts(t.name)
	if t.tail != nil {
		tail = t.tail
	}
	size := len(head) + len(tail)
	for _, vh := range parts {
		size += protowire.SizeTag(2) + protowire.SizeBytes(len(vh.Bytes))
	}
	b := make([]byte, 0, size)
	b = append(b, head...)
	ends := make([]int, len(parts))
	var prev map[*Resource]int // nil for a new table: no previous encoding to reuse
	if t.res != nil && len(t.parts) > 0 {
		prev = make(map[*Resource]int, len(t.parts))
		for i, p := range t.parts {
			prev[p] = i
		}
	}
	for i := 0; i < len(parts); {
		j, ok := prev[parts[i]]
		if !ok {
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendBytes(b, parts[i].Bytes)
			ends[i] = len(b)
			i++
			continue
		}
		// A run of parts that follow each other in the previous table too:
		// one copy.
		n := 1
		for i+n < len(parts) && j+n < len(t.parts) && parts[i+n] == t.parts[j+n] {
			n++
		}
		start := len(head)
		if j > 0 {
			start = t.ends[j-1]
		}
		offset := len(b) - start
		b = append(b, t.res.Bytes[start:t.ends[j+n-1]]...)
		for k := range n {
			ends[i+k] = t.ends[j+k] + offset
		}
		i += n
	}
	r := newResource(t.name, append(b, tail...), nil)
	r.Parts = parts
	t.parts, t.ends, t.res = parts, ends, r
	return r
}

// hostTable returns the host states in host order ("" first), keeping the
// order across calls until a host is added or removed.
func (e *Engine) hostTable() []*hostState {
	if e.hostOrder == nil {
		e.hostOrder = slices.Sorted(maps.Keys(e.hosts))
		e.hostPos = make(map[string]int, len(e.hostOrder))
		e.hostStates = make([]*hostState, len(e.hostOrder))
		for i, h := range e.hostOrder {
			e.hostPos[h] = i
			e.hostStates[i] = e.hosts[h]
		}
	}
	return e.hostStates
}

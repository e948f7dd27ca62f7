package xds

import (
	"time"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// When a thousand Envoys reconnect at once (fairway restarted, a network
// partition healed), each fetches everything. A response that carries a
// type's shared list costs no memory of its own (see codec.go), but one
// that does not (a stream that names all but a few resources, a proxyless
// client, a delta stream resuming far behind) is encoded for that stream
// alone, and the transport holds the encoding until the stream's client
// has read it: a thousand of them at a few MB each is gigabytes at once.
//
// fullSends bounds how many such large encodings are alive at once. A
// send of at least largeSendBytes waits for a slot before it is encoded
// and gives the slot back when gRPC frees the encoding, that is once the
// transport has written it (or the stream ended). Smaller sends, the
// steady state of single changes, never wait. A slot is held by a slow
// reader only up to fullSendWait: after that a send goes ahead without
// one, so readers that do not read cannot stall every other stream's
// fetch; the bound is then exceeded by those sends alone.
type fullSends struct {
	slots chan struct{}
	wait  time.Duration
}

// Defaults of the bound (see README "Sizing").
const (
	// DefaultMaxFullSends is how many large encodings may be alive at
	// once: enough to keep both cores encoding while the transport
	// writes the ones before, a few tens of MB at the large scale.
	DefaultMaxFullSends = 8
	// largeSendBytes is the size from which a send counts as large: a
	// type sent whole at the large scale is MBs, a single change KBs.
	largeSendBytes = 256 << 10
	// fullSendWait bounds how long a send waits for a slot.
	fullSendWait = 2 * time.Second
)

func newFullSends(n int) *fullSends {
	if n <= 0 {
		return nil
	}
	return &fullSends{slots: make(chan struct{}, n), wait: fullSendWait}
}

// marshal encodes a large message within a slot, a small one as proto
// does; nil bounds nothing.
func (f *fullSends) marshal(m proto.Message, small func() (mem.BufferSlice, error)) (mem.BufferSlice, error) {
	size := proto.Size(m)
	if f == nil || size < largeSendBytes {
		return small()
	}
	release := f.acquire()
	b, err := proto.MarshalOptions{}.MarshalAppend(make([]byte, 0, size), m)
	if err != nil {
		release()
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(&b, slotRelease(release))}, nil
}

// acquire takes a slot, or none after the wait; it returns what gives it
// back.
func (f *fullSends) acquire() func() {
	select {
	case f.slots <- struct{}{}:
		return f.release
	default:
	}
	t := time.NewTimer(f.wait)
	defer t.Stop()
	select {
	case f.slots <- struct{}{}:
		return f.release
	case <-t.C:
		return func() {}
	}
}

func (f *fullSends) release() { <-f.slots }

// slotRelease is the "pool" gRPC returns an encoding to when it has freed
// it: it gives the slot back, and the bytes to the garbage collector.
type slotRelease func()

func (r slotRelease) Get(int) *[]byte { panic("fullSends: a slot is no pool to take from") }

func (r slotRelease) Put(*[]byte) { r() }

package xds

import (
	"sync"
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
// steady state of single changes, never wait. A send waits in its own
// stream's goroutine, which holds no lock the cache or another stream
// needs. A slow reader holds its slot only for fullSendHold: then the slot
// is given back though the encoding is still alive, so readers that do
// not read cannot stall every other stream's fetch; the bound is then
// exceeded by one encoding per such reader (gRPC lets a stream have one
// message queued), not by the number of streams waiting.
type fullSends struct {
	slots chan struct{}
	hold  time.Duration
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
	// fullSendHold bounds how long a send holds its slot: a large type
	// takes tens of ms to write to a reader that reads.
	fullSendHold = 2 * time.Second
)

func newFullSends(n int) *fullSends {
	if n <= 0 {
		return nil
	}
	return &fullSends{slots: make(chan struct{}, n), hold: fullSendHold}
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

// shared is a type's shared list as one send's buffer. The bytes cost
// fairway nothing per stream, but each client assembles the whole message
// before it reads any of it, and HTTP/2 interleaves the streams fairly:
// a listener of many MB sent to a thousand streams at once has every
// client holding most of it until all are nearly done, and has each Envoy
// wait for the last byte of the last stream. Within the slots, a few
// streams at a time get the whole of it, one after the other; the time
// to the last stream is the same, the time to the others shorter. Small
// lists, the steady state, never wait.
func (f *fullSends) shared(b []byte) mem.Buffer {
	if f == nil || len(b) < largeSendBytes {
		return mem.SliceBuffer(b)
	}
	release := f.acquire()
	return mem.NewBuffer(&b, slotRelease(release))
}

// acquire waits for a slot; it returns what gives it back (once, at the
// latest after the hold).
func (f *fullSends) acquire() func() {
	f.slots <- struct{}{}
	var once sync.Once
	release := func() { once.Do(func() { <-f.slots }) }
	t := time.AfterFunc(f.hold, release)
	return func() {
		t.Stop()
		release()
	}
}

// slotRelease is the "pool" gRPC returns an encoding to when it has freed
// it: it gives the slot back, and the bytes to the garbage collector.
type slotRelease func()

func (r slotRelease) Get(int) *[]byte { panic("fullSends: a slot is no pool to take from") }

func (r slotRelease) Put(*[]byte) { r() }

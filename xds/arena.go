package xds

import (
	"unsafe"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
)

// slab hands out pointers to zeroed values allocated in chunks, so that building N
// resources costs a few allocations per type instead of several per resource. A value
// is never moved once handed out; a chunk is freed when nothing points into it any more.
type slab[T any] struct {
	free    []T
	pending int // values reserved and not allocated yet
}

// Chunk sizes. A reservation is allocated chunkBytes at a time, not at once: the
// allocator zeroes a chunk and the build fills it while it is still in the CPU cache,
// where one large allocation would be zeroed long before most of it is filled.
// Without a reservation, e.g. for one update, a slab allocates smallChunk values.
const (
	chunkBytes = 64 << 10
	smallChunk = 8
)

func (s *slab[T]) next() *T {
	if len(s.free) == 0 {
		s.refill(1)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// reserve prepares the slab for n values to come.
func (s *slab[T]) reserve(n int) {
	s.pending = max(0, n-len(s.free))
}

// take returns a slice of n zero values carved from a chunk, with no spare capacity.
func (s *slab[T]) take(n int) []T {
	if len(s.free) < n {
		s.refill(n)
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	return out
}

// refill replaces the free values with a new chunk of at least n values.
func (s *slab[T]) refill(n int) {
	var zero T
	perChunk := max(1, chunkBytes/int(unsafe.Sizeof(zero)))
	size := max(min(s.pending, perChunk), n, smallChunk)
	s.free = make([]T, size)
	s.pending = max(0, s.pending-size)
}

// byteSlab is a slab of bytes for encoded messages.
type byteSlab struct {
	buf     []byte
	pending int
}

// grow makes room for n more bytes and returns the buffer to append to.
func (s *byteSlab) grow(n int) []byte {
	if cap(s.buf)-len(s.buf) < n {
		size := max(min(s.pending, chunkBytes), n, 256)
		s.buf = make([]byte, 0, size)
		s.pending = max(0, s.pending-size)
	}
	return s.buf
}

// commit records that the buffer now ends at b and returns the bytes appended since
// start, with no spare capacity.
func (s *byteSlab) commit(b []byte, start int) []byte {
	s.buf = b
	return b[start:len(b):len(b)]
}

func (s *byteSlab) reserve(n int) {
	s.pending = max(0, n-(cap(s.buf)-len(s.buf)))
}

// arena allocates the resources of a gateway in bulk.
type arena struct {
	clusters    slab[clusterv3.Cluster]
	assignments slab[assignmentBox]
	endpoints   slab[endpointBox]
	lbEndpoints slab[*endpointv3.LbEndpoint]
	chains      slab[chainBox]
	bytes       byteSlab
}

// reserve sizes the arena for translating every resource of m.
func (a *arena) reserve(m *Model) {
	endpoints := 0
	for i := range m.Clusters {
		endpoints += len(m.Clusters[i].Endpoints)
	}
	n := len(m.Clusters)
	a.clusters.reserve(n)
	a.assignments.reserve(n)
	a.endpoints.reserve(endpoints)
	a.lbEndpoints.reserve(endpoints)
	a.chains.reserve(n + len(m.Listeners))
	a.bytes.reserve((n + len(m.Listeners)) * 2 * (len(peerStatPrefix) + 64))
}

// reserveChains sizes the arena for the filter chains of peer server names.
func (a *arena) reserveChains(peers []string) {
	n := 0
	for _, name := range peers {
		n += len(peerStatPrefix) + 2*len(name) + 8
	}
	a.chains.reserve(len(peers))
	a.bytes.reserve(n)
}

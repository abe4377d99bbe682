package xds

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/peeringgw/peeringgw/peering"
)

// slab hands out pointers to zeroed values allocated in chunks, so that building N
// resources costs a handful of allocations instead of several per resource. A value is
// never moved once handed out; a chunk is freed when nothing points into it any more.
type slab[T any] struct {
	free  []T
	chunk int
}

// smallChunk is the chunk size when no reservation was made, e.g. for one update.
const smallChunk = 8

func (s *slab[T]) next() *T {
	if len(s.free) == 0 {
		s.free = make([]T, max(s.chunk, smallChunk))
		s.chunk = 0
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// reserve makes the next n calls to next share one allocation.
func (s *slab[T]) reserve(n int) {
	if len(s.free) < n {
		s.free = nil
		s.chunk = n
	}
}

// take returns a slice of n zero values carved from a chunk, with no spare capacity.
func (s *slab[T]) take(n int) []T {
	if len(s.free) < n {
		s.free = make([]T, max(s.chunk, n, smallChunk))
		s.chunk = 0
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	return out
}

// byteSlab is a slab of bytes for encoded messages.
type byteSlab struct {
	buf   []byte
	chunk int
}

// grow makes room for n more bytes and returns the buffer to append to.
func (s *byteSlab) grow(n int) []byte {
	if cap(s.buf)-len(s.buf) < n {
		s.buf = make([]byte, 0, max(s.chunk, n, 256))
		s.chunk = 0
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
	if cap(s.buf)-len(s.buf) < n {
		s.buf = nil
		s.chunk = n
	}
}

// arena allocates the resources of a gateway in bulk.
type arena struct {
	clusters    slab[clusterv3.Cluster]
	assignments slab[assignmentBox]
	endpoints   slab[endpointBox]
	lbEndpoints slab[*endpointv3.LbEndpoint]
	chains      slab[chainBox]
	bytes       byteSlab
	candidates  slab[candidate]
	entries     slab[peerEntry]
}

// reserve sizes the arena for building the resources of list at once.
func (a *arena) reserve(list []peering.Peering) {
	n, endpoints := len(list), 0
	for i := range list {
		endpoints += len(list[i].Addresses())
	}
	a.clusters.reserve(n)
	a.assignments.reserve(n)
	a.endpoints.reserve(endpoints)
	a.lbEndpoints.reserve(endpoints)
	a.chains.reserve(n)
	a.bytes.reserve(n * 2 * (len(peerStatPrefix) + 64))
	a.candidates.reserve(n)
	a.entries.reserve(n)
}

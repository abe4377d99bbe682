package xds

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/cespare/xxhash/v2"
)

// Generation names the rules that turn a State into resources. It is hashed into every
// resource version, so that a library whose output changes for the same input gives new
// versions (the package's tests pin the output of every known case to it).
const Generation = "peeringgw-xds-4"

// Resource kinds, as hashed into versions.
const (
	kindCluster byte = iota + 1
	kindEndpoints
	kindListener
)

// hasher computes content hashes of Model entries: a resource's version is the hash of
// the entry it is translated from, so it is computed when the resource is built, without
// serializing it, and equal content gives equal versions in every process.
type hasher struct{ d xxhash.Digest }

func (h *hasher) start(kind byte) {
	h.d.Reset()
	h.d.WriteString(Generation)
	h.d.Write([]byte{kind})
}

func (h *hasher) str(s string) {
	h.num(uint64(len(s)))
	h.d.WriteString(s)
}

func (h *hasher) num(n uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	h.d.Write(b[:])
}

func (h *hasher) flag(v bool) {
	if v {
		h.d.Write([]byte{1})
	} else {
		h.d.Write([]byte{0})
	}
}

// cluster returns the hash of c's Cluster resource. An EDS cluster does not depend on
// its endpoints.
func (h *hasher) cluster(c *Cluster) uint64 {
	h.start(kindCluster)
	h.str(c.Name)
	h.flag(c.DNS)
	h.num(uint64(c.ConnectTimeout))
	h.flag(c.DualStack)
	h.flag(c.FetchTimeoutSet)
	h.num(uint64(c.FetchTimeout))
	h.limits(c.Limits)
	if c.DNS {
		h.endpoints(c)
	}
	return h.d.Sum64()
}

func (h *hasher) limits(l *Limits) {
	h.flag(l != nil)
	if l == nil {
		return
	}
	for _, t := range [...]Limit{l.MaxConnections, l.MaxPendingRequests, l.MaxConcurrentRequests} {
		h.flag(t.Set)
		h.num(uint64(t.Value))
	}
}

// assignment returns the hash of c's ClusterLoadAssignment.
func (h *hasher) assignment(c *Cluster) uint64 {
	h.start(kindEndpoints)
	h.str(c.Name)
	h.endpoints(c)
	return h.d.Sum64()
}

func (h *hasher) endpoints(c *Cluster) {
	h.num(uint64(len(c.Endpoints)))
	for _, a := range c.Endpoints {
		h.str(a.Host)
		h.num(uint64(a.Port))
	}
}

// listener returns the hash of l's Listener resource.
func (h *hasher) listener(l *Listener) uint64 {
	h.start(kindListener)
	h.str(l.Name)
	h.str(l.Address)
	h.num(uint64(l.Port))
	h.str(l.Accept)
	h.str(l.AcceptStat)
	h.str(l.CatchAllStat)
	h.num(uint64(len(l.Peers)))
	for _, p := range l.Peers {
		h.str(p)
	}
	return h.d.Sum64()
}

// setVersion is the version of a set of resources, kept incrementally: the sum of one
// term per resource, each a hash of its kind, name and version, so that adding,
// replacing or removing one resource costs the same whatever the size of the set, and
// the result does not depend on the order of updates.
type setVersion struct{ sum uint64 }

func setTerm(kind byte, name string, v uint64) uint64 {
	var d xxhash.Digest
	d.Reset()
	var b [9]byte
	b[0] = kind
	binary.LittleEndian.PutUint64(b[1:], v)
	d.Write(b[:])
	d.WriteString(name)
	return d.Sum64()
}

func (s *setVersion) add(kind byte, name string, v uint64)    { s.sum += setTerm(kind, name, v) }
func (s *setVersion) remove(kind byte, name string, v uint64) { s.sum -= setTerm(kind, name, v) }

// String returns the version as 16 hexadecimal digits.
func (s setVersion) String() string { return versionString(s.sum) }

// versionString writes a version as 16 hexadecimal digits: a set's, a resource's in
// xDS responses, and a type cache's state-of-the-world version.
func versionString(v uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return hex.EncodeToString(b[:])
}

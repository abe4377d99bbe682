package xds

import (
	"cmp"
	"iter"
	"slices"
	"strings"

	"github.com/peeringgw/peeringgw/peering"
)

// peeringKey identifies a peering: its partition and name.
type peeringKey struct{ partition, name string }

func keyOf(p *peering.Peering) peeringKey {
	return peeringKey{partition: peering.PartitionOf(p.Partition), name: p.Name}
}

func (k peeringKey) String() string { return k.partition + "/" + k.name }

func compareKeys(x, y peeringKey) int {
	return cmp.Or(strings.Compare(x.partition, y.partition), strings.Compare(x.name, y.name))
}

// candidate is one peering's bid for a peer server name: only a dialing peering with a
// valid server name and a usable address is ok. It keeps the inputs it was derived
// from, so that an unchanged peering is not derived again.
type candidate struct {
	key    peeringKey
	in     peerInput
	target peering.Target
	ok     bool
	order  int // position in the peering list, for Consul's tie-break
	diags  []error
	// epoch is the resolver update that last took this candidate, so that one update
	// never takes a candidate twice.
	epoch uint64
}

// peerInput is what a target depends on.
type peerInput struct {
	partition, name, serverName string
	modifyIndex                 uint64
	addrs, manual               []string
}

func inputOf(p *peering.Peering) peerInput {
	return peerInput{partition: p.Partition, name: p.Name, serverName: p.PeerServerName,
		modifyIndex: p.ModifyIndex, addrs: p.PeerServerAddresses, manual: p.ManualServerAddresses}
}

func (in *peerInput) equal(o *peerInput) bool {
	return in.partition == o.partition && in.name == o.name && in.serverName == o.serverName &&
		in.modifyIndex == o.modifyIndex && sameStrings(in.addrs, o.addrs) && sameStrings(in.manual, o.manual)
}

// sameStrings compares two string slices, at once when they are the same slice.
func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0] || slices.Equal(a, b)
}

// newCandidate derives the candidate of p, the order-th peering of the list. A peering
// named like the local servers is not usable: it would shadow the accept side.
// It is allocated from s.
func newCandidate(s *slab[candidate], p *peering.Peering, order int, acceptName string) *candidate {
	t, errs, ok := peering.TargetOf(p)
	key := keyOf(p)
	if ok && t.ServerName == acceptName {
		errs = append(errs, &peering.InputError{Peering: key.String(), Field: "PeerServerName", Value: t.ServerName, Err: ErrPeerIsLocal})
		ok = false
	}
	c := s.next()
	*c = candidate{key: key, in: inputOf(p), target: t, ok: ok, order: order, diags: errs}
	return c
}

// rank orders the candidates of one name: the winner, Consul's choice, comes first: the
// greatest ModifyIndex, then the first in list order.
func rank(x, y *candidate) int {
	return peering.ComparePreference(&x.target, x.order, &y.target, y.order)
}

// byNameRank orders candidates by server name, then rank.
func byNameRank(x, y *candidate) int {
	return cmp.Or(strings.Compare(x.target.ServerName, y.target.ServerName), rank(x, y))
}

// sortCandidates sorts candidates by server name, each name's ranked best first.
//
// Names of one gateway's peers tend to share a long prefix ("server.dc"), so comparing
// them is slow. It sorts instead on the eight bytes after the prefix all the names share,
// read as one integer, and compares whole names only when those bytes tie.
func sortCandidates(cs []*candidate) {
	if len(cs) < 2 {
		return
	}
	skip := len(cs[0].target.ServerName)
	for _, c := range cs[1:] {
		skip = commonPrefixLen(cs[0].target.ServerName[:skip], c.target.ServerName)
	}
	keyed := make([]keyedCandidate, len(cs))
	for i, c := range cs {
		keyed[i] = keyedCandidate{key: nameKey(c.target.ServerName[skip:]), c: c}
	}
	slices.SortFunc(keyed, func(x, y keyedCandidate) int {
		if x.key != y.key {
			return cmp.Compare(x.key, y.key)
		}
		return cmp.Or(strings.Compare(x.c.target.ServerName[skip:], y.c.target.ServerName[skip:]), rank(x.c, y.c))
	})
	for i := range keyed {
		cs[i] = keyed[i].c
	}
}

type keyedCandidate struct {
	key uint64
	c   *candidate
}

// nameKey is the first eight bytes of s as a big-endian integer, zero-padded: names
// whose keys differ are in the order of their keys.
func nameKey(s string) uint64 {
	var k uint64
	for i := range 8 {
		k <<= 8
		if i < len(s) {
			k |= uint64(s[i])
		}
	}
	return k
}

// commonPrefixLen returns the length of the longest common prefix of a and b.
func commonPrefixLen(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// groups yields the runs of sorted candidates that share a server name.
func groups(sorted []*candidate) iter.Seq[[]*candidate] {
	return func(yield func([]*candidate) bool) {
		for i := 0; i < len(sorted); {
			k := i + 1
			for k < len(sorted) && sorted[k].target.ServerName == sorted[i].target.ServerName {
				k++
			}
			if !yield(sorted[i:k:k]) {
				return
			}
			i = k
		}
	}
}

// groupOf returns the bounds of the run of sorted candidates named name.
func groupOf(sorted []*candidate, name string) (lo, hi int) {
	lo, _ = slices.BinarySearchFunc(sorted, name, func(c *candidate, n string) int { return strings.Compare(c.target.ServerName, n) })
	hi = lo
	for hi < len(sorted) && sorted[hi].target.ServerName == name {
		hi++
	}
	return lo, hi
}

// peerDiagnostics returns the diagnostics of the candidates, sorted by peering key.
func peerDiagnostics(cands []*candidate) []Diagnostic {
	var with []*candidate
	for _, c := range cands {
		if len(c.diags) > 0 {
			with = append(with, c)
		}
	}
	slices.SortStableFunc(with, func(x, y *candidate) int { return compareKeys(x.key, y.key) })
	var out []Diagnostic
	for _, c := range with {
		for _, err := range c.diags {
			out = append(out, Diagnostic{Part: PartPeerings, Input: "Peerings", Err: err})
		}
	}
	return out
}

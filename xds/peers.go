package xds

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
)

// peerSet is the dial side of a gateway: every dialing peering (a candidate) and, per
// peer server name, the candidates that bid for it and the resources of the winner.
type peerSet struct {
	cands   []*candidate // every peering, in no particular order
	entries []*peerEntry // sorted by name; each has at least one usable candidate
	// byKey indexes cands; it is built by the first single-peering update after a Set,
	// so a full build never pays for it.
	byKey map[peeringKey]*candidate
	order int // list position given to the next new peering
}

// peeringKey identifies a peering; seq tells apart duplicates within one list.
type peeringKey struct {
	partition, name string
	seq             int
}

func keyOf(p *peering.Peering) peeringKey {
	part := p.Partition
	if part == "" {
		part = "default"
	}
	return peeringKey{partition: part, name: p.Name}
}

func (k peeringKey) String() string {
	if k.seq > 0 {
		return fmt.Sprintf("%s/%s#%d", k.partition, k.name, k.seq)
	}
	return k.partition + "/" + k.name
}

func compareKeys(x, y peeringKey) int {
	return cmp.Or(strings.Compare(x.partition, y.partition), strings.Compare(x.name, y.name), cmp.Compare(x.seq, y.seq))
}

// candidate is one peering's bid for a server name; only a dialing peering with a valid
// server name and a usable address is ok.
type candidate struct {
	key    peeringKey
	target peering.Target
	ok     bool
	order  int // position in the peering list, for Consul's tie-break
	pos    int // index in peerSet.cands
	diags  []error
}

// rank orders the candidates of one name: the winner, Consul's choice, comes first: the
// greatest ModifyIndex, then the first in list order.
func rank(x, y *candidate) int {
	return cmp.Or(cmp.Compare(y.target.ModifyIndex, x.target.ModifyIndex), cmp.Compare(x.order, y.order))
}

// peerEntry holds the candidates and the resources of one peer server name.
type peerEntry struct {
	name  string
	cands []*candidate // ranked; never modified in place, only replaced
	// The winner's resources. cluster is nil until the entry is first built.
	hostnames bool
	addrs     []peering.Address
	cluster   *clusterv3.Cluster
	cla       *endpointv3.ClusterLoadAssignment // nil for hostname targets
	chain     *listenerv3.FilterChain
}

func (b *Builder) newCandidate(a *arena, p *peering.Peering, key peeringKey, order int) *candidate {
	t, errs, ok := peering.TargetOf(p)
	if ok && t.ServerName == b.gw.acceptName {
		errs = append(errs, &peering.InputError{Peering: key.String(), Field: "PeerServerName", Value: t.ServerName, Err: ErrPeerIsLocal})
		ok = false
	}
	c := a.candidates.next()
	*c = candidate{key: key, target: t, ok: ok, order: order, diags: errs}
	return c
}

// setPeerings replaces the whole peering list and reports whether the set of peer server
// names changed. It sorts the usable candidates by name and walks them beside the
// current entries, so it needs no map.
func (b *Builder) setPeerings(list []peering.Peering, rebuildClusters bool, ch *Changes) bool {
	ps := &b.peers
	if len(ps.entries) == 0 {
		if workers := buildWorkers(len(list)); workers > 1 {
			b.setPeeringsParallel(list, workers, ch)
			return len(ps.entries) > 0
		}
	}
	cands, usable := b.collect(list)
	sortCandidates(usable)
	ps.cands, ps.byKey, ps.order = cands, nil, max(ps.order, len(list))

	old := ps.entries
	entries := make([]*peerEntry, 0, len(usable))
	changed := false
	j := 0
	for group := range groups(usable) {
		name := group[0].target.ServerName
		for j < len(old) && old[j].name < name {
			b.dropEntry(old[j], ch)
			changed = true
			j++
		}
		var e *peerEntry
		if j < len(old) && old[j].name == name {
			e = old[j]
			j++
		} else {
			e = b.arena.entries.next()
			e.name = name
			changed = true
		}
		e.cands = group
		b.refresh(&b.arena, e, rebuildClusters, ch)
		entries = append(entries, e)
	}
	for ; j < len(old); j++ {
		b.dropEntry(old[j], ch)
		changed = true
	}
	ps.entries = entries
	return changed
}

// collect makes the candidates of the peerings in list and returns them and the usable
// ones among them. Accepting peerings are candidates too, never usable: they keep their
// place in the list order should a later update make them dial.
func (b *Builder) collect(list []peering.Peering) (cands, usable []*candidate) {
	cands = make([]*candidate, 0, len(list))
	usable = make([]*candidate, 0, len(list))
	for i := range list {
		p := &list[i]
		c := b.newCandidate(&b.arena, p, keyOf(p), i)
		c.pos = len(cands)
		cands = append(cands, c)
		if c.ok {
			usable = append(usable, c)
		}
	}
	return cands, usable
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

// refresh brings an entry's resources in line with its winning candidate.
func (b *Builder) refresh(a *arena, e *peerEntry, rebuildCluster bool, ch *Changes) {
	t := &e.cands[0].target
	isNew := e.cluster == nil
	if !isNew && e.hostnames == t.Hostnames && slices.Equal(e.addrs, t.Addresses) {
		if rebuildCluster {
			e.cluster = a.cluster(b.parts, e.name, t.Hostnames, t.Addresses)
			ch.addCluster(e.cluster)
		}
		return
	}
	// An EDS cluster does not depend on its addresses, so it is kept when it can be.
	if isNew || e.hostnames || t.Hostnames || rebuildCluster {
		e.cluster = a.cluster(b.parts, e.name, t.Hostnames, t.Addresses)
		ch.addCluster(e.cluster)
	}
	switch {
	case !t.Hostnames:
		e.cla = a.assignment(e.name, t.Addresses)
		ch.addEndpoints(e.cla)
	case e.cla != nil:
		ch.removeEndpoints(e.name)
		e.cla = nil
	}
	if isNew {
		e.chain = a.sniChain(e.name, peerStatPrefix, e.name)
	}
	e.hostnames, e.addrs = t.Hostnames, t.Addresses
}

// dropEntry records the removal of an entry's resources.
func (b *Builder) dropEntry(e *peerEntry, ch *Changes) {
	ch.removeCluster(e.name)
	if e.cla != nil {
		ch.removeEndpoints(e.name)
	}
}

// SetPeering adds or replaces one peering (identified by partition and name) and returns
// what changed. Its cost does not depend on the number of other peerings, unless a peer
// server name appears or disappears, which rebuilds the listeners.
func (b *Builder) SetPeering(p peering.Peering) Changes {
	var ch Changes
	if !b.gw.enabled {
		return ch
	}
	ps := &b.peers
	ps.index()
	key := keyOf(&p)
	old := ps.byKey[key]
	order := ps.order
	if old != nil {
		order = old.order
	} else {
		ps.order++
	}
	c := b.newCandidate(&b.arena, &p, key, order)
	ps.byKey[key] = c
	if old != nil {
		c.pos = old.pos
		ps.cands[c.pos] = c
	} else {
		c.pos = len(ps.cands)
		ps.cands = append(ps.cands, c)
	}
	var joined, left *peerEntry
	namesChanged := false
	if c.ok {
		joined, namesChanged = b.join(c)
	}
	if old != nil && old.ok {
		var removed bool
		left, removed = b.leave(old, &ch)
		namesChanged = namesChanged || removed
	}
	if joined != nil {
		b.refresh(&b.arena, joined, false, &ch)
	}
	if left != nil && left != joined {
		b.refresh(&b.arena, left, false, &ch)
	}
	if namesChanged {
		b.rebuildListeners(&ch)
	}
	return ch
}

// RemovePeering removes the peering with the given partition ("" means "default") and
// name, and returns what changed.
func (b *Builder) RemovePeering(partition, name string) Changes {
	var ch Changes
	b.peers.index()
	b.removeCandidate(keyOf(&peering.Peering{Peering: api.Peering{Partition: partition, Name: name}}), &ch)
	return ch
}

func (b *Builder) removeCandidate(key peeringKey, ch *Changes) {
	ps := &b.peers
	old := ps.byKey[key]
	if old == nil {
		return
	}
	delete(ps.byKey, key)
	last := ps.cands[len(ps.cands)-1]
	last.pos = old.pos
	ps.cands[old.pos] = last
	ps.cands = ps.cands[:len(ps.cands)-1]
	if !old.ok {
		return
	}
	left, removed := b.leave(old, ch)
	if left != nil {
		b.refresh(&b.arena, left, false, ch)
	}
	if removed {
		b.rebuildListeners(ch)
	}
}

// index builds byKey if a Set dropped it.
func (ps *peerSet) index() {
	if ps.byKey != nil {
		return
	}
	ps.byKey = make(map[peeringKey]*candidate, len(ps.cands))
	for _, c := range ps.cands {
		if ps.byKey[c.key] != nil {
			// A duplicate partition/name in one list: list positions are unique, so
			// this key is free.
			c.key.seq = c.order + 1
		}
		ps.byKey[c.key] = c
	}
}

// find returns the position of name in entries, and whether it is there.
func (ps *peerSet) find(name string) (int, bool) {
	return slices.BinarySearchFunc(ps.entries, name, func(e *peerEntry, n string) int { return strings.Compare(e.name, n) })
}

// join adds candidate c to the entry of its name, creating the entry if needed, and
// reports whether it did. The caller refreshes the entry.
func (b *Builder) join(c *candidate) (*peerEntry, bool) {
	ps := &b.peers
	i, found := ps.find(c.target.ServerName)
	if !found {
		e := b.arena.entries.next()
		e.name, e.cands = c.target.ServerName, []*candidate{c}
		ps.entries = slices.Insert(ps.entries, i, e)
		return e, true
	}
	e := ps.entries[i]
	cands := make([]*candidate, 0, len(e.cands)+1)
	cands = append(cands, e.cands...)
	at, _ := slices.BinarySearchFunc(cands, c, rank)
	e.cands = slices.Insert(cands, at, c)
	return e, false
}

// leave takes candidate c out of its entry. It returns the entry if it still has
// candidates (the caller refreshes it); otherwise it removes the entry, records the
// removal of its resources and reports true.
func (b *Builder) leave(c *candidate, ch *Changes) (*peerEntry, bool) {
	ps := &b.peers
	i, found := ps.find(c.target.ServerName)
	if !found {
		return nil, false
	}
	e := ps.entries[i]
	e.cands = slices.DeleteFunc(slices.Clone(e.cands), func(x *candidate) bool { return x == c })
	if len(e.cands) > 0 {
		return e, false
	}
	ps.entries = slices.Delete(ps.entries, i, i+1)
	b.dropEntry(e, ch)
	return nil, true
}

// withDiags returns the candidates that have diagnostics, sorted by key.
func (ps *peerSet) withDiags() []*candidate {
	var out []*candidate
	for _, c := range ps.cands {
		if len(c.diags) > 0 {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(x, y *candidate) int { return compareKeys(x.key, y.key) })
	return out
}

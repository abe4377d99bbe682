package xds

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
)

// Builder keeps one gateway's resources current as its State changes, rebuilding only
// what an update affects.
//
// [Builder.Set] takes a whole State; [Builder.SetPeering] and [Builder.RemovePeering]
// take single peering events. Each returns the [Changes] to push. Whatever the sequence
// of updates, [Builder.Resources] equals what [Build] returns for the resulting State.
//
// Resources a Builder returns are shared with it and with each other: treat them as
// immutable. A Builder is not safe for concurrent use.
type Builder struct {
	gw     gatewayConfig
	parts  *clusterParts
	arena  arena
	local  localServers
	accept *peerEntry // nil when the accept side has no cluster

	cands map[peeringKey]*candidate
	peers map[string]*peerEntry // by server name, every name with a candidate
	names []string              // sorted names of the peers that have resources
	order int                   // next candidate order for SetPeering
	gen   uint64                // generation of the last Set

	entries   slab[peerEntry]
	candSlab  slab[candidate]
	listeners []*listenerv3.Listener // sorted by name
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

// candidate is one dialing peering's bid for a server name.
type candidate struct {
	key    peeringKey
	target peering.Target
	ok     bool
	order  int
	diags  []error
	next   *candidate // the next candidate for the same name
}

// peerEntry holds the candidates and the resources of one server name.
type peerEntry struct {
	name  string
	cands *candidate
	gen   uint64
	built bool
	// The resources, valid when built.
	hostnames bool
	addrs     []peering.Address
	cluster   *clusterv3.Cluster
	cla       *endpointv3.ClusterLoadAssignment // nil for hostname targets or no endpoints
	chain     *listenerv3.FilterChain
}

// NewBuilder returns a Builder with no State: it has no resources until the first Set.
func NewBuilder() *Builder {
	return &Builder{
		parts: newClusterParts(defaultConnectTimeout),
		gw:    gatewayConfig{timeout: defaultConnectTimeout},
		cands: map[peeringKey]*candidate{},
		peers: map[string]*peerEntry{},
	}
}

// Set replaces the whole State and returns what changed.
func (b *Builder) Set(s *peering.State) Changes {
	var ch Changes
	b.set(s, &ch)
	return ch
}

func (b *Builder) set(s *peering.State, ch *Changes) {
	gw := readGateway(s)
	listenersStale := !gw.sameListeners(&b.gw)
	timeoutChanged := gw.timeout != b.gw.timeout
	b.gw = gw
	if timeoutChanged {
		b.parts = newClusterParts(gw.timeout)
	}
	var servers []*api.ServiceEntry
	var peerings []peering.Peering
	if gw.enabled {
		servers, peerings = s.Servers, s.Peerings
	}
	if b.setLocal(readServers(servers), timeoutChanged, ch) {
		listenersStale = true
	}
	if b.setPeerings(peerings, timeoutChanged, ch) {
		listenersStale = true
	}
	if listenersStale {
		b.rebuildListeners(ch)
	}
}

// setLocal installs the accept side (the local servers) and reports whether the
// listeners must be rebuilt because the accept chain appeared, disappeared or was renamed.
func (b *Builder) setLocal(l localServers, rebuildCluster bool, ch *Changes) bool {
	name := b.gw.acceptName
	if name == "" {
		l.voters, l.endpoints = false, nil
	}
	b.local = l
	old := b.accept
	if !l.voters {
		if old == nil {
			return false
		}
		ch.removeCluster(old.name)
		if old.cla != nil {
			ch.removeEndpoints(old.name)
		}
		b.accept = nil
		return true
	}
	renamed := old == nil || old.name != name
	if !renamed && !rebuildCluster && slices.Equal(old.addrs, l.endpoints) {
		return false
	}
	e := &peerEntry{name: name, addrs: l.endpoints}
	if renamed || rebuildCluster {
		e.cluster = b.arena.cluster(b.parts, name, false, nil)
		ch.addCluster(e.cluster)
	} else {
		e.cluster = old.cluster
	}
	if len(l.endpoints) > 0 {
		e.cla = b.arena.assignment(name, l.endpoints)
		ch.addEndpoints(e.cla)
	}
	if old != nil {
		if old.name != name {
			ch.removeCluster(old.name)
		}
		if old.cla != nil && (old.name != name || e.cla == nil) {
			ch.removeEndpoints(old.name)
		}
	}
	b.accept = e
	return renamed
}

// setPeerings replaces the whole peering list and reports whether the set of peer server
// names with resources changed.
func (b *Builder) setPeerings(list []peering.Peering, rebuildClusters bool, ch *Changes) bool {
	if len(b.peers) == 0 {
		endpoints := 0
		for i := range list {
			endpoints += len(list[i].Addresses())
		}
		b.arena.reserve(len(list), endpoints)
		b.entries.reserve(len(list))
		b.candSlab.reserve(len(list))
	}
	b.gen++
	cands := make(map[peeringKey]*candidate, len(list))
	for i := range list {
		p := &list[i]
		if !p.Dialing() {
			continue
		}
		key := keyOf(p)
		if _, dup := cands[key]; dup {
			key.seq = i
		}
		c := b.newCandidate(p, key, i)
		cands[key] = c
		if c.ok {
			b.entry(c.target.ServerName).push(c, b.gen)
		}
	}
	b.cands = cands
	b.order = max(b.order, len(list))

	namesChanged := false
	for name, e := range b.peers {
		if e.gen != b.gen {
			e.cands = nil
		}
		if b.refresh(e, rebuildClusters, ch) {
			namesChanged = true
		}
		if e.cands == nil {
			delete(b.peers, name)
		}
	}
	if namesChanged {
		b.names = b.names[:0]
		for name, e := range b.peers {
			if e.built {
				b.names = append(b.names, name)
			}
		}
		slices.Sort(b.names)
	}
	return namesChanged
}

// entry returns the entry of a server name, creating it if needed.
func (b *Builder) entry(name string) *peerEntry {
	e := b.peers[name]
	if e == nil {
		e = b.entries.next()
		e.name = name
		b.peers[name] = e
	}
	return e
}

// push adds c to the entry's candidates, first dropping those of an older Set.
func (e *peerEntry) push(c *candidate, gen uint64) {
	if e.gen != gen {
		e.cands, e.gen = nil, gen
	}
	c.next, e.cands = e.cands, c
}

// remove drops c from the entry's candidates.
func (e *peerEntry) remove(c *candidate) {
	for p := &e.cands; *p != nil; p = &(*p).next {
		if *p == c {
			*p = c.next
			return
		}
	}
}

func (b *Builder) newCandidate(p *peering.Peering, key peeringKey, order int) *candidate {
	t, errs, ok := peering.TargetOf(p)
	if ok && t.ServerName == b.gw.acceptName {
		errs = append(errs, &peering.InputError{Peering: key.String(), Field: "PeerServerName", Value: t.ServerName, Err: ErrPeerIsLocal})
		ok = false
	}
	c := b.candSlab.next()
	*c = candidate{key: key, target: t, ok: ok, order: order, diags: errs}
	return c
}

// winner is the candidate whose target a name gets: the greatest ModifyIndex, the
// first in list order on a tie.
func (e *peerEntry) winner() *candidate {
	var win *candidate
	for c := e.cands; c != nil; c = c.next {
		if win == nil || c.target.ModifyIndex > win.target.ModifyIndex ||
			c.target.ModifyIndex == win.target.ModifyIndex && c.order < win.order {
			win = c
		}
	}
	return win
}

// refresh recomputes the resources of one server name from its candidates and reports
// whether the name gained or lost its resources.
func (b *Builder) refresh(e *peerEntry, rebuildCluster bool, ch *Changes) bool {
	win := e.winner()
	name := e.name
	if win == nil {
		if !e.built {
			return false
		}
		ch.removeCluster(name)
		if e.cla != nil {
			ch.removeEndpoints(name)
		}
		*e = peerEntry{name: name, gen: e.gen}
		return true
	}
	t := &win.target
	if e.built && e.hostnames == t.Hostnames && slices.Equal(e.addrs, t.Addresses) {
		if rebuildCluster {
			e.cluster = b.arena.cluster(b.parts, name, t.Hostnames, t.Addresses)
			ch.addCluster(e.cluster)
		}
		return false
	}
	// An EDS cluster does not depend on its addresses, so it is kept when it can be.
	if !e.built || e.hostnames || t.Hostnames || rebuildCluster {
		e.cluster = b.arena.cluster(b.parts, name, t.Hostnames, t.Addresses)
		ch.addCluster(e.cluster)
	}
	switch {
	case !t.Hostnames:
		e.cla = b.arena.assignment(name, t.Addresses)
		ch.addEndpoints(e.cla)
	case e.cla != nil:
		ch.removeEndpoints(name)
		e.cla = nil
	}
	added := !e.built
	if added {
		e.chain = b.arena.sniChain(name, peerStatPrefix, name)
	}
	e.built, e.hostnames, e.addrs = true, t.Hostnames, t.Addresses
	return added
}

// SetPeering adds or replaces one peering (identified by partition and name) and returns
// what changed. Its cost does not depend on the number of other peerings, unless a peer
// server name appears or disappears, which rebuilds the listeners.
func (b *Builder) SetPeering(p peering.Peering) Changes {
	var ch Changes
	if !b.gw.enabled {
		return ch
	}
	key := keyOf(&p)
	old := b.cands[key]
	if !p.Dialing() {
		b.removeCandidate(key, &ch)
		return ch
	}
	order := b.order
	var oldEntry *peerEntry
	if old != nil {
		order = old.order
		if old.ok {
			oldEntry = b.peers[old.target.ServerName]
			oldEntry.remove(old)
		}
	} else {
		b.order++
	}
	c := b.newCandidate(&p, key, order)
	b.cands[key] = c
	var e *peerEntry
	if c.ok {
		e = b.entry(c.target.ServerName)
		e.push(c, e.gen)
		b.refreshOne(e, &ch)
	}
	if oldEntry != nil && oldEntry != e {
		b.refreshOne(oldEntry, &ch)
		if oldEntry.cands == nil {
			delete(b.peers, oldEntry.name)
		}
	}
	return ch
}

// RemovePeering removes the peering with the given partition ("" means "default") and
// name, and returns what changed.
func (b *Builder) RemovePeering(partition, name string) Changes {
	var ch Changes
	b.removeCandidate(keyOf(&peering.Peering{Peering: api.Peering{Partition: partition, Name: name}}), &ch)
	return ch
}

func (b *Builder) removeCandidate(key peeringKey, ch *Changes) {
	if old := b.cands[key]; old != nil {
		delete(b.cands, key)
		b.dropCandidate(old, ch)
	}
}

// dropCandidate takes c out of its name's candidates and refreshes that name.
func (b *Builder) dropCandidate(c *candidate, ch *Changes) {
	if !c.ok {
		return
	}
	e := b.peers[c.target.ServerName]
	if e == nil {
		return
	}
	e.remove(c)
	b.refreshOne(e, ch)
	if e.cands == nil {
		delete(b.peers, e.name)
	}
}

// refreshOne refreshes one name and keeps the sorted name list and the listeners current.
func (b *Builder) refreshOne(e *peerEntry, ch *Changes) {
	if !b.refresh(e, false, ch) {
		return
	}
	i, found := slices.BinarySearch(b.names, e.name)
	switch {
	case e.built && !found:
		b.names = slices.Insert(b.names, i, e.name)
	case !e.built && found:
		b.names = slices.Delete(b.names, i, i+1)
	}
	b.rebuildListeners(ch)
}

// rebuildListeners makes one listener per bind address, each with the accept chain, the
// peer chains in name order and the catch-all chain, and records the changes.
func (b *Builder) rebuildListeners(ch *Changes) {
	var ls []*listenerv3.Listener
	if b.gw.listeners {
		peerChains := make([]*listenerv3.FilterChain, len(b.names))
		for i, name := range b.names {
			peerChains[i] = b.peers[name].chain
		}
		ls = make([]*listenerv3.Listener, 0, len(b.gw.binds))
		for _, bind := range b.gw.binds {
			chains := make([]*listenerv3.FilterChain, 0, len(peerChains)+2)
			if b.accept != nil {
				chains = append(chains, b.arena.sniChain(b.accept.name, acceptStatPrefix, statSafe(bind.Name+"."+b.gw.datacenter)))
			}
			chains = append(chains, peerChains...)
			chains = append(chains, b.arena.catchAllChain(bind.Name))
			ls = append(ls, buildListener(bind, chains))
		}
		slices.SortFunc(ls, func(x, y *listenerv3.Listener) int { return strings.Compare(x.Name, y.Name) })
	}
	if ch != nil {
		for _, old := range b.listeners {
			if !slices.ContainsFunc(ls, func(l *listenerv3.Listener) bool { return l.Name == old.Name }) {
				ch.RemovedListeners = append(ch.RemovedListeners, old.Name)
			}
		}
		ch.Listeners = append(ch.Listeners, ls...)
	}
	b.listeners = ls
}

// Resources returns the current resources, each list sorted by name.
func (b *Builder) Resources() *Resources {
	r := &Resources{
		Clusters:  make([]*clusterv3.Cluster, 0, len(b.names)+1),
		Endpoints: make([]*endpointv3.ClusterLoadAssignment, 0, len(b.names)+1),
		Listeners: slices.Clone(b.listeners),
	}
	accept := b.accept
	add := func(e *peerEntry) {
		r.Clusters = append(r.Clusters, e.cluster)
		if e.cla != nil {
			r.Endpoints = append(r.Endpoints, e.cla)
		}
	}
	for _, name := range b.names {
		if accept != nil && accept.name < name {
			add(accept)
			accept = nil
		}
		add(b.peers[name])
	}
	if accept != nil {
		add(accept)
	}
	return r
}

// Diagnostics returns what the current State had that generation skipped or defaulted:
// gateway settings first, then servers, then peerings by key.
func (b *Builder) Diagnostics() []Diagnostic {
	out := slices.Clone(b.gw.diags)
	out = append(out, b.local.diags...)
	var keys []peeringKey
	for k, c := range b.cands {
		if len(c.diags) > 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y peeringKey) int {
		return cmp.Or(strings.Compare(x.partition, y.partition), strings.Compare(x.name, y.name), cmp.Compare(x.seq, y.seq))
	})
	for _, k := range keys {
		for _, err := range b.cands[k].diags {
			out = append(out, Diagnostic{Input: "Peerings", Err: err})
		}
	}
	return out
}

package xds

import (
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

	cands  map[string]*candidate // by peering key
	byName map[string][]*candidate
	peers  map[string]*peerEntry // by server name
	names  []string              // sorted keys of peers
	order  int                   // next candidate order for SetPeering

	listeners []*listenerv3.Listener // sorted by name
}

// candidate is one dialing peering's bid for a server name.
type candidate struct {
	key    string
	target peering.Target
	ok     bool
	order  int
	diags  []error
	gwName string // acceptName when the target was checked against it
}

// peerEntry holds the resources of one server name.
type peerEntry struct {
	name      string
	hostnames bool
	addrs     []peering.Address
	cluster   *clusterv3.Cluster
	cla       *endpointv3.ClusterLoadAssignment // nil for hostname targets or no endpoints
	chain     *listenerv3.FilterChain
}

// NewBuilder returns a Builder with no State: it has no resources until the first Set.
func NewBuilder() *Builder {
	return &Builder{
		parts:  newClusterParts(defaultConnectTimeout),
		gw:     gatewayConfig{timeout: defaultConnectTimeout},
		cands:  map[string]*candidate{},
		byName: map[string][]*candidate{},
		peers:  map[string]*peerEntry{},
	}
}

// Set replaces the whole State and returns what changed.
func (b *Builder) Set(s *State) Changes {
	var ch Changes
	b.set(s, &ch)
	return ch
}

func (b *Builder) set(s *State, ch *Changes) {
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
		ch.Clusters = append(ch.Clusters, e.cluster)
	} else {
		e.cluster = old.cluster
	}
	if len(l.endpoints) > 0 {
		e.cla = b.arena.assignment(name, l.endpoints)
		ch.Endpoints = append(ch.Endpoints, e.cla)
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
// names changed.
func (b *Builder) setPeerings(list []peering.Peering, rebuildClusters bool, ch *Changes) bool {
	if len(b.peers) == 0 {
		endpoints := 0
		for i := range list {
			endpoints += len(list[i].Addresses())
		}
		b.arena.reserve(len(list), endpoints)
	}
	cands := make(map[string]*candidate, len(list))
	byName := make(map[string][]*candidate, len(list))
	for i := range list {
		p := &list[i]
		if !p.Dialing() {
			continue
		}
		key := p.Key()
		if _, dup := cands[key]; dup {
			key = fmt.Sprintf("%s#%d", key, i)
		}
		c := b.newCandidate(p, key, i)
		cands[key] = c
		if c.ok {
			byName[c.target.ServerName] = append(byName[c.target.ServerName], c)
		}
	}
	b.cands, b.byName = cands, byName
	b.order = max(b.order, len(list))

	namesChanged := false
	for name := range b.peers {
		if _, ok := byName[name]; !ok {
			b.refresh(name, false, ch)
			namesChanged = true
		}
	}
	for name := range byName {
		if b.refresh(name, rebuildClusters, ch) {
			namesChanged = true
		}
	}
	if namesChanged {
		b.names = b.names[:0]
		for name := range b.peers {
			b.names = append(b.names, name)
		}
		slices.Sort(b.names)
	}
	return namesChanged
}

func (b *Builder) newCandidate(p *peering.Peering, key string, order int) *candidate {
	t, errs, ok := peering.TargetOf(p)
	if ok && t.ServerName == b.gw.acceptName {
		errs = append(errs, &peering.InputError{Peering: key, Field: "PeerServerName", Value: t.ServerName, Err: ErrPeerIsLocal})
		ok = false
	}
	return &candidate{key: key, target: t, ok: ok, order: order, diags: errs}
}

// refresh recomputes the resources of one server name from its candidates and reports
// whether the name was added or removed.
func (b *Builder) refresh(name string, rebuildCluster bool, ch *Changes) bool {
	var win *candidate
	for _, c := range b.byName[name] {
		if win == nil || c.target.ModifyIndex > win.target.ModifyIndex ||
			c.target.ModifyIndex == win.target.ModifyIndex && c.order < win.order {
			win = c
		}
	}
	old := b.peers[name]
	if win == nil {
		if old == nil {
			return false
		}
		delete(b.peers, name)
		ch.removeCluster(name)
		if old.cla != nil {
			ch.removeEndpoints(name)
		}
		return true
	}
	t := &win.target
	if old != nil && old.hostnames == t.Hostnames && slices.Equal(old.addrs, t.Addresses) {
		if rebuildCluster {
			old.cluster = b.arena.cluster(b.parts, name, t.Hostnames, t.Addresses)
			ch.Clusters = append(ch.Clusters, old.cluster)
		}
		return false
	}
	e := &peerEntry{name: name, hostnames: t.Hostnames, addrs: t.Addresses}
	if old != nil && old.hostnames == t.Hostnames && !t.Hostnames && !rebuildCluster {
		e.cluster = old.cluster // an EDS cluster does not depend on its addresses
	} else {
		e.cluster = b.arena.cluster(b.parts, name, t.Hostnames, t.Addresses)
		ch.Clusters = append(ch.Clusters, e.cluster)
	}
	if !t.Hostnames {
		e.cla = b.arena.assignment(name, t.Addresses)
		ch.Endpoints = append(ch.Endpoints, e.cla)
	} else if old != nil && old.cla != nil {
		ch.removeEndpoints(name)
	}
	if old != nil {
		e.chain = old.chain
	} else {
		e.chain = b.arena.sniChain(name, peerStatPrefix, name)
	}
	b.peers[name] = e
	return old == nil
}

// SetPeering adds or replaces one peering (identified by its [peering.Peering.Key]) and
// returns what changed. It costs the same whatever the number of other peerings, unless
// a peer server name appears or disappears, which rebuilds the listeners.
func (b *Builder) SetPeering(p peering.Peering) Changes {
	var ch Changes
	if !b.gw.enabled {
		return ch
	}
	key := p.Key()
	old := b.cands[key]
	if !p.Dialing() {
		b.removeCandidate(key, &ch)
		return ch
	}
	order := b.order
	if old != nil {
		order = old.order
		b.dropFromName(old)
	} else {
		b.order++
	}
	c := b.newCandidate(&p, key, order)
	b.cands[key] = c
	if c.ok {
		b.byName[c.target.ServerName] = append(b.byName[c.target.ServerName], c)
		b.refreshOne(c.target.ServerName, &ch)
	}
	if old != nil && old.ok && (!c.ok || old.target.ServerName != c.target.ServerName) {
		b.refreshOne(old.target.ServerName, &ch)
	}
	return ch
}

// RemovePeering removes the peering with the given key ("<partition>/<name>") and
// returns what changed.
func (b *Builder) RemovePeering(key string) Changes {
	var ch Changes
	b.removeCandidate(key, &ch)
	return ch
}

func (b *Builder) removeCandidate(key string, ch *Changes) {
	old := b.cands[key]
	if old == nil {
		return
	}
	delete(b.cands, key)
	if old.ok {
		b.dropFromName(old)
		b.refreshOne(old.target.ServerName, ch)
	}
}

func (b *Builder) dropFromName(c *candidate) {
	if !c.ok {
		return
	}
	name := c.target.ServerName
	cs := slices.DeleteFunc(b.byName[name], func(x *candidate) bool { return x == c })
	if len(cs) == 0 {
		delete(b.byName, name)
	} else {
		b.byName[name] = cs
	}
}

// refreshOne refreshes one name and keeps the sorted name list and the listeners current.
func (b *Builder) refreshOne(name string, ch *Changes) {
	if !b.refresh(name, false, ch) {
		return
	}
	i, found := slices.BinarySearch(b.names, name)
	if _, present := b.peers[name]; present && !found {
		b.names = slices.Insert(b.names, i, name)
	} else if !present && found {
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
				chains = append(chains, b.arena.sniChain(b.accept.name, acceptStatPrefix, bind.Name+"."+b.gw.datacenter))
			}
			chains = append(chains, peerChains...)
			chains = append(chains, b.arena.catchAllChain(bind.Name))
			ls = append(ls, buildListener(bind, chains))
		}
		slices.SortFunc(ls, func(x, y *listenerv3.Listener) int { return strings.Compare(x.Name, y.Name) })
	}
	for _, old := range b.listeners {
		if !slices.ContainsFunc(ls, func(l *listenerv3.Listener) bool { return l.Name == old.Name }) {
			ch.RemovedListeners = append(ch.RemovedListeners, old.Name)
		}
	}
	ch.Listeners = append(ch.Listeners, ls...)
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
	keys := make([]string, 0, len(b.cands))
	for k, c := range b.cands {
		if len(c.diags) > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, err := range b.cands[k].diags {
			out = append(out, Diagnostic{Input: "Peerings", Err: err})
		}
	}
	return out
}

package xds

import (
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

	peers peerSet

	listeners []*listenerv3.Listener // sorted by name
}

// NewBuilder returns a Builder with no State: it has no resources until the first Set.
func NewBuilder() *Builder {
	return &Builder{
		parts: newClusterParts(defaultConnectTimeout),
		gw:    gatewayConfig{timeout: defaultConnectTimeout},
	}
}

// Set replaces the whole State and returns what changed. A nil State is an empty one.
func (b *Builder) Set(s *peering.State) Changes {
	var ch Changes
	b.set(s, &ch)
	return ch
}

func (b *Builder) set(s *peering.State, ch *Changes) {
	if s == nil {
		s = &peering.State{} // no gateway: reported, and nothing is generated
	}
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
	if b.accept == nil && len(b.peers.entries) == 0 {
		b.arena.reserve(peerings, len(servers), len(gw.binds))
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
	ch.normalize()
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

// rebuildListeners makes one listener per bind address, each with the accept chain, the
// peer chains in name order and the catch-all chain, and records the changes.
func (b *Builder) rebuildListeners(ch *Changes) {
	var ls []*listenerv3.Listener
	if b.gw.listeners {
		peerChains := make([]*listenerv3.FilterChain, len(b.peers.entries))
		for i, e := range b.peers.entries {
			peerChains[i] = e.chain
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
		Clusters:  make([]*clusterv3.Cluster, 0, len(b.peers.entries)+1),
		Endpoints: make([]*endpointv3.ClusterLoadAssignment, 0, len(b.peers.entries)+1),
		Listeners: slices.Clone(b.listeners),
	}
	accept := b.accept
	add := func(e *peerEntry) {
		r.Clusters = append(r.Clusters, e.cluster)
		if e.cla != nil {
			r.Endpoints = append(r.Endpoints, e.cla)
		}
	}
	for _, e := range b.peers.entries {
		if accept != nil && accept.name < e.name {
			add(accept)
			accept = nil
		}
		add(e)
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
	for _, c := range b.peers.withDiags() {
		for _, err := range c.diags {
			out = append(out, Diagnostic{Part: PartPeerings, Input: "Peerings", Err: err})
		}
	}
	return out
}

package xds

import (
	"iter"
	"slices"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/peeringgw/peeringgw/peering"
)

// Builder keeps one gateway's resources current as its State changes: each [Builder.Set]
// resolves the new State into a [Model], and translates and hashes only the resources
// whose model entries changed. Whatever the sequence of States, [Builder.Resources]
// equals what [Build] returns for the last one, and the [Changes] each Set returns,
// applied in order, lead from one to the next. The [Loop] runs a Builder per gateway.
//
// A Builder keeps the Model and each resource's version, not the resources: those of
// the Changes are the caller's to keep (a [Server] keeps them encoded). Resources a
// Builder returns may share sub-messages: treat them as immutable. A Builder is not
// safe for concurrent use.
type Builder struct {
	r         resolver
	t         translator
	h         hasher
	clusters  map[string]*clusterEntry
	entries   slab[clusterEntry]
	listeners map[string]*listenerEntry
	version   setVersion
}

// clusterEntry holds the versions of the resources of one model cluster.
type clusterEntry struct {
	clusterHash uint64
	hasCLA      bool // whether the cluster has a ClusterLoadAssignment
	claHash     uint64
}

type listenerEntry struct{ hash uint64 }

// NewBuilder returns a Builder with no State: it has no resources until the first Set.
// Options choose the target Consul version ([WithConsulVersion]).
func NewBuilder(opts ...BuildOption) *Builder {
	return &Builder{r: resolver{opts: newBuildOptions(opts)}, clusters: map[string]*clusterEntry{}, listeners: map[string]*listenerEntry{}}
}

// Set replaces the whole State and returns what changed. A nil State is an empty one.
// The Builder keeps s and values it references: s must not be modified afterwards.
func (b *Builder) Set(s *peering.State) Changes {
	var d delta
	first := b.r.model == nil
	b.r.update(s, &d)
	m := b.r.model
	if first {
		b.t.arena.reserve(m)
		b.entries.reserve(len(m.Clusters))
		b.clusters = make(map[string]*clusterEntry, len(m.Clusters))
	}
	var ch Changes
	b.setClusters(m, &d, &ch)
	b.setListeners(m, &d, &ch)
	return ch
}

// setClusters translates the clusters and assignments d names and records them in ch.
func (b *Builder) setClusters(m *Model, d *delta, ch *Changes) {
	for c := range namedClusters(m.Clusters, d.clusters) {
		e := b.clusters[c.Name]
		if e == nil {
			e = b.entries.next()
			b.clusters[c.Name] = e
		} else {
			b.version.remove(kindCluster, c.Name, e.clusterHash)
		}
		e.clusterHash = b.h.cluster(c)
		b.version.add(kindCluster, c.Name, e.clusterHash)
		ch.Clusters = append(ch.Clusters, b.t.cluster(c))
		ch.versions.add(ch.Clusters[len(ch.Clusters)-1], e.clusterHash)
	}
	for c := range namedClusters(m.Clusters, d.endpoints) {
		e := b.clusters[c.Name]
		if e.hasCLA {
			b.version.remove(kindEndpoints, c.Name, e.claHash)
		}
		e.hasCLA, e.claHash = true, b.h.assignment(c)
		b.version.add(kindEndpoints, c.Name, e.claHash)
		ch.Endpoints = append(ch.Endpoints, b.t.arena.assignment(c.Name, c.Endpoints))
		ch.versions.add(ch.Endpoints[len(ch.Endpoints)-1], e.claHash)
	}
	for _, name := range d.removedEndpoints {
		e := b.clusters[name]
		b.version.remove(kindEndpoints, name, e.claHash)
		e.hasCLA = false
		ch.RemovedEndpoints = append(ch.RemovedEndpoints, name)
	}
	for _, name := range d.removedClusters {
		b.version.remove(kindCluster, name, b.clusters[name].clusterHash)
		delete(b.clusters, name)
		ch.RemovedClusters = append(ch.RemovedClusters, name)
	}
}

// setListeners translates the listeners d names and records them in ch.
func (b *Builder) setListeners(m *Model, d *delta, ch *Changes) {
	for _, name := range d.removedListeners {
		b.version.remove(kindListener, name, b.listeners[name].hash)
		delete(b.listeners, name)
		ch.RemovedListeners = append(ch.RemovedListeners, name)
	}
	if len(d.listeners) == 0 {
		return
	}
	chains := b.peerChains(m.listenerPeers())
	for i := range m.Listeners {
		l := &m.Listeners[i]
		if !slices.Contains(d.listeners, l.Name) {
			continue
		}
		e := b.listeners[l.Name]
		if e == nil {
			e = &listenerEntry{}
			b.listeners[l.Name] = e
		} else {
			b.version.remove(kindListener, l.Name, e.hash)
		}
		e.hash = b.h.listener(l)
		b.version.add(kindListener, l.Name, e.hash)
		ch.Listeners = append(ch.Listeners, b.t.listener(l, chains))
		ch.versions.add(ch.Listeners[len(ch.Listeners)-1], e.hash)
	}
}

// namedClusters yields the clusters of cs (sorted by name) named in names (sorted).
func namedClusters(cs []Cluster, names []string) iter.Seq[*Cluster] {
	return func(yield func(*Cluster) bool) {
		i := 0
		for _, name := range names {
			for i < len(cs) && cs[i].Name < name {
				i++
			}
			if i < len(cs) && cs[i].Name == name && !yield(&cs[i]) {
				return
			}
		}
	}
}

// peerChains returns the filter chains of the peer names, built anew: keeping them
// between listeners would cost more memory than building them costs time.
func (b *Builder) peerChains(peers []string) []*listenerv3.FilterChain {
	b.t.arena.reserveChains(peers)
	chains := make([]*listenerv3.FilterChain, len(peers))
	for i, name := range peers {
		chains[i] = b.t.peerChain(name)
	}
	return chains
}

// Resources returns the current resources, each list sorted by name: it translates the
// current Model again, as the Builder keeps no resource.
func (b *Builder) Resources() *Resources { return Translate(b.r.model) }

// Model returns the Model of the current State; it is empty before the first Set.
func (b *Builder) Model() *Model {
	if b.r.model == nil {
		return &Model{}
	}
	return b.r.model
}

// Diagnostics returns what the current State had that generation skipped or defaulted:
// gateway settings first, then servers, then peerings by key.
func (b *Builder) Diagnostics() []Diagnostic { return b.r.diagnostics() }

// Version identifies the current resources by their content: equal resources give the
// same Version, in any process and after any sequence of updates. It is derived from
// each resource's version, computed when the resource was built, so it costs nothing
// to read.
func (b *Builder) Version() string { return b.version.String() }

package xds

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
)

// Translate returns the Envoy resources of m, each list sorted by name: a Cluster per
// model cluster, a ClusterLoadAssignment per EDS cluster with endpoints, and a Listener
// per model listener. It is a pure function of m.
func Translate(m *Model) *Resources {
	if m == nil {
		return &Resources{}
	}
	var t translator
	t.arena.reserve(m)
	r := &Resources{
		Clusters:  make([]*clusterv3.Cluster, 0, len(m.Clusters)),
		Endpoints: make([]*endpointv3.ClusterLoadAssignment, 0, len(m.Clusters)),
		Listeners: make([]*listenerv3.Listener, 0, len(m.Listeners)),
	}
	for i := range m.Clusters {
		c := &m.Clusters[i]
		r.Clusters = append(r.Clusters, t.cluster(c))
		if c.hasAssignment() {
			r.Endpoints = append(r.Endpoints, t.arena.assignment(c.Name, c.Endpoints))
		}
	}
	if len(m.Listeners) > 0 {
		peers := m.Listeners[0].Peers
		chains := make([]*listenerv3.FilterChain, len(peers))
		for i, name := range peers {
			chains[i] = t.peerChain(name)
		}
		for i := range m.Listeners {
			r.Listeners = append(r.Listeners, t.listener(&m.Listeners[i], chains))
		}
	}
	return r
}

// translator holds what the resources of one gateway share: the arena they are
// allocated from and the cluster sub-messages of the current connect timeout.
type translator struct {
	arena arena
	parts *clusterParts
}

// cluster returns the Cluster of c: EDS for IP addresses, STRICT_DNS with inline
// endpoints for hostnames, with the settings the Model decided.
func (t *translator) cluster(c *Cluster) *clusterv3.Cluster {
	return t.arena.cluster(t.partsFor(c), c)
}

// partsFor returns the shared sub-messages of c, built again only when they differ
// from the last cluster's (a DNS cluster has no EDS config, so needs only the same
// connect timeout).
func (t *translator) partsFor(c *Cluster) *clusterParts {
	k := keyOfCluster(c)
	if c.DNS && t.parts != nil && t.parts.key.connectTimeout == k.connectTimeout {
		return t.parts
	}
	if t.parts == nil || t.parts.key != k {
		t.parts = newClusterParts(k)
	}
	return t.parts
}

// peerChain returns the filter chain of peer server name.
func (t *translator) peerChain(name string) *listenerv3.FilterChain {
	return t.arena.sniChain(name, peerStatPrefix, name)
}

// listener returns the Listener of l, whose peer chains (in the order of l.Peers) are
// given.
func (t *translator) listener(l *Listener, peerChains []*listenerv3.FilterChain) *listenerv3.Listener {
	chains := make([]*listenerv3.FilterChain, 0, len(peerChains)+2)
	if l.Accept != "" {
		chains = append(chains, t.arena.sniChain(l.Accept, l.AcceptStat, ""))
	}
	chains = append(chains, peerChains...)
	chains = append(chains, t.arena.catchAllChain(l.CatchAllStat))
	return buildListener(l, chains)
}

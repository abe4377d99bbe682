package xds

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
)

// Changes is what one [Builder] update changed: resources added or replaced, and the
// names of resources removed, per type. A name never appears in both lists of a type.
// Changes a Builder returns also carry the version of each resource, which
// [Server.Apply] uses.
type Changes struct {
	Clusters         []*clusterv3.Cluster
	Endpoints        []*endpointv3.ClusterLoadAssignment
	Listeners        []*listenerv3.Listener
	RemovedClusters  []string
	RemovedEndpoints []string
	RemovedListeners []string

	versions changeVersions
}

// changeVersions are the content versions of the resources of Changes, in their order.
type changeVersions struct{ clusters, endpoints, listeners []uint64 }

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool {
	return len(c.Clusters)+len(c.Endpoints)+len(c.Listeners)+
		len(c.RemovedClusters)+len(c.RemovedEndpoints)+len(c.RemovedListeners) == 0
}

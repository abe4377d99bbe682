package xds

import (
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// Changes is what one [Builder] update changed: resources added or replaced, and the
// names of resources removed, per type. A name never appears in both lists of a type.
type Changes struct {
	Clusters         []*clusterv3.Cluster
	Endpoints        []*endpointv3.ClusterLoadAssignment
	Listeners        []*listenerv3.Listener
	RemovedClusters  []string
	RemovedEndpoints []string
	RemovedListeners []string
}

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool {
	return len(c.Clusters)+len(c.Endpoints)+len(c.Listeners)+
		len(c.RemovedClusters)+len(c.RemovedEndpoints)+len(c.RemovedListeners) == 0
}

// The recording methods below do nothing on a nil *Changes, which a full build uses.

func (c *Changes) addCluster(r *clusterv3.Cluster) {
	if c != nil {
		c.Clusters = append(c.Clusters, r)
	}
}

func (c *Changes) addEndpoints(r *endpointv3.ClusterLoadAssignment) {
	if c != nil {
		c.Endpoints = append(c.Endpoints, r)
	}
}

// addAll appends the clusters and endpoints o adds; o removes nothing.
func (c *Changes) addAll(o *Changes) {
	if c != nil {
		c.Clusters = append(c.Clusters, o.Clusters...)
		c.Endpoints = append(c.Endpoints, o.Endpoints...)
	}
}

func (c *Changes) removeCluster(name string) {
	if c != nil {
		c.RemovedClusters = append(c.RemovedClusters, name)
	}
}

func (c *Changes) removeEndpoints(name string) {
	if c != nil {
		c.RemovedEndpoints = append(c.RemovedEndpoints, name)
	}
}

// normalize drops from the removal lists the names that the same update also added or
// replaced. That happens when a name changes owner within one update, e.g. when the local
// servers are renamed to a name a peering used: the name stays, with new content.
func (c *Changes) normalize() {
	if c == nil {
		return
	}
	c.RemovedClusters = withoutNames(c.RemovedClusters, c.Clusters)
	c.RemovedEndpoints = withoutNames(c.RemovedEndpoints, c.Endpoints)
	c.RemovedListeners = withoutNames(c.RemovedListeners, c.Listeners)
}

func withoutNames[R types.Resource](removed []string, updated []R) []string {
	if len(removed) == 0 || len(updated) == 0 {
		return removed
	}
	names := make(map[string]bool, len(updated))
	for _, r := range updated {
		names[cachev3.GetResourceName(r)] = true
	}
	return slices.DeleteFunc(removed, func(n string) bool { return names[n] })
}

package xds

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
)

// Changes is what one [Builder] update changed: resources added or replaced, and the
// names of resources removed, per type. A name never appears in both lists of a type.
// Changes a Builder returns also carry the version of each resource it built, which
// [Server.Apply] uses; a resource put in the lists otherwise is versioned by its
// encoding.
type Changes struct {
	Clusters         []*clusterv3.Cluster
	Endpoints        []*endpointv3.ClusterLoadAssignment
	Listeners        []*listenerv3.Listener
	RemovedClusters  []string
	RemovedEndpoints []string
	RemovedListeners []string

	versions changeVersions
}

// changeVersions are the content versions of the resources a Builder put in Changes.
type changeVersions map[types.Resource]uint64

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool {
	return len(c.Clusters)+len(c.Endpoints)+len(c.Listeners)+
		len(c.RemovedClusters)+len(c.RemovedEndpoints)+len(c.RemovedListeners) == 0
}

// add records the version of r, a resource the Builder built.
func (v *changeVersions) add(r types.Resource, version uint64) {
	if *v == nil {
		*v = changeVersions{}
	}
	(*v)[r] = version
}

package xds

import (
	"fmt"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/peering"
)

// BenchmarkResourceFloor measures the least a full build of 10,000 peers can cost with
// go-control-plane's types: allocating and wiring the same clusters, assignments and
// filter chains as BenchmarkBuild, from targets parsed in advance, with no validation,
// no de-duplication and no sorting. Build's time above this floor is its own logic.
func BenchmarkResourceFloor(b *testing.B) {
	s := load.State(10000)
	targets := make([]peering.Target, len(s.Peerings))
	for i := range s.Peerings {
		targets[i], _, _ = peering.TargetOf(&s.Peerings[i])
	}
	parts := newClusterParts(defaultConnectTimeout)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				inParallel(workers, func(w int) {
					floorResources(parts, targets[w*len(targets)/workers:(w+1)*len(targets)/workers])
				})
			}
		})
	}
}

// floorResources allocates and wires the resources of targets.
func floorResources(parts *clusterParts, targets []peering.Target) ([]*clusterv3.Cluster, []*endpointv3.ClusterLoadAssignment, []*listenerv3.FilterChain) {
	var a arena
	a.reserveEntries(len(targets), 3*len(targets))
	clusters := make([]*clusterv3.Cluster, len(targets))
	assignments := make([]*endpointv3.ClusterLoadAssignment, len(targets))
	chains := make([]*listenerv3.FilterChain, len(targets))
	for i, t := range targets {
		clusters[i] = a.cluster(parts, t.ServerName, false, nil)
		assignments[i] = a.assignment(t.ServerName, t.Addresses)
		chains[i] = a.sniChain(t.ServerName, peerStatPrefix, t.ServerName)
	}
	return clusters, assignments, chains
}

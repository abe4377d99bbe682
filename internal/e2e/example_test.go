package e2e_test

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"

	"github.com/peeringgw/peeringgw/internal/e2e"
	"github.com/peeringgw/peeringgw/xds"
)

// ExamplePeeringOnly keeps, of what Consul serves a mesh gateway, the peering
// control-plane resources, and says what it left out.
func ExamplePeeringOnly() {
	fromConsul := &xds.Resources{Clusters: []*clusterv3.Cluster{
		{Name: "exported~web.default.dc1.internal.td.consul"},
		{Name: "server.dc1.peering.td.consul"},
	}}
	kept, removed := e2e.PeeringOnly(fromConsul)
	for _, c := range kept.Clusters {
		fmt.Println("kept:", c.GetName())
	}
	fmt.Println("left out:", removed.Clusters)
	// Output:
	// kept: server.dc1.peering.td.consul
	// left out: [exported~web.default.dc1.internal.td.consul]
}

package load_test

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/proto"

	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/xds"
)

// The State of a thousand peers gives a thousand and one clusters and endpoints and one
// listener; moving one peer changes its endpoints only.
func ExampleState() {
	b := xds.NewBuilder()
	state := load.State(1000)
	b.Set(state)
	r := b.Resources()
	fmt.Println(len(r.Clusters), len(r.Endpoints), len(r.Listeners))
	ch := b.Set(load.WithPeering(state, load.Peering(7, true)))
	fmt.Println(len(ch.Clusters), len(ch.Endpoints), ch.Endpoints[0].GetClusterName())
	// Output:
	// 1001 1001 1
	// 0 1 server.dc9.peering.00000007-0007-4007-a031-000000000007.consul
}

// A client of thousands of resources finds one by name without decoding the others.
func ExampleResourceName() {
	b, err := proto.Marshal(&clusterv3.Cluster{Name: load.PeerServerName(0)})
	if err != nil {
		fmt.Println(err)
		return
	}
	name, err := load.ResourceName(b)
	fmt.Println(name, err)
	// Output:
	// server.dc2.peering.00000000-0000-4000-a000-000000000000.consul <nil>
}

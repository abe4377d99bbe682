package xds_test

import (
	"context"
	"fmt"
	"maps"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/peeringgw/peeringgw/xds"
)

// Two replicas that build the same State serve the same versions, so an Envoy can move
// from one to the other without receiving anything again.
func ExampleServer_Versions() {
	ctx := context.Background()
	replica := func() *xds.Server {
		srv := xds.NewServer(ctx)
		if err := srv.Apply("mesh-gateway", xds.NewBuilder().Set(exampleState())); err != nil {
			panic(err)
		}
		return srv
	}
	a, b := replica().Versions("mesh-gateway"), replica().Versions("mesh-gateway")
	fmt.Println("clusters:", len(a[resourcev3.ClusterType]), "same versions:", maps.EqualFunc(a, b, maps.Equal))
	// Output:
	// clusters: 2 same versions: true
}

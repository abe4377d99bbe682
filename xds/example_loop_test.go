package xds_test

import (
	"context"
	"fmt"
	"log"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// A host program that knows its gateway and servers up front and takes the peerings
// from a source of its own embeds a whole control plane: static sources for the parts
// that do not change, its own source for the peerings, a Loop pushing to a Server. A
// real program registers srv on a gRPC server (srv.Register) and serves it.
func ExampleLoop() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	sources := peering.StaticSources(exampleState())
	sources.Peerings = peering.SourceFunc[[]peering.Peering](func(ctx context.Context, after peering.Version) ([]peering.Peering, peering.Version, error) {
		if !after.IsZero() { // a real source waits here for its next change
			<-ctx.Done()
			return nil, after, ctx.Err()
		}
		return exampleState().Peerings, peering.Version{Index: 1}, nil
	})

	srv := xds.NewServer(ctx)
	served := make(chan *xds.Update, 1)
	loop, err := xds.NewLoop(srv, []xds.Gateway{{ID: "mesh-gateway", Sources: sources}},
		xds.WithObserver(xds.ObserverFuncs{OnServed: func(_ string, u *xds.Update) { served <- u }}))
	if err != nil {
		log.Fatal(err)
	}
	go loop.Run(ctx)

	u := <-served
	fmt.Println("clusters:", len(u.Model.Clusters), "listeners:", len(u.Model.Listeners))
	held, err := srv.Resources("mesh-gateway")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("served endpoints:", len(held.Endpoints))
	// Output:
	// clusters: 2 listeners: 1
	// served endpoints: 2
}

// A Server is a go-control-plane cache: a host that already runs a go-control-plane
// xDS server for other nodes serves the gateways from the same gRPC server by routing
// their node IDs to it in a MuxCache.
func ExampleServer_muxCache() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	gateways := xds.NewServer(ctx)
	others := cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil) // the host's own cache
	isGateway := map[string]bool{"mesh-gateway": true}
	mux := &cachev3.MuxCache{
		Classify: func(r *cachev3.Request) string {
			if isGateway[r.GetNode().GetId()] {
				return "gateways"
			}
			return "others"
		},
		ClassifyDelta: func(r *cachev3.DeltaRequest) string {
			if isGateway[r.GetNode().GetId()] {
				return "gateways"
			}
			return "others"
		},
		Caches: map[string]cachev3.Cache{"gateways": gateways, "others": others},
	}
	g := grpc.NewServer()
	xds.RegisterServices(g, serverv3.NewServer(ctx, mux, nil))

	if err := gateways.SetResources("mesh-gateway", mustBuild(exampleState())); err != nil {
		panic(err)
	}
	served, err := gateways.Resources("mesh-gateway")
	if err != nil {
		panic(err)
	}
	fmt.Println("gateway clusters:", len(served.Clusters))
	// Output:
	// gateway clusters: 2
}

func mustBuild(s *peering.State) *xds.Resources {
	res, _ := xds.Build(s)
	return res
}

package xdsclient_test

import (
	"context"
	"fmt"
	"net"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/peeringgw/peeringgw/internal/xdsclient"
	"github.com/peeringgw/peeringgw/xds"
)

// A client subscribes to every cluster of its node and receives them in one response,
// which Recv acknowledges.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll))
	if err := srv.SetResources(node, clusters("server.dc2.peering.example.consul")); err != nil {
		panic(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	g := grpc.NewServer()
	defer g.Stop()
	srv.Register(g)
	go func() {
		if err := g.Serve(lis); err != nil {
			fmt.Println(err)
		}
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	c, err := xdsclient.Dial(ctx, conn, node)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if err := c.Subscribe(resourcev3.ClusterType); err != nil {
		fmt.Println(err)
		return
	}
	resp, err := c.Recv()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range resp.GetResources() {
		fmt.Println(r.GetName())
	}
	// Output:
	// server.dc2.peering.example.consul
}

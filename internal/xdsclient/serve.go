package xdsclient

import (
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Registrar is what ServeLoopback serves, such as an *xds.Server.
type Registrar interface {
	Register(*grpc.Server)
}

// ServeLoopback serves srv (e.g. an *xds.Server) over gRPC on a free loopback port for the duration of a test
// and returns a client connection to it. At cleanup it closes the connection and stops
// the server, and fails the test if serving ended with an error.
func ServeLoopback(tb testing.TB, srv Registrar) *grpc.ClientConn {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen on loopback: %v", err)
	}
	g := grpc.NewServer()
	srv.Register(g)
	served := make(chan error, 1)
	go func() { served <- g.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		g.Stop()
		tb.Fatalf("connect to %s: %v", lis.Addr(), err)
	}
	tb.Cleanup(func() {
		if err := conn.Close(); err != nil {
			tb.Errorf("close the connection: %v", err)
		}
		g.Stop()
		if err := <-served; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return conn
}

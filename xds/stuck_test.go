package xds_test

import (
	"context"
	"slices"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/internal/xdsclient"
	"github.com/peeringgw/peeringgw/xds"
)

// TestStuckClientDoesNotDelayOthers connects a client that never reads, with a small
// receive window so that its responses cannot be sent, and 100 clients that read:
// changes reach the 100 within 2 s each time, and the stuck stream is ended after the
// send timeout.
func TestStuckClientDoesNotDelayOthers(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const n, readers = 2000, 100
	builder := xds.NewBuilder()
	state := benchState(n)
	builder.Set(state)
	slow := make(chan xds.Refusal, 1)
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll), xds.WithStreamLimits(0, readers+1),
		xds.WithSendTimeout(3*time.Second), xds.WithOnRefused(func(r xds.Refusal) { slow <- r }))
	require.NoError(t, srv.SetResources(testNode, builder.Resources()))
	conn := xdsclient.ServeLoopback(t, srv)

	stuckConn, err := grpc.NewClient(conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16))
	require.NoError(t, err)
	t.Cleanup(func() { stuckConn.Close() })
	stuck, err := xdsclient.Dial(ctx, stuckConn, testNode)
	require.NoError(t, err)
	// It asks for two types and never reads: the first response is queued whole in
	// the server's transport, the second cannot be.
	require.NoError(t, stuck.Subscribe(resourcev3.ClusterType))
	require.NoError(t, stuck.Subscribe(resourcev3.EndpointType))

	// Each reader reports the names of the clusters it receives.
	got := make([]chan []string, readers)
	for i := range got {
		c, err := xdsclient.Dial(ctx, conn, testNode)
		require.NoError(t, err)
		require.NoError(t, c.Subscribe(resourcev3.ClusterType))
		first, err := c.Recv()
		require.NoError(t, err)
		require.Len(t, first.GetResources(), n+1)
		got[i] = make(chan []string, 8)
		go func() {
			for {
				resp, err := c.Recv()
				if err != nil {
					return // the test ended
				}
				got[i] <- resourceNames(resp)
			}
		}()
	}
	for round := 1; round <= 3; round++ {
		want := load.PeerServerName(n + round)
		state = load.WithPeering(state, load.Peering(n+round, true))
		start := time.Now()
		require.NoError(t, srv.Apply(testNode, builder.Set(state)))
		for i := range got {
			select {
			case names := <-got[i]:
				require.True(t, slices.Contains(names, want), "got %v, want %s", names, want)
			case <-time.After(5 * time.Second):
				t.Fatalf("round %d: reader %d got nothing in 5s", round, i)
			}
		}
		took := time.Since(start)
		t.Logf("round %d: %d readers got the change in %s beside a stuck client", round, readers, took)
		assert.Less(t, took, 2*time.Second)
	}
	select {
	case r := <-slow:
		assert.ErrorIs(t, r.Err, xds.ErrSlowClient)
		var se *xds.StreamError
		require.ErrorAs(t, r.Err, &se)
		assert.Equal(t, codes.DeadlineExceeded, se.Code)
		assert.True(t, r.Open)
	case <-time.After(20 * time.Second):
		t.Fatal("got the stuck stream not ended")
	}
}

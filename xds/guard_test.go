package xds_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/peeringgw/peeringgw/internal/xdsclient"
	"github.com/peeringgw/peeringgw/xds"
)

// firstAnswer opens a delta ADS stream as node id, asks for clusters and returns the
// first response or the error that ended the stream.
func firstAnswer(ctx context.Context, conn grpc.ClientConnInterface, id string) (*discoveryv3.DeltaDiscoveryResponse, error) {
	c, err := xdsclient.Dial(ctx, conn, id)
	if err != nil {
		return nil, err
	}
	if err := c.Subscribe(resourcev3.ClusterType); err != nil {
		return nil, err
	}
	return c.Next()
}

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestUnknownNodesAllocateNothing floods the server with 10,000 streams that name
// made-up node IDs: each is refused with NotFound, and neither the gateways the server
// keeps caches for nor its heap grow.
func TestUnknownNodesAllocateNothing(t *testing.T) {
	ctx := t.Context()
	var refused atomic.Int64
	var sample atomic.Value
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll), xds.WithGateways(testNode),
		xds.WithOnRefused(func(r xds.Refusal) {
			if refused.Add(1) == 1 {
				sample.Store(r.Err)
			}
		}))
	conn := xdsclient.ServeLoopback(t, srv)
	_, err := firstAnswer(ctx, conn, testNode)
	require.NoError(t, err, "got the known gateway refused")

	flood := func(from, n int) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for i := from; i < from+n; i++ {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				_, err := firstAnswer(ctx, conn, fmt.Sprintf("made-up-%d", i))
				assert.Equal(t, codes.NotFound, status.Code(err), "got %v", err)
			})
		}
		wg.Wait()
	}
	flood(0, 500) // warm up the connection and the pools
	before := heapAfterGC()
	flood(500, 10000)
	after := heapAfterGC()
	assert.Equal(t, []string{testNode}, srv.Gateways(), "got caches for made-up nodes")
	t.Logf("heap after GC: %d bytes before, %d after 10,000 refused streams (%+d)", before, after, int64(after)-int64(before))
	assert.Less(t, int64(after)-int64(before), int64(512<<10), "heap grew by more than 512 KiB")
	assert.Equal(t, int64(10500), refused.Load(), "got refusals reported")
	err, _ = sample.Load().(error)
	assert.ErrorIs(t, err, xds.ErrUnknownGateway)
	var se *xds.StreamError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, codes.NotFound, se.Code)
}

// TestStreamLimits refuses streams beyond the per-gateway limit with ResourceExhausted
// and lets one in again once a stream ends.
func TestStreamLimits(t *testing.T) {
	ctx := t.Context()
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll), xds.WithGateways(testNode, "other"), xds.WithStreamLimits(3, 2))
	conn := xdsclient.ServeLoopback(t, srv)
	sctx, cancel := context.WithCancel(ctx)
	for range 2 {
		_, err := firstAnswer(sctx, conn, testNode)
		require.NoError(t, err)
	}
	_, err := firstAnswer(ctx, conn, testNode)
	assert.Equal(t, codes.ResourceExhausted, status.Code(err), "got %v over the per-gateway limit", err)
	_, err = firstAnswer(ctx, conn, "other")
	require.NoError(t, err, "got another gateway refused")
	_, err = firstAnswer(ctx, conn, "other")
	assert.Equal(t, codes.ResourceExhausted, status.Code(err), "got %v over the total limit", err)
	cancel()
	require.Eventually(t, func() bool {
		_, err := firstAnswer(ctx, conn, testNode)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "got no stream let in after the others ended")
}

// TestNodeChangeEndsStream ends a stream whose later request names another node.
func TestNodeChangeEndsStream(t *testing.T) {
	ctx := t.Context()
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll), xds.WithGateways(testNode, "other"))
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(xdsclient.ServeLoopback(t, srv)).DeltaAggregatedResources(ctx)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: testNode}, TypeUrl: resourcev3.ClusterType}))
	_, err = stream.Recv()
	require.NoError(t, err)
	require.NoError(t, stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: "other"}, TypeUrl: resourcev3.ListenerType}))
	for err == nil {
		_, err = stream.Recv()
	}
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "got %v", err)
}

// TestAuthorizerRefusals checks the codes of refusals and that any authorizer lets in.
func TestAuthorizerRefusals(t *testing.T) {
	deny := xds.AuthorizerFunc(func(context.Context, xds.StreamInfo) error { return fmt.Errorf("%w: test", xds.ErrPermissionDenied) })
	anon := xds.AuthorizerFunc(func(context.Context, xds.StreamInfo) error { return fmt.Errorf("%w: test", xds.ErrUnauthenticated) })
	other := xds.AuthorizerFunc(func(context.Context, xds.StreamInfo) error { return errors.New("broken") })
	tests := []struct {
		name  string
		authz []xds.Authorizer
		want  codes.Code
	}{
		{"default: no certificate", nil, codes.Unauthenticated},
		{"no credentials", []xds.Authorizer{anon}, codes.Unauthenticated},
		{"denied", []xds.Authorizer{anon, deny}, codes.PermissionDenied},
		{"other error", []xds.Authorizer{other}, codes.PermissionDenied},
		{"any allows", []xds.Authorizer{deny, xds.AllowAll}, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []xds.ServerOption{xds.WithGateways(testNode)}
			if tt.authz != nil {
				opts = append(opts, xds.WithAuthorizers(tt.authz...))
			}
			srv := xds.NewServer(t.Context(), opts...)
			_, err := firstAnswer(t.Context(), xdsclient.ServeLoopback(t, srv), testNode)
			assert.Equal(t, tt.want, status.Code(err), "got %v", err)
		})
	}
}

// TestIdleStreamEnded ends a stream that sends no request, so that idle streams do not
// hold the stream limits.
func TestIdleStreamEnded(t *testing.T) {
	srv := xds.NewServer(t.Context(), xds.WithAuthorizers(xds.AllowAll), xds.WithGateways(testNode),
		xds.WithFirstRequestTimeout(200*time.Millisecond))
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(xdsclient.ServeLoopback(t, srv)).DeltaAggregatedResources(t.Context())
	require.NoError(t, err)
	start := time.Now()
	_, err = stream.Recv()
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err), "got %v", err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// TestStateOfTheWorldGuarded refuses state-of-the-world streams as delta ones: an
// unknown node, then a known one without credentials.
func TestStateOfTheWorldGuarded(t *testing.T) {
	srv := xds.NewServer(t.Context(), xds.WithGateways(testNode))
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(xdsclient.ServeLoopback(t, srv))
	for node, want := range map[string]codes.Code{"made-up": codes.NotFound, testNode: codes.Unauthenticated} {
		stream, err := ads.StreamAggregatedResources(t.Context())
		require.NoError(t, err)
		require.NoError(t, stream.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: node}, TypeUrl: resourcev3.ClusterType}))
		_, err = stream.Recv()
		assert.Equal(t, want, status.Code(err), "node %s: got %v", node, err)
	}
	assert.Equal(t, []string{testNode}, srv.Gateways())
}

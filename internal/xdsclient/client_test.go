package xdsclient_test

import (
	"context"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/peeringgw/peeringgw/internal/xdsclient"
	"github.com/peeringgw/peeringgw/xds"
)

const node = "mesh-gateway"

func clusters(names ...string) *xds.Resources {
	r := &xds.Resources{}
	for _, n := range names {
		r.Clusters = append(r.Clusters, &clusterv3.Cluster{Name: n})
	}
	return r
}

// TestNackAndUpdate checks that a NACK reaches the server with its error detail, and
// that subscribing and unsubscribing by name changes what the client receives.
func TestNackAndUpdate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var got []*discoveryv3.DeltaDiscoveryRequest
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll), xds.WithCallbacks(serverv3.CallbackFuncs{
		StreamDeltaRequestFunc: func(_ int64, req *discoveryv3.DeltaDiscoveryRequest) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, proto.CloneOf(req))
			return nil
		},
	}))
	require.NoError(t, srv.SetResources(node, clusters("a", "b")))
	c, err := xdsclient.Dial(ctx, xdsclient.ServeLoopback(t, srv), node)
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()

	require.NoError(t, c.Update(xdsclient.Subscription{TypeURL: resourcev3.ClusterType, Subscribe: []string{"a"}}))
	resp, err := c.Next()
	require.NoError(t, err)
	require.Len(t, resp.GetResources(), 1)
	assert.Equal(t, "a", resp.GetResources()[0].GetName())
	require.NoError(t, c.Nack(resp, assert.AnError))

	require.NoError(t, c.Update(xdsclient.Subscription{TypeURL: resourcev3.ClusterType, Subscribe: []string{"b"}, Unsubscribe: []string{"a"}}))
	resp, err = c.Recv()
	require.NoError(t, err)
	require.Len(t, resp.GetResources(), 1)
	assert.Equal(t, "b", resp.GetResources()[0].GetName())

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 4
	}, 5*time.Second, 2*time.Millisecond, "want 4 requests: subscribe, NACK, update, ACK")
	mu.Lock()
	defer mu.Unlock()
	nack := got[1]
	assert.Equal(t, int32(codes.Internal), nack.GetErrorDetail().GetCode())
	assert.Equal(t, assert.AnError.Error(), nack.GetErrorDetail().GetMessage())
	assert.NotEmpty(t, nack.GetResponseNonce())
	assert.Equal(t, []string{"a"}, got[2].GetResourceNamesUnsubscribe())
	assert.Nil(t, got[3].GetErrorDetail(), "Recv acknowledges")
}

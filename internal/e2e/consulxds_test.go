package e2e_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/peeringgw/peeringgw/internal/e2e"
	"github.com/peeringgw/peeringgw/xds"
)

// streamLog records what an xDS server receives: the node of every delta request and
// the ACL token of every stream.
type streamLog struct {
	mu     sync.Mutex
	nodes  []*corev3.Node
	tokens [][]string
}

func (l *streamLog) request(_ int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nodes = append(l.nodes, proto.CloneOf(req.GetNode()))
	return nil
}

func (l *streamLog) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	md, _ := metadata.FromIncomingContext(ss.Context())
	l.mu.Lock()
	l.tokens = append(l.tokens, md.Get("x-consul-token"))
	l.mu.Unlock()
	return handler(srv, ss)
}

// TestWatchConsulXDS runs ConsulXDS against this library's own xDS server, which speaks
// delta xDS as Consul's does: the stream identifies itself as Envoy 1.24 with the
// gateway's ID, carries the token, and follows updates and removals.
func TestWatchConsulXDS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	log := &streamLog{}
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll), xds.WithCallbacks(serverv3.CallbackFuncs{StreamDeltaRequestFunc: log.request}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := grpc.NewServer(grpc.StreamInterceptor(log.stream))
	srv.Register(g)
	served := make(chan error, 1)
	go func() { served <- g.Serve(lis) }()
	t.Cleanup(func() {
		cancel()
		g.Stop()
		require.NoError(t, <-served)
	})

	full := &xds.Resources{
		Clusters:  []*clusterv3.Cluster{{Name: accept}, {Name: peer}},
		Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: accept}},
		Listeners: []*listenerv3.Listener{{Name: "default:127.0.0.1:8443"}},
	}
	require.NoError(t, srv.SetResources("gw", full))
	c := e2e.WatchConsulXDS(t, lis.Addr().String(), "gw", "secret")
	waitResources(t, c, full)

	// A removal reaches the view too.
	less := &xds.Resources{Clusters: full.Clusters[:1], Endpoints: full.Endpoints, Listeners: full.Listeners}
	require.NoError(t, srv.SetResources("gw", less))
	waitResources(t, c, less)
	require.NoError(t, c.Err())
	assert.GreaterOrEqual(t, c.Responses(), 4, "got %d responses, want one per type and the update", c.Responses())

	log.mu.Lock()
	defer log.mu.Unlock()
	assert.Equal(t, [][]string{{"secret"}}, log.tokens, "got tokens %v, want one stream with the token", log.tokens)
	require.NotEmpty(t, log.nodes)
	for _, n := range log.nodes {
		assert.Equal(t, "gw", n.GetId(), "got node ID %q, want gw", n.GetId())
		assert.Equal(t, "envoy", n.GetUserAgentName(), "got user agent %q, want envoy", n.GetUserAgentName())
		v := n.GetUserAgentBuildVersion().GetVersion()
		assert.Equal(t, []uint32{1, 24}, []uint32{v.GetMajorNumber(), v.GetMinorNumber()}, "got Envoy version %v, want 1.24", v)
	}
}

func waitResources(t *testing.T, c *e2e.ConsulXDS, want *xds.Resources) {
	t.Helper()
	e2e.Eventually(t, 10*time.Second, func() error {
		got, err := c.Resources()
		if err != nil {
			return err
		}
		diff, err := e2e.Diff(want, got)
		if err != nil || diff != "" {
			return fmt.Errorf("got other resources (%v):\n%s", err, diff)
		}
		return nil
	})
}

package load_test

import (
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/internal/xdsclient"
	"github.com/peeringgw/peeringgw/xds"
)

// TestRecorderNack checks that a rejected response is counted as a NACK and does not
// count towards the sync.
func TestRecorderNack(t *testing.T) {
	b := xds.NewBuilder()
	b.Set(load.State(2))
	rec := load.NewRecorder(map[string]int{resourcev3.ClusterType: 3})
	srv := xds.NewServer(t.Context(), xds.WithAuthorizers(xds.AllowAll), xds.WithCallbacks(rec))
	require.NoError(t, srv.SetResources(load.GatewayID, b.Resources()))
	addr, _ := serve(t, srv)
	c, err := xdsclient.Dial(t.Context(), dial(t, addr), load.GatewayID)
	require.NoError(t, err)
	require.NoError(t, c.Subscribe(resourcev3.ClusterType))
	resp, err := c.Next()
	require.NoError(t, err)
	require.NoError(t, c.Nack(resp, assert.AnError))
	require.Eventually(t, func() bool { return rec.Nacks() == 1 }, 10*time.Second, time.Millisecond, "got %d NACKs, want 1", rec.Nacks())
	assert.Zero(t, rec.Synced(load.Delta), "got a stream synced by a rejected response, want none")
	assert.Equal(t, 1, rec.Open(), "got %d open streams, want 1", rec.Open())
	require.NoError(t, c.Close())
}

// TestRecorderStreamIDs checks that a delta and a state-of-the-world stream open at
// once are followed apart: go-control-plane numbers each kind from 1, so both are
// stream 1.
func TestRecorderStreamIDs(t *testing.T) {
	b := xds.NewBuilder()
	b.Set(load.State(2))
	rec := load.NewRecorder(map[string]int{resourcev3.ClusterType: 3, resourcev3.EndpointType: 3, resourcev3.ListenerType: 1})
	srv := xds.NewServer(t.Context(), xds.WithAuthorizers(xds.AllowAll), xds.WithCallbacks(rec))
	require.NoError(t, srv.SetResources(load.GatewayID, b.Resources()))
	addr, _ := serve(t, srv)
	conn := dial(t, addr)
	gw := load.Gateway{NodeID: load.GatewayID, Subscription: load.Full, Watch: load.PeerServerName(0)}
	stopDelta := runGateway(t, gw, load.Delta, conn)
	stopSotW := runGateway(t, gw, load.SotW, conn)
	require.Eventually(t, func() bool { return rec.Synced(load.Delta) == 1 && rec.Synced(load.SotW) == 1 },
		10*time.Second, time.Millisecond, "got %d delta and %d sotw streams synced, want 1 each", rec.Synced(load.Delta), rec.Synced(load.SotW))
	assert.Equal(t, 2, rec.Open(), "got %d streams open, want 2", rec.Open())
	stopDelta()
	require.Eventually(t, func() bool { return rec.Open() == 1 }, 10*time.Second, time.Millisecond, "got %d streams open, want the sotw one", rec.Open())
	stopSotW()
	require.Eventually(t, func() bool { return rec.Open() == 0 }, 10*time.Second, time.Millisecond, "got %d streams open, want none", rec.Open())
}

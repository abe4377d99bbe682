package load_test

import (
	"context"
	"net"
	"testing"
	"time"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/xds"
)

// TestFleet runs a small fleet of each protocol in this process, changes the watched
// peer, and checks that every client ended holding the change.
func TestFleet(t *testing.T) {
	const clients, peers = 5, 20
	for _, p := range []load.Protocol{load.Delta, load.SotW} {
		t.Run(p.String(), func(t *testing.T) {
			b := xds.NewBuilder()
			state := load.State(peers)
			b.Set(state)
			rec := load.NewRecorder(map[string]int{
				resourcev3.ClusterType: peers + 1, resourcev3.EndpointType: peers + 1, resourcev3.ListenerType: 1,
			})
			srv := xds.NewServer(t.Context(), xds.WithAuthorizers(xds.AllowAll), xds.WithCallbacks(rec))
			require.NoError(t, srv.SetResources(load.GatewayID, b.Resources()))
			addr, _ := serve(t, srv)
			watch := load.PeerServerName(3)
			f := load.Fleet{Addr: addr, Clients: clients, Protocol: p, Ramp: 2,
				Gateway: load.Gateway{NodeID: load.GatewayID, Subscription: load.Full, Watch: watch}}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			type result struct {
				out []load.Outcome
				err error
			}
			done := make(chan result, 1)
			go func() {
				out, err := f.Run(ctx)
				done <- result{out, err}
			}()
			require.Eventually(t, func() bool { return rec.Synced(p) == clients }, 30*time.Second, time.Millisecond,
				"got %d clients synced, want %d", rec.Synced(p), clients)
			ch := b.Set(load.WithPeering(state, load.Peering(3, true)))
			value, err := cachev3.MarshalResource(ch.Endpoints[0])
			require.NoError(t, err)
			rec.Measure(watch, value, time.Now())
			require.NoError(t, srv.Apply(load.GatewayID, ch))
			require.Eventually(t, func() bool { return len(rec.Converged(p)) == clients }, 30*time.Second, time.Millisecond,
				"got %d clients with the change, want %d", len(rec.Converged(p)), clients)
			cancel()
			r := <-done
			require.NoError(t, r.err)
			require.Len(t, r.out, 1, "got outcomes %+v, want all clients alike", r.out)
			got := r.out[0]
			got.Responses = 0
			want := load.Outcome{Clients: clients, Clusters: peers + 1, Endpoints: peers + 2, Listeners: 1,
				Watched: load.PeerAddresses(3, true)}
			assert.Equal(t, want, got, "got outcome %+v, want %+v", got, want)
		})
	}
}

// TestFleetErrors checks a fleet configured wrongly, and one whose server is gone.
func TestFleetErrors(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := lis.Addr().String()
	require.NoError(t, lis.Close())

	_, err = load.Fleet{Addr: dead, Clients: -1}.Run(t.Context())
	require.ErrorIs(t, err, load.ErrBadConfig)
	_, err = load.Fleet{Addr: dead, Clients: 1, Ramp: -1}.Run(t.Context())
	require.ErrorIs(t, err, load.ErrBadConfig)

	for _, p := range []load.Protocol{load.Delta, load.SotW} {
		out, err := load.Fleet{Addr: dead, Clients: 3, Protocol: p, Gateway: load.Gateway{NodeID: load.GatewayID}}.Run(t.Context())
		require.NoError(t, err)
		require.Len(t, out, 1, "got outcomes %+v, want all clients alike", out)
		assert.Equal(t, 3, out[0].Clients, "got %d clients, want 3", out[0].Clients)
		assert.Contains(t, out[0].Err, "connection refused", "got outcome %+v, want the connection refused", out[0])
	}
}

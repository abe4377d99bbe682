package load_test

import (
	"context"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// TestResourceName checks that the name is read from the wire form of each resource
// type, and that a malformed one is refused.
func TestResourceName(t *testing.T) {
	tests := []struct {
		name    string
		msg     proto.Message
		raw     []byte
		want    string
		wantErr error
	}{
		{name: "cluster", msg: &clusterv3.Cluster{Name: "a", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}}, want: "a"},
		{name: "endpoints", msg: &endpointv3.ClusterLoadAssignment{ClusterName: "b", Endpoints: []*endpointv3.LocalityLbEndpoints{{}}}, want: "b"},
		{name: "listener", msg: &listenerv3.Listener{Name: "c", StatPrefix: "s"}, want: "c"},
		{name: "no name", msg: &clusterv3.Cluster{ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}}, want: ""},
		{name: "truncated", raw: []byte{0x0a, 0x05, 'a'}, wantErr: load.ErrUnexpected},
		{name: "bad tag", raw: []byte{0xff}, wantErr: load.ErrUnexpected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw
			if tt.msg != nil {
				var err error
				raw, err = proto.Marshal(tt.msg)
				require.NoError(t, err)
			}
			got, err := load.ResourceName(raw)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "got name %q, want %q", got, tt.want)
		})
	}
}

// TestSubscription checks the names of the subscriptions and their parsing.
func TestSubscription(t *testing.T) {
	tests := []struct {
		text    string
		want    load.Subscription
		wantErr error
	}{
		{text: "full", want: load.Full},
		{text: "watched", want: load.Watched},
		{text: "Full", wantErr: load.ErrBadConfig},
		{text: "", wantErr: load.ErrBadConfig},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := load.ParseSubscription(tt.text)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.text, got.String())
		})
	}
}

// gatewayState is load.State(3) plus a peer whose addresses are hostnames, which gets a
// STRICT_DNS cluster and no endpoints to subscribe to.
func gatewayState() *peering.State {
	s := load.State(3)
	p := load.Peering(3, false)
	p.PeerServerAddresses = []string{"peer.example.com:8443"}
	s.Peerings = append(s.Peerings, p)
	return s
}

// TestGateway runs one client of each protocol and subscription against a server with
// a Recorder, changes the watched peer, and checks what the client held at the end and
// what the Recorder saw.
func TestGateway(t *testing.T) {
	watch := load.PeerServerName(1)
	tests := []struct {
		name  string
		proto load.Protocol
		sub   load.Subscription
		// endpoints is the number of endpoints the client subscribes to: the accept side
		// and the three IP peers, not the hostname peer.
		endpoints int
	}{
		{name: "delta full", proto: load.Delta, sub: load.Full, endpoints: 4},
		{name: "delta watched", proto: load.Delta, sub: load.Watched, endpoints: 1},
		{name: "sotw full", proto: load.SotW, sub: load.Full, endpoints: 4},
		{name: "sotw watched", proto: load.SotW, sub: load.Watched, endpoints: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := xds.NewBuilder()
			state := gatewayState()
			b.Set(state)
			rec := load.NewRecorder(map[string]int{
				resourcev3.ClusterType: 5, resourcev3.EndpointType: tt.endpoints, resourcev3.ListenerType: 1,
			})
			srv := xds.NewServer(t.Context(), xds.WithAuthorizers(xds.AllowAll), xds.WithCallbacks(rec))
			require.NoError(t, srv.SetResources(load.GatewayID, b.Resources()))
			addr, _ := serve(t, srv)
			conn := dial(t, addr)
			synced := make(chan struct{})
			gw := load.Gateway{NodeID: load.GatewayID, Subscription: tt.sub, Watch: watch, OnSynced: func() { close(synced) }}
			stop := runGateway(t, gw, tt.proto, conn)
			<-synced
			// The client has sent its acknowledgements; the server reads them on its own.
			require.Eventually(t, func() bool { return rec.Synced(tt.proto) == 1 }, 10*time.Second, time.Millisecond,
				"got %d streams synced, want 1", rec.Synced(tt.proto))

			ch := b.Set(load.WithPeering(state, load.Peering(1, true)))
			value, err := cachev3.MarshalResource(ch.Endpoints[0])
			require.NoError(t, err)
			rec.Measure(watch, value, time.Now())
			require.NoError(t, srv.Apply(load.GatewayID, ch))
			require.Eventually(t, func() bool { return len(rec.Converged(tt.proto)) == 1 }, 10*time.Second, time.Millisecond,
				"got no %s stream acknowledging the change", tt.proto)

			got := stop()
			assert.Equal(t, 5, got.Clusters, "got %d clusters, want 5", got.Clusters)
			assert.Equal(t, tt.endpoints+1, got.Endpoints, "got %d endpoints received, want %d", got.Endpoints, tt.endpoints+1)
			assert.Equal(t, 1, got.Listeners, "got %d listeners, want 1", got.Listeners)
			assert.Zero(t, got.Removed, "got %d removals, want none", got.Removed)
			assert.Empty(t, cmpEndpoints(got.Watched, ch.Endpoints[0]), "got watched endpoints %v, want the changed ones", got.Watched)
			assert.Zero(t, rec.Nacks(), "got %d NACKs, want none", rec.Nacks())
			require.Eventually(t, func() bool { return rec.Open() == 0 }, 10*time.Second, time.Millisecond, "got streams open after the client left")
		})
	}
}

// cmpEndpoints returns a description of the difference between got and want, or "".
func cmpEndpoints(got, want *endpointv3.ClusterLoadAssignment) string {
	if proto.Equal(got, want) {
		return ""
	}
	return "got " + got.String() + ", want " + want.String()
}

// dial connects to addr and closes the connection when the test ends.
func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, conn.Close()) })
	return conn
}

// runGateway runs gw over protocol p on conn and returns a function that stops it and
// returns what it held.
func runGateway(t *testing.T, gw load.Gateway, p load.Protocol, conn *grpc.ClientConn) func() load.Holdings {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	run := gw.RunDelta
	if p == load.SotW {
		run = gw.RunSotW
	}
	type result struct {
		h   load.Holdings
		err error
	}
	done := make(chan result, 1)
	go func() {
		h, err := run(ctx, conn)
		done <- result{h, err}
	}()
	return func() load.Holdings {
		cancel()
		r := <-done
		require.NoError(t, r.err)
		return r.h
	}
}

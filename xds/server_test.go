package xds_test

import (
	"context"
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	sotwclient "github.com/envoyproxy/go-control-plane/pkg/client/sotw/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/internal/xdsclient"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

const testNode = "mesh-gateway"

// recvType receives delta responses until it has one of type typ; any other type fails.
func recvType(t *testing.T, c *xdsclient.Client, typ string) *discoveryv3.DeltaDiscoveryResponse {
	t.Helper()
	resp, err := c.Recv()
	require.NoError(t, err)
	require.Equal(t, typ, resp.GetTypeUrl(), "got a response of another type")
	return resp
}

func resourceNames(resp *discoveryv3.DeltaDiscoveryResponse) []string {
	var names []string
	for _, r := range resp.GetResources() {
		names = append(names, r.GetName())
	}
	slices.Sort(names)
	return names
}

// TestDeltaSendsOnlyChangedResources connects a delta ADS client to a gateway with 1,000
// peers, changes one peer's addresses, and checks the client receives exactly that
// peer's endpoints and nothing else.
func TestDeltaSendsOnlyChangedResources(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 1000
	builder := xds.NewBuilder()
	builder.Set(benchState(n))
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll))
	require.NoError(t, srv.SetResources(testNode, builder.Resources()))

	client, err := xdsclient.Dial(ctx, xdsclient.ServeLoopback(t, srv), testNode)
	require.NoError(t, err)
	defer client.Close()

	require.NoError(t, client.Subscribe(resourcev3.ClusterType))
	clusters := recvType(t, client, resourcev3.ClusterType)
	require.Len(t, clusters.GetResources(), n+1)
	var edsNames []string
	for _, r := range clusters.GetResources() {
		var c clusterv3.Cluster
		require.NoError(t, r.GetResource().UnmarshalTo(&c))
		if c.GetType() == clusterv3.Cluster_EDS {
			edsNames = append(edsNames, c.GetName())
		}
	}
	require.NoError(t, client.Subscribe(resourcev3.EndpointType, edsNames...))
	require.Len(t, recvType(t, client, resourcev3.EndpointType).GetResources(), n+1)
	require.NoError(t, client.Subscribe(resourcev3.ListenerType))
	require.Len(t, recvType(t, client, resourcev3.ListenerType).GetResources(), 1)

	state := benchState(n)
	for _, i := range []int{7, 512} {
		state = load.WithPeering(state, load.Peering(i, true))
		require.NoError(t, srv.Apply(testNode, builder.Set(state)))
		got := recvType(t, client, resourcev3.EndpointType)
		require.Equal(t, []string{load.PeerServerName(i)}, resourceNames(got),
			"after changing peer %d, the client must receive only its endpoints", i)
		require.Empty(t, got.GetRemovedResources())
	}

	// Re-applying the same addresses changes nothing, so nothing is sent: the next
	// response the client sees is the one for a later, real change.
	state = load.WithPeering(state, load.Peering(7, true))
	require.NoError(t, srv.Apply(testNode, builder.Set(state)))
	state = load.WithPeering(state, load.Peering(9, true))
	require.NoError(t, srv.Apply(testNode, builder.Set(state)))
	require.Equal(t, []string{load.PeerServerName(9)}, resourceNames(recvType(t, client, resourcev3.EndpointType)))

	// Removing a peering removes its cluster and endpoints and its listener chain.
	state = withoutPeering(state, "peer-3")
	require.NoError(t, srv.Apply(testNode, builder.Set(state)))
	gotTypes := map[string]*discoveryv3.DeltaDiscoveryResponse{}
	for range 3 {
		resp, err := client.Recv()
		require.NoError(t, err)
		gotTypes[resp.GetTypeUrl()] = resp
	}
	require.Equal(t, []string{load.PeerServerName(3)}, gotTypes[resourcev3.ClusterType].GetRemovedResources())
	require.Equal(t, []string{load.PeerServerName(3)}, gotTypes[resourcev3.EndpointType].GetRemovedResources())
	require.Len(t, gotTypes[resourcev3.ListenerType].GetResources(), 1)
}

// TestStateOfTheWorld serves the same gateway to go-control-plane's state-of-the-world
// ADS client: clusters come as a full set, again in full after a peering is added.
func TestStateOfTheWorld(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 50
	builder := xds.NewBuilder()
	state := benchState(n)
	builder.Set(state)
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll))
	require.NoError(t, srv.SetResources(testNode, builder.Resources()))

	client := sotwclient.NewADSClient(ctx, &corev3.Node{Id: testNode}, resourcev3.ClusterType)
	require.NoError(t, client.InitConnect(xdsclient.ServeLoopback(t, srv)))
	resp, err := client.Fetch()
	require.NoError(t, err)
	require.Len(t, resp.Resources, n+1)
	require.NoError(t, client.Ack())

	require.NoError(t, srv.Apply(testNode, builder.Set(load.WithPeering(state, load.Peering(n, false)))))
	resp, err = client.Fetch()
	require.NoError(t, err)
	require.Len(t, resp.Resources, n+2, "a state-of-the-world cluster response carries every cluster")
}

// withoutPeering returns a copy of s without the default partition's peering name.
func withoutPeering(s *peering.State, name string) *peering.State {
	next := *s
	next.Peerings = slices.DeleteFunc(slices.Clone(s.Peerings), func(q peering.Peering) bool { return q.Key() == "default/"+name })
	return &next
}

package xds_test

import (
	"context"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/internal/xdsclient"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// startLoop serves ts's gateway from a new Server and Loop until the test ends, and
// waits until the first State is served.
func startLoop(t *testing.T, ts *testSources) (*xds.Server, *xds.Loop) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll))
	loop, err := xds.NewLoop(srv, []xds.Gateway{{ID: testNode, Sources: ts.sources()}},
		xds.WithWatchOptions(peering.WithQuietPeriod(0)))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	waitServed(t, srv, ts.state, "first State")
	return srv, loop
}

// subscribeAll subscribes c to every cluster, endpoint and listener of a gateway with n
// peers and returns the versions it received, by type and name.
func subscribeAll(t *testing.T, c *xdsclient.Client, initial map[string]map[string]string, n int) map[string]map[string]string {
	t.Helper()
	got := map[string]map[string]string{}
	record := func(resp *discoveryv3.DeltaDiscoveryResponse) {
		m := got[resp.GetTypeUrl()]
		if m == nil {
			m = map[string]string{}
			got[resp.GetTypeUrl()] = m
		}
		for _, r := range resp.GetResources() {
			m[r.GetName()] = r.GetVersion()
		}
	}
	var names []string
	for i := range n {
		names = append(names, load.PeerServerName(i))
	}
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType} {
		sub := xdsclient.Subscription{TypeURL: typ, InitialVersions: initial[typ]}
		if typ == resourcev3.EndpointType {
			sub.Subscribe = names
		}
		require.NoError(t, c.Update(sub))
		if initial == nil {
			record(recvType(t, c, typ))
		}
	}
	return got
}

// TestLoopDeltaClient connects a delta xDS client through the Loop: a changed peering
// sends only its endpoints, a new one its cluster, endpoints and the listener; and a
// restarted control plane serves the same versions for the same content, so that a
// client that reconnects with the versions it holds receives nothing again.
func TestLoopDeltaClient(t *testing.T) {
	const n = 50
	state := load.State(n)
	ts := newTestSources(state)
	srv, loop := startLoop(t, ts)
	client, err := xdsclient.Dial(t.Context(), xdsclient.ServeLoopback(t, srv), testNode)
	require.NoError(t, err)
	defer client.Close()
	held := subscribeAll(t, client, nil, n)
	require.Len(t, held[resourcev3.ClusterType], n+1)

	state = load.WithPeering(state, load.Peering(7, true))
	ts.set(state)
	got := recvType(t, client, resourcev3.EndpointType)
	require.Equal(t, []string{load.PeerServerName(7)}, resourceNames(got), "a changed peering sends only its endpoints")
	held[resourcev3.EndpointType][load.PeerServerName(7)] = got.GetResources()[0].GetVersion()

	state = load.WithPeering(state, load.Peering(n, false))
	ts.set(state)
	byType := map[string]*discoveryv3.DeltaDiscoveryResponse{}
	for range 2 {
		resp, err := client.Recv()
		require.NoError(t, err)
		byType[resp.GetTypeUrl()] = resp
	}
	// As Envoy does, the client then asks for the new cluster's endpoints.
	require.NoError(t, client.Subscribe(resourcev3.EndpointType, load.PeerServerName(n)))
	byType[resourcev3.EndpointType] = recvType(t, client, resourcev3.EndpointType)
	require.Equal(t, []string{load.PeerServerName(n)}, resourceNames(byType[resourcev3.EndpointType]))
	require.Equal(t, []string{load.PeerServerName(n)}, resourceNames(byType[resourcev3.ClusterType]))
	require.Equal(t, []string{"default:1.2.3.4:8443"}, resourceNames(byType[resourcev3.ListenerType]))
	var c clusterv3.Cluster
	require.NoError(t, byType[resourcev3.ClusterType].GetResources()[0].GetResource().UnmarshalTo(&c))
	require.Equal(t, load.PeerServerName(n), c.GetName())
	for typ, resp := range byType {
		for _, r := range resp.GetResources() {
			held[typ][r.GetName()] = r.GetVersion()
		}
	}

	// A second control plane, started afresh with the same content.
	ts2 := newTestSources(state)
	srv2, loop2 := startLoop(t, ts2)
	st, _ := loop.Status(testNode)
	st2, _ := loop2.Status(testNode)
	require.Equal(t, st.Version, st2.Version, "the same content must give the same version in a new control plane")
	client2, err := xdsclient.Dial(t.Context(), xdsclient.ServeLoopback(t, srv2), testNode)
	require.NoError(t, err)
	defer client2.Close()
	subscribeAll(t, client2, held, n+1)
	// Nothing is sent for what the client holds: the server may answer the wildcard
	// subscriptions with empty responses, and the first resource it sends is the next
	// change.
	ts2.set(load.WithPeering(state, load.Peering(9, true)))
	for {
		got, err = client2.Recv()
		require.NoError(t, err)
		if len(got.GetResources())+len(got.GetRemovedResources()) > 0 {
			break
		}
	}
	require.Equal(t, resourcev3.EndpointType, got.GetTypeUrl(), "got resources again after reconnecting with their versions")
	require.Equal(t, []string{load.PeerServerName(9)}, resourceNames(got))
	require.Empty(t, got.GetRemovedResources())
	require.Eventually(t, func() bool { s, _ := loop2.Status(testNode); return s.Version != st2.Version }, 5*time.Second, time.Millisecond)
}

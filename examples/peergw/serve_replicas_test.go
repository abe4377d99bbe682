package main

import (
	"syscall"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/peeringgw/peeringgw/internal/xdsclient"
)

// versionsOf returns the versions of what a delta client holds of type typ, by name.
func versionsOf(got received, typ string) map[string]string {
	out := map[string]string{}
	for name, r := range got[typ] {
		out[name] = r.GetVersion()
	}
	return out
}

// sotwClusters opens a state-of-the-world stream for the clusters of gw-1, sending
// version as the version it holds ("" for none).
func sotwClusters(t *testing.T, conn *grpc.ClientConn, version string) discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient {
	t.Helper()
	s, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(t.Context())
	require.NoError(t, err)
	require.NoError(t, s.Send(&discoveryv3.DiscoveryRequest{
		Node: &corev3.Node{Id: "gw-1"}, TypeUrl: resourcev3.ClusterType, VersionInfo: version,
	}))
	return s
}

// TestServeReplicas runs two "peergw serve" processes against the same Consul. They
// serve the same resources with the same versions, over delta and state of the world;
// an Envoy that fails over from one to the other with what it holds receives nothing
// again; and once the first is killed, the second serves the next change alone.
func TestServeReplicas(t *testing.T) {
	t.Parallel()
	dc1, client, gw := startServedConsul(t)
	env := []string{"CONSUL_HTTP_ADDR=" + dc1.HTTPAddr}
	a := startServe(t, env, "-gateway-id", "gw-1")
	b := startServe(t, env, "-gateway-id", "gw-1")
	types := []string{resourcev3.ClusterType, resourcev3.ListenerType}
	full := func(r received) bool {
		return len(r[resourcev3.ClusterType]) == 1 && len(r[resourcev3.ListenerType]) == 1
	}

	// Both replicas serve the same versions, delta and state of the world.
	fromA, fromB := received{}, received{}
	for _, c := range []struct {
		p   *serveProc
		got received
	}{{a, fromA}, {b, fromB}} {
		x, err := xdsclient.Dial(t.Context(), c.p.dialXDS(t), "gw-1")
		require.NoError(t, err)
		for _, typ := range types {
			require.NoError(t, x.Subscribe(typ))
		}
		recvUntil(t, x, c.got, full)
		require.NoError(t, x.Close())
	}
	for _, typ := range types {
		require.Equal(t, versionsOf(fromA, typ), versionsOf(fromB, typ), "replicas serve other %s versions", typ)
	}
	sotwA := sotwClusters(t, a.dialXDS(t), "")
	first, err := sotwA.Recv()
	require.NoError(t, err)
	sotwB := sotwClusters(t, b.dialXDS(t), "")
	other, err := sotwB.Recv()
	require.NoError(t, err)
	require.Equal(t, first.GetVersionInfo(), other.GetVersionInfo(), "replicas serve other state-of-the-world versions")

	// A delta client fails over to b with the versions it got from a: b sends nothing
	// (the empty answer that ends Envoy's initialisation), and a state-of-the-world
	// client with a's version waits.
	x, err := xdsclient.Dial(t.Context(), b.dialXDS(t), "gw-1")
	require.NoError(t, err)
	for _, typ := range types {
		require.NoError(t, x.Update(xdsclient.Subscription{TypeURL: typ, InitialVersions: versionsOf(fromA, typ)}))
	}
	for range types {
		resp, err := x.Recv()
		require.NoError(t, err)
		assert.Empty(t, resp.GetResources(), "got %s resources again after failing over", resp.GetTypeUrl())
		assert.Empty(t, resp.GetRemovedResources(), "got %s removals after failing over", resp.GetTypeUrl())
	}
	failedOver := sotwClusters(t, b.dialXDS(t), first.GetVersionInfo())

	// a dies; the next change in Consul reaches the clients of b, and it is the first
	// thing the state-of-the-world client hears.
	a.signal(t, syscall.SIGKILL)
	gw.Options.ConnectTimeoutMs = 1234
	registerGateway(t, client, gw)
	got := received{}
	recvUntil(t, x, got, func(r received) bool { return len(r[resourcev3.ClusterType]) == 1 })
	var cl clusterv3.Cluster
	for _, r := range got[resourcev3.ClusterType] {
		require.NoError(t, r.GetResource().UnmarshalTo(&cl))
	}
	assert.Equal(t, 1234*time.Millisecond, cl.GetConnectTimeout().AsDuration(), "the change did not reach the client of b")
	assert.Empty(t, got[resourcev3.ListenerType], "got listeners again, which did not change")
	resp, err := failedOver.Recv()
	require.NoError(t, err)
	assert.NotEqual(t, first.GetVersionInfo(), resp.GetVersionInfo(), "the failed-over state-of-the-world client got what it held")
	require.Len(t, resp.GetResources(), 1)
	require.NoError(t, resp.GetResources()[0].UnmarshalTo(&cl))
	assert.Equal(t, 1234*time.Millisecond, cl.GetConnectTimeout().AsDuration())
}

package dataplane_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/peeringgw/peeringgw/internal/dataplane"
)

// TestDNSLookupFamily: V4_ONLY keeps the IPv4 answers, ALL keeps every answer.
func TestDNSLookupFamily(t *testing.T) {
	lookup := func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
	}
	dp := dataplane.New("gw", dataplane.WithLookup(lookup))
	defer func() { require.NoError(t, dp.Close()) }()
	all := dnsCluster("all", "peer.example", 8443, time.Hour)
	all.DnsLookupFamily = clusterv3.Cluster_ALL
	require.NoError(t, dp.Apply([]*clusterv3.Cluster{dnsCluster("v4", "peer.example", 8443, time.Hour), all}, nil, nil))
	waitStat(t, dp, "cluster.v4.membership_total", dataplane.Equal(1))
	waitStat(t, dp, "cluster.all.membership_total", dataplane.Equal(2))
}

// TestCircuitBreakers: with max_connections 1, a second connection while the first is
// open overflows and is closed; once the first ends, a new one goes through.
func TestCircuitBreakers(t *testing.T) {
	g := newGateway(t)
	a := g.backends["a.example"]
	limited := edsCluster("a.example")
	limited.CircuitBreakers = &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		MaxConnections: wrapperspb.UInt32(1), MaxPendingRequests: wrapperspb.UInt32(10), MaxRequests: wrapperspb.UInt32(100),
	}}}
	limited.EdsClusterConfig.EdsConfig.InitialFetchTimeout = durationpb.New(9999 * time.Millisecond)
	require.NoError(t, g.dp.Apply(
		[]*clusterv3.Cluster{limited},
		[]*endpointv3.ClusterLoadAssignment{loopback("a.example", a.port())},
		[]*listenerv3.Listener{gatewayListener(t, "gw", sniChain(t, "a.example"))}))

	open, err := startTLS(g.addr, "a.example", a.roots)
	require.NoError(t, err)
	_, err = exchange(g.addr, "a.example", a.roots)
	require.Error(t, err, "the second connection overflows")
	assert.Equal(t, uint64(1), g.dp.Stat("cluster.a.example.upstream_cx_overflow"))
	id, err := finish(open)
	require.NoError(t, err)
	assert.Equal(t, "a.example", id)
	require.Eventually(t, func() bool {
		_, err := exchange(g.addr, "a.example", a.roots)
		return err == nil
	}, 5*time.Second, 10*time.Millisecond, "a connection goes through once the first has ended")
}

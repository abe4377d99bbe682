package dataplane_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/peeringgw/peeringgw/internal/dataplane"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gateway is a data plane with the peering gateway shape: backends a.example (EDS),
// b.example (STRICT_DNS on localhost) and c.example (EDS, reached only through the
// sni_cluster catch-all), a listener "gw" with chains for a and b and the catch-all.
type gateway struct {
	dp       *dataplane.DataPlane
	addr     net.Addr
	backends map[string]*backend
}

func newGateway(t *testing.T, opts ...dataplane.Option) *gateway {
	t.Helper()
	g := &gateway{dp: dataplane.New("gw", opts...), backends: map[string]*backend{}}
	t.Cleanup(func() { require.NoError(t, g.dp.Close()) })
	for _, name := range []string{"a.example", "b.example", "c.example"} {
		g.backends[name] = newBackend(t, name, name)
	}
	require.NoError(t, g.dp.Apply(
		[]*clusterv3.Cluster{edsCluster("a.example"), dnsCluster("b.example", "localhost", g.backends["b.example"].port(), time.Hour), edsCluster("c.example")},
		[]*endpointv3.ClusterLoadAssignment{loopback("a.example", g.backends["a.example"].port()), loopback("c.example", g.backends["c.example"].port())},
		[]*listenerv3.Listener{gatewayListener(t, "gw", sniChain(t, "a.example"), sniChain(t, "b.example"), catchAll(t))},
	))
	g.addr = g.dp.Addr("gw")
	require.NotNil(t, g.addr)
	waitStat(t, g.dp, "cluster.b.example.membership_total", dataplane.AtLeast(1))
	return g
}

func (g *gateway) listenerStat(name string) string { return listenerStat(g.addr, name) }

// listenerStat is the Envoy name of a stat of the listener bound to addr:
// "listener.127.0.0.1_<port>.<name>".
func listenerStat(addr net.Addr, name string) string {
	return "listener." + strings.ReplaceAll(addr.String(), ":", "_") + "." + name
}

// TestRoutesBySNI sends TLS through the data plane: the client completes the handshake
// with the certificate of the backend its SNI names, so the ClientHello reached the
// backend untouched, and the payload and the half-close go through both ways.
func TestRoutesBySNI(t *testing.T) {
	g := newGateway(t)
	tests := []struct {
		name, sni, stat string
	}{
		{name: "EDS cluster by server_names", sni: "a.example", stat: "tcp.peer.a.example.downstream_cx_total"},
		{name: "STRICT_DNS cluster by server_names", sni: "b.example", stat: "tcp.peer.b.example.downstream_cx_total"},
		{name: "catch-all routes to the cluster named by the SNI", sni: "c.example", stat: "tcp.catch_all.downstream_cx_total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := exchange(g.addr, tt.sni, g.backends[tt.sni].roots)
			require.NoError(t, err)
			assert.Equal(t, tt.sni, id, "got backend %s, want %s", id, tt.sni)
			stats := g.dp.Stats()
			assert.Equal(t, uint64(1), stats[tt.stat], "got %s %d, want 1", tt.stat, stats[tt.stat])
			assert.Equal(t, uint64(1), stats["cluster."+tt.sni+".upstream_cx_total"])
		})
	}
	stats := g.dp.Stats()
	assert.Equal(t, uint64(3), stats[g.listenerStat("downstream_cx_total")])
	assert.Equal(t, uint64(3), stats["tls_inspector.sni_found"])
	assert.Zero(t, stats[g.listenerStat("no_filter_chain_match")])
	// The catch-all counts the bytes it moved, once the connection ends: the ClientHello
	// and the payload one way.
	waitStat(t, g.dp, "tcp.catch_all.downstream_cx_rx_bytes_total", dataplane.AtLeast(uint64(len(payload))+1))
}

// TestClosesUnroutable checks that connections no chain or cluster can take are closed,
// and counted where Envoy counts them.
func TestClosesUnroutable(t *testing.T) {
	g := newGateway(t)
	// A listener without the catch-all: an unknown SNI matches no chain at all.
	require.NoError(t, g.dp.Apply(
		[]*clusterv3.Cluster{edsCluster("a.example")},
		[]*endpointv3.ClusterLoadAssignment{loopback("a.example", g.backends["a.example"].port())},
		[]*listenerv3.Listener{
			gatewayListener(t, "gw", sniChain(t, "a.example"), catchAll(t)),
			gatewayListener(t, "strict", sniChain(t, "a.example")),
		},
	))
	strict := g.dp.Addr("strict")
	strictStat := listenerStat(strict, "no_filter_chain_match")
	tests := []struct {
		name  string
		addr  net.Addr
		sni   string
		plain bool
		stat  string
		want  uint64
	}{
		{name: "unknown SNI, catch-all finds no cluster", addr: g.addr, sni: "nope.example", stat: "tcp.catch_all.downstream_cx_no_route", want: 1},
		{name: "removed cluster, catch-all finds no cluster", addr: g.addr, sni: "c.example", stat: "tcp.catch_all.downstream_cx_no_route", want: 2},
		{name: "no SNI, catch-all has no cluster", addr: g.addr, stat: "tcp.catch_all.downstream_cx_no_route", want: 3},
		{name: "not TLS, catch-all has no cluster", addr: g.addr, plain: true, stat: "tcp.catch_all.downstream_cx_no_route", want: 4},
		{name: "unknown SNI, no chain matches", addr: strict, sni: "nope.example", stat: strictStat, want: 1},
		{name: "not TLS, no chain matches", addr: strict, plain: true, stat: strictStat, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireClosed(t, tt.addr, tt.sni, tt.plain)
			waitStat(t, g.dp, tt.stat, dataplane.Equal(tt.want))
		})
	}
	stats := g.dp.Stats()
	assert.Equal(t, uint64(2), stats["tls_inspector.tls_not_found"])
	assert.Equal(t, uint64(1), stats["tls_inspector.sni_not_found"])
}

// TestListenerFiltersTimeout: a client that sends nothing is closed once tls_inspector
// gives up.
func TestListenerFiltersTimeout(t *testing.T) {
	g := newGateway(t, dataplane.WithListenerFiltersTimeout(20*5*time.Millisecond))
	c, err := net.DialTimeout("tcp", g.addr.String(), ioTimeout)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(ioTimeout)))
	_, err = c.Read(make([]byte, 1))
	require.True(t, closedByPeer(err), "got %v, want the connection closed", err)
	assert.Equal(t, uint64(1), g.dp.Stat(g.listenerStat("downstream_pre_cx_timeout")))
}

// TestEndpointUpdates: new endpoints apply to new connections; endpoints are used round
// robin; a failed connect moves on to the next endpoint.
func TestEndpointUpdates(t *testing.T) {
	g := newGateway(t)
	other := newBackend(t, "a.example", "a2")
	a := g.backends["a.example"]
	roots := a.roots.Clone()
	roots.AddCert(other.cert)
	apply := func(cla *endpointv3.ClusterLoadAssignment) {
		t.Helper()
		require.NoError(t, g.dp.Apply(
			[]*clusterv3.Cluster{edsCluster("a.example")}, []*endpointv3.ClusterLoadAssignment{cla},
			[]*listenerv3.Listener{gatewayListener(t, "gw", sniChain(t, "a.example"))}))
	}
	ids := func(n int) map[string]int {
		t.Helper()
		seen := map[string]int{}
		for range n {
			id, err := exchange(g.addr, "a.example", roots)
			require.NoError(t, err)
			seen[id]++
		}
		return seen
	}

	apply(loopback("a.example", other.port()))
	assert.Equal(t, map[string]int{"a2": 2}, ids(2), "after the update every connection goes to the new endpoint")

	apply(loopback("a.example", a.port(), other.port()))
	assert.Equal(t, map[string]int{"a.example": 2, "a2": 2}, ids(4), "round robin over two endpoints")

	before := g.dp.Stat("cluster.a.example.upstream_cx_connect_fail")
	apply(loopback("a.example", deadPort(t), a.port()))
	assert.Equal(t, map[string]int{"a.example": 2}, ids(2), "a refused endpoint is skipped")
	assert.Equal(t, before+1, g.dp.Stat("cluster.a.example.upstream_cx_connect_fail"))
}

// TestConnectAttempts: with Envoy's default of one attempt, a refused endpoint closes
// the downstream connection.
func TestConnectAttempts(t *testing.T) {
	g := newGateway(t, dataplane.WithConnectAttempts(1))
	a := g.backends["a.example"]
	require.NoError(t, g.dp.Apply(
		[]*clusterv3.Cluster{edsCluster("a.example")},
		[]*endpointv3.ClusterLoadAssignment{loopback("a.example", deadPort(t), a.port())},
		[]*listenerv3.Listener{gatewayListener(t, "gw", sniChain(t, "a.example"))}))
	var ok, failed int
	for range 2 {
		if _, err := exchange(g.addr, "a.example", a.roots); err != nil {
			failed++
			continue
		}
		ok++
	}
	assert.Equal(t, [2]int{1, 1}, [2]int{ok, failed}, "got %d ok and %d failed, want one each", ok, failed)
	assert.Equal(t, uint64(1), g.dp.Stat("cluster.a.example.upstream_cx_connect_fail"))
}

// TestListenerUpdates: a new listener starts, a removed one closes its socket while its
// open connections finish, and one kept at the same address keeps its socket.
func TestListenerUpdates(t *testing.T) {
	g := newGateway(t)
	a := g.backends["a.example"]
	open, err := startTLS(g.addr, "a.example", a.roots)
	require.NoError(t, err)
	defer open.Close()

	clusters := []*clusterv3.Cluster{edsCluster("a.example")}
	endpoints := []*endpointv3.ClusterLoadAssignment{loopback("a.example", a.port())}
	require.NoError(t, g.dp.Apply(clusters, endpoints, []*listenerv3.Listener{
		gatewayListener(t, "gw", sniChain(t, "a.example")),
		gatewayListener(t, "second", sniChain(t, "a.example")),
	}))
	assert.Equal(t, g.addr, g.dp.Addr("gw"), "an unchanged address keeps its socket")
	second := g.dp.Addr("second")
	require.NotNil(t, second)
	_, err = exchange(second, "a.example", a.roots)
	require.NoError(t, err)

	require.NoError(t, g.dp.Apply(clusters, endpoints, []*listenerv3.Listener{gatewayListener(t, "second", sniChain(t, "a.example"))}))
	assert.Nil(t, g.dp.Addr("gw"))
	_, err = net.DialTimeout("tcp", g.addr.String(), ioTimeout)
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "got %v, want the removed listener's port closed", err)
	id, err := finish(open)
	require.NoError(t, err, "a connection opened before the removal runs to completion")
	assert.Equal(t, "a.example", id)
	assert.Equal(t, uint64(1), g.dp.Stat("listener_manager.total_listeners_active"))
}

// TestDNSRefresh: a STRICT_DNS cluster re-resolves every dns_refresh_rate, keeps its
// hosts when a resolution fails, and LOGICAL_DNS uses only the first address.
func TestDNSRefresh(t *testing.T) {
	var answer atomic.Pointer[[]netip.Addr]
	set := func(addrs ...string) {
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		answer.Store(&out)
	}
	lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
		if a := *answer.Load(); len(a) > 0 {
			return a, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	set("127.0.0.1", "::1", "127.0.0.2")
	dp := dataplane.New("gw", dataplane.WithLookup(lookup))
	defer func() { require.NoError(t, dp.Close()) }()
	logical := dnsCluster("logical", "peer.example", 8443, 5*time.Millisecond)
	logical.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_LOGICAL_DNS}
	require.NoError(t, dp.Apply([]*clusterv3.Cluster{dnsCluster("strict", "peer.example", 8443, 5*time.Millisecond), logical}, nil, nil))

	waitStat(t, dp, "cluster.strict.membership_total", dataplane.Equal(2))
	waitStat(t, dp, "cluster.logical.membership_total", dataplane.Equal(1))
	set("127.0.0.3")
	waitStat(t, dp, "cluster.strict.membership_total", dataplane.Equal(1))
	set()
	failures := dp.Stat("cluster.strict.update_failure")
	waitStat(t, dp, "cluster.strict.update_failure", dataplane.AtLeast(failures+2))
	assert.Equal(t, uint64(1), dp.Stat("cluster.strict.membership_total"), "a failed resolution keeps the hosts")
}

// TestClose: Close ends open connections and refuses later configuration.
func TestClose(t *testing.T) {
	g := newGateway(t)
	open, err := startTLS(g.addr, "a.example", g.backends["a.example"].roots)
	require.NoError(t, err)
	defer open.Close()
	require.NoError(t, g.dp.Close())
	_, err = open.r.ReadByte()
	require.True(t, closedByPeer(err), "got %v, want the open connection closed", err)
	require.ErrorIs(t, g.dp.Apply(nil, nil, nil), dataplane.ErrClosed)
	require.ErrorIs(t, g.dp.Run(context.Background(), nil), dataplane.ErrClosed)
}

package e2e_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/dataplane"
	"github.com/peeringgw/peeringgw/internal/e2e"
	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/peering"
)

// meshCluster is one datacenter of a two-datacenter test: an agent whose mesh config
// entry sets PeerThroughMeshGateways and one mesh gateway registered with it.
type meshCluster struct {
	agent  *testconsul.Agent
	client *api.Client
	// gateway is the gateway's registration and gatewayID its service ID.
	gateway   gateway.Registration
	gatewayID string
	// lan and wan are the gateway's service address, which the local servers dial, and
	// its WAN address, which peers dial, as "ip:port".
	lan, wan string
	// serverName is the cluster's peering server name.
	serverName string
}

// newMeshCluster starts datacenter dc, sets the mesh config entry and registers a mesh
// gateway listening on two free ports of 127.0.0.1: its service (LAN) port, which the
// local servers dial, and its WAN tagged port, which peers dial. The gateway binds its
// tagged addresses, so a data plane serving it listens on both. opts configure the
// agent further.
func newMeshCluster(t *testing.T, dc string, opts ...testconsul.Option) *meshCluster {
	t.Helper()
	a := testconsul.Start(t, append([]testconsul.Option{testconsul.WithDatacenter(dc)}, opts...)...)
	c := a.Client()
	_, err := meshconfig.Apply(t.Context(), c, true)
	require.NoError(t, err)
	ports := testconsul.FreePorts(t, 2)
	reg := gateway.Registration{
		Address: "127.0.0.1", Port: ports[0],
		WAN:     &api.ServiceAddress{Address: "127.0.0.1", Port: ports[1]},
		Options: gateway.Options{BindTaggedAddresses: true},
	}
	return &meshCluster{
		agent: a, client: c, gateway: reg, gatewayID: e2e.RegisterGateway(t, c, reg),
		lan:        net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		wan:        net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		serverName: peering.ServerName(dc, e2e.TrustDomain(t, c)),
	}
}

// TestEndToEnd peers two datacenters through mesh gateways that this library's control
// plane configures and the test data plane runs, as Consul's own integration test
// case-cross-peer-control-plane-mgw does with Envoy: the peering becomes ACTIVE,
// an exported service is imported, and both gateways count connections to the
// accepting servers' cluster.
func TestEndToEnd(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dc1, dc2 := newMeshCluster(t, "dc1"), newMeshCluster(t, "dc2")
	_, dp1 := serve(t, dc1)
	_, dp2 := serve(t, dc2)

	token, decoded := e2e.GenerateToken(t, dc1.client, "dc1-to-dc2")
	assert.Equal(t, []string{dc1.wan}, decoded.ServerAddresses, "got token addresses %v, want dc1's gateway WAN address", decoded.ServerAddresses)
	assert.Equal(t, dc1.serverName, decoded.ServerName, "got token server name %s, want %s", decoded.ServerName, dc1.serverName)
	establish(t, dc1, dc2, token)

	exportWeb(t, dc1.client, "dc1-to-dc2")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		entries, _, err := dc2.client.Health().Service("web", "", false, &api.QueryOptions{Peer: "dc2-to-dc1"})
		require.NoError(c, err)
		assert.Len(c, entries, 1, "got %d instances of web imported from dc1, want 1", len(entries))
	}, e2e.PeeringTimeout, e2e.Poll)
	p := e2e.WaitPeering(t, dc2.client, "dc2-to-dc1", e2e.PeeringTimeout, func(p *api.Peering) bool {
		return len(p.StreamStatus.ImportedServices) > 0
	})
	assert.Contains(t, p.StreamStatus.ImportedServices, "web", "got imported services %v, want web", p.StreamStatus.ImportedServices)

	// dc2's servers connected to their gateway's LAN listener, which forwarded to dc1's
	// gateway's WAN listener, which forwarded to dc1's servers.
	cx := "cluster." + dc1.serverName + ".upstream_cx_total"
	waitStat(t, dp2, listenerStat(dc2.lan), dataplane.AtLeast(1))
	waitStat(t, dp2, cx, dataplane.AtLeast(1))
	waitStat(t, dp1, listenerStat(dc1.wan), dataplane.AtLeast(1))
	waitStat(t, dp1, cx, dataplane.AtLeast(1))
	for _, dp := range []*dataplane.DataPlane{dp1, dp2} {
		assertNoRejects(t, dp)
	}
	t.Logf("dc1 gateway %s = %d, dc2 gateway %s = %d", cx, dp1.Stat(cx), cx, dp2.Stat(cx))
}

// TestEndToEndWithoutDataPlanes is the negative control of TestEndToEnd: the same two
// datacenters and gateways, with nothing serving the gateways. Dialing servers try
// their local gateway's LAN address, then the peer gateway's WAN address, so the
// secret exchange finds no server and establishing fails.
func TestEndToEndWithoutDataPlanes(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dc1, dc2 := newMeshCluster(t, "dc1"), newMeshCluster(t, "dc2")
	token, decoded := e2e.GenerateToken(t, dc1.client, "dc1-to-dc2")
	require.Equal(t, []string{dc1.wan}, decoded.ServerAddresses, "got token addresses %v, want dc1's gateway WAN address", decoded.ServerAddresses)

	began := time.Now()
	err := e2e.Establish(dc2.client, "dc2-to-dc1", token)
	t.Logf("establish failed after %s", time.Since(began).Round(time.Millisecond))
	var status api.StatusError
	require.ErrorAs(t, err, &status, "got %v, want Consul to refuse establishing", err)
	assert.Equal(t, http.StatusInternalServerError, status.Code, "got HTTP %d, want 500", status.Code)
	assert.Contains(t, status.Body, "failed to exchange peering secret", "got %q, want the secret exchange to have failed", status.Body)
	for _, addr := range []string{dc2.lan, dc1.wan} {
		assert.Contains(t, status.Body, `"`+addr+`"`, "got %q, want the exchange tried through %s", status.Body, addr)
	}

	// Consul keeps the peering it wrote before the exchange, without a stream secret, so
	// it never dials it: neither side is ACTIVE.
	for _, side := range []struct {
		c    *api.Client
		name string
	}{{dc2.client, "dc2-to-dc1"}, {dc1.client, "dc1-to-dc2"}} {
		p, _, err := side.c.Peerings().Read(context.Background(), side.name, nil)
		require.NoError(t, err)
		require.NotNil(t, p, "got no peering %s, want one", side.name)
		assert.NotEqual(t, api.PeeringStateActive, p.State, "got peering %s ACTIVE without data planes, want it not established", side.name)
	}
}

// serve starts this library's control plane for dc's gateway and a data plane connected
// to it, and waits until the data plane listens on the gateway's two addresses and
// holds the accept side's cluster with its server.
func serve(t *testing.T, dc *meshCluster) (*e2e.ControlPlane, *dataplane.DataPlane) {
	t.Helper()
	cp := e2e.StartControlPlane(t, dc.agent.Config(dc.agent.ManagementToken), dc.gatewayID)
	dp := cp.StartDataPlane(t)
	t.Cleanup(func() { assert.NoError(t, cp.ApplyErr(), "got errors serving gateway %s", dc.gatewayID) })
	waitStat(t, dp, "listener_manager.total_listeners_active", dataplane.Equal(2))
	waitStat(t, dp, "cluster."+dc.serverName+".membership_total", dataplane.Equal(1))
	_, diags := cp.Built()
	assert.Empty(t, diags, "got diagnostics %v for gateway %s, want none", diags, dc.gatewayID)
	return cp, dp
}

// establish establishes the peering of token from dialer, and waits until it is ACTIVE
// on both sides. The peering is named "<dialer dc>-to-<acceptor dc>" on the dialer and
// must be "<acceptor dc>-to-<dialer dc>" on the acceptor.
func establish(t *testing.T, acceptor, dialer *meshCluster, token string) {
	t.Helper()
	dialName := dialer.agent.Datacenter + "-to-" + acceptor.agent.Datacenter
	acceptName := acceptor.agent.Datacenter + "-to-" + dialer.agent.Datacenter
	began := time.Now()
	require.NoError(t, e2e.Establish(dialer.client, dialName, token))
	t.Logf("established in %s", time.Since(began).Round(time.Millisecond))
	e2e.WaitPeering(t, dialer.client, dialName, e2e.PeeringTimeout, e2e.Active)
	e2e.WaitPeering(t, acceptor.client, acceptName, e2e.PeeringTimeout, e2e.Active)
	t.Logf("ACTIVE on both sides %s after establishing", time.Since(began).Round(time.Millisecond))
}

// listenerStat is the data plane's count of connections accepted on address addr.
func listenerStat(addr string) string {
	return "listener." + strings.ReplaceAll(addr, ":", "_") + ".downstream_cx_total"
}

// waitStat waits for a data plane stat to satisfy ok.
func waitStat(t *testing.T, dp *dataplane.DataPlane, name string, ok func(uint64) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2e.PeeringTimeout)
	defer cancel()
	require.NoError(t, dp.WaitStat(ctx, name, ok), "stat %s (updates rejected: listeners %d, clusters %d)", name,
		dp.Stat("listener_manager.lds.update_rejected"), dp.Stat("cluster_manager.cds.update_rejected"))
}

// assertNoRejects checks that the data plane rejected none of the configuration it was
// served.
func assertNoRejects(t *testing.T, dp *dataplane.DataPlane) {
	t.Helper()
	for _, name := range []string{"cluster_manager.cds.update_rejected", "listener_manager.lds.update_rejected"} {
		assert.Zero(t, dp.Stat(name), "got %s = %d, want 0", name, dp.Stat(name))
	}
}

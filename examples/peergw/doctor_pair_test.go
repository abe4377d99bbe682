package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/dataplane"
	"github.com/peeringgw/peeringgw/internal/testconsul"
)

// startPair starts dc1 and dc2, each with a mesh gateway whose WAN address is usable.
func startPair(t *testing.T, opts ...testconsul.Option) (*testconsul.Agent, *testconsul.Agent) {
	t.Helper()
	dc1 := startConsul(t, opts...)
	dc2 := startConsul(t, append(opts, testconsul.WithDatacenter("dc2"))...)
	registerGateway(t, dc1.Client(), wanGateway)
	registerGateway(t, dc2.Client(), gateway.Registration{Address: "127.0.0.1", Port: 21443, WAN: &api.ServiceAddress{Address: "198.51.100.42", Port: 443}})
	return dc1, dc2
}

// peer establishes a peering: dc1 accepts, dc2 dials. It waits until both sides are
// ACTIVE.
func peer(t *testing.T, dc1, dc2 *testconsul.Agent) {
	t.Helper()
	token, _ := generateToken(t, dc1.Client(), "dc2")
	_, _, err := dc2.Client().Peerings().Establish(t.Context(), api.PeeringEstablishRequest{PeerName: "dc1", PeeringToken: token}, nil)
	require.NoError(t, err)
	waitPeeringState(t, dc1, "dc2", api.PeeringStateActive)
	waitPeeringState(t, dc2, "dc1", api.PeeringStateActive)
}

func waitPeeringState(t *testing.T, a *testconsul.Agent, name string, want api.PeeringState) {
	t.Helper()
	require.Eventually(t, func() bool {
		p, _, err := a.Client().Peerings().Read(t.Context(), name, nil)
		return err == nil && p != nil && p.State == want
	}, waitFor, tick, "peering %s on %s: want %s", name, a.Datacenter, want)
}

func TestDoctorPeerNotPeered(t *testing.T) {
	t.Parallel()
	dc1, dc2 := startPair(t)
	setFlag(t, dc1.Client(), true)
	setFlag(t, dc2.Client(), true)

	res, rep := runDoctorJSON(t, dc1, "", "-peer-addr", dc2.HTTPAddr)
	requireCode(t, res, exitFailure)
	f := requireFinding(t, rep, clusterLocal, idPeerNotPeered)
	assert.Equal(t, "dc2", f.Subject)
	assert.Equal(t, []string{"local/" + idPeerNotPeered}, ids(rep))
	require.Len(t, rep.Clusters, 2)
	assert.Equal(t, clusterSummary{Name: clusterPeer, Address: "http://" + dc2.HTTPAddr, Datacenter: "dc2",
		TrustDomain: rep.Clusters[1].TrustDomain, ServerName: "server.dc2.peering." + rep.Clusters[1].TrustDomain}, rep.Clusters[1])
}

// TestDoctorPeeringDirect peers two clusters without the flag: the dialer's peering goes
// to the acceptor's servers, not its gateways. Then the acceptor deletes the peering.
func TestDoctorPeeringDirect(t *testing.T) {
	t.Parallel()
	dc1, dc2 := startPair(t)
	peer(t, dc1, dc2)

	t.Run("addresses not gateways", func(t *testing.T) {
		res, rep := runDoctorJSON(t, dc2, "", "-peer-addr", dc1.HTTPAddr)
		requireCode(t, res, exitFailure)
		f := requireFinding(t, rep, clusterLocal, idPeeringNotGateways)
		assert.Equal(t, "default/dc1", f.Subject)
		assert.Contains(t, f.What, "(server dc1-server)")
		assert.Contains(t, f.Why, "only while PeerThroughMeshGateways is set there")
		requireFinding(t, rep, clusterLocal, idMeshEntryMissing)
		requireFinding(t, rep, clusterPeer, idMeshEntryMissing)
		assertNoFinding(t, rep, idPeerNotPeered)
		assertNoFinding(t, rep, idPeeringNotActive)
	})

	t.Run("peer deleted it", func(t *testing.T) {
		_, err := dc1.Client().Peerings().Delete(t.Context(), "dc2", nil)
		require.NoError(t, err)
		waitPeeringState(t, dc2, "dc1", api.PeeringStateTerminated)
		res, rep := runDoctorJSON(t, dc2, "")
		requireCode(t, res, exitFailure)
		f := requireFinding(t, rep, clusterLocal, idPeeringNotActive)
		assert.Contains(t, f.What, `peering "dc1" is TERMINATED; this cluster dials 127.0.0.1:`)
		assert.Contains(t, f.Why, "the peer deleted its side")
	})
}

// TestDoctorPeerTokenNotSent: without -peer-token, the local token never reaches the peer.
func TestDoctorPeerTokenNotSent(t *testing.T) {
	t.Parallel()
	dc1 := startConsul(t)
	var mu sync.Mutex
	var tokens []string
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens = append(tokens, r.Header.Get("X-Consul-Token"))
		mu.Unlock()
		http.Error(w, "fake peer", http.StatusInternalServerError)
	}))
	t.Cleanup(fake.Close)

	res := invocation{args: []string{"doctor", "-peer-addr", fake.URL},
		env: []string{"CONSUL_HTTP_ADDR=" + dc1.HTTPAddr, "CONSUL_HTTP_TOKEN=local-secret-token"}}.run(t)
	requireCode(t, res, exitFailure)
	assert.Contains(t, res.stderr, "peer: consul at "+fake.URL)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, tokens, "got no request at the peer")
	for _, tok := range tokens {
		assert.Empty(t, tok, "got the local token sent to the peer")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// gatewayToken creates the mesh gateway policy of acl.MeshGateway and a token for it.
func gatewayToken(t *testing.T, client *api.Client) string {
	t.Helper()
	p, err := acl.MeshGateway(acl.EditionCE)
	require.NoError(t, err)
	policy, err := p.APIPolicy("mesh-gateway", "peering through mesh gateways")
	require.NoError(t, err)
	policy, _, err = acl.CreateOrUpdate(t.Context(), client, policy)
	require.NoError(t, err)
	tok, err := acl.CreateToken(t.Context(), client, policy, "mesh gateway")
	require.NoError(t, err)
	return tok.SecretID
}

// runGateway runs a test data plane as the Envoy of gateway nodeID, configured by p.
func runGateway(t *testing.T, p *serveProc, nodeID string) *dataplane.DataPlane {
	t.Helper()
	dp := dataplane.New(nodeID)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dp.Run(ctx, p.dialXDS(t)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Logf("data plane %s: %v", nodeID, err)
		}
		require.NoError(t, dp.Close())
	})
	return dp
}

// TestDoctorHealthyPair peers two clusters through mesh gateways that run for real: each
// gateway is "peergw serve" feeding a data plane that executes the Envoy config, with
// tokens of the acl.MeshGateway policy. Doctor then finds nothing.
func TestDoctorHealthyPair(t *testing.T) {
	t.Parallel()
	const management = "0e8c9d1a-5b7f-4c2e-9a3d-1f6b8e4c2a7d"
	dcs := []*testconsul.Agent{
		startConsul(t, testconsul.WithACLs(management)),
		startConsul(t, testconsul.WithACLs(management), testconsul.WithDatacenter("dc2")),
	}
	tokens := make([]string, 2)
	gws := make([]*dataplane.DataPlane, 2)
	for i, dc := range dcs {
		client := dc.Client()
		port := freePort(t)
		addr := &api.ServiceAddress{Address: "127.0.0.1", Port: port}
		registerGateway(t, client, gateway.Registration{Address: addr.Address, Port: port, WAN: addr})
		tokens[i] = gatewayToken(t, client)
		p := startServe(t, []string{"CONSUL_HTTP_ADDR=" + dc.HTTPAddr, "CONSUL_HTTP_TOKEN=" + tokens[i]})
		gws[i] = runGateway(t, p, gateway.DefaultName)
		setFlag(t, client, true)
		listener := "default:127.0.0.1:" + strconv.Itoa(port)
		require.Eventually(t, func() bool { return gws[i].Addr(listener) != nil }, waitFor, tick, "gateway listener %s", listener)
	}
	peer(t, dcs[0], dcs[1])

	roots, _, err := dcs[0].Client().Connect().CARoots(nil)
	require.NoError(t, err)
	accept := "cluster.server.dc1.peering." + roots.TrustDomain + ".upstream_cx_total"
	assert.GreaterOrEqual(t, gws[0].Stat(accept), uint64(1), "got no connection through dc1's gateway to its servers")

	res, rep := runDoctorJSON(t, dcs[0], tokens[0], "-peer-addr", dcs[1].HTTPAddr, "-peer-token", tokens[1], "-allow-loopback")
	requireCode(t, res, exitOK)
	assert.Empty(t, rep.Findings, "got findings %v", ids(rep))
	assert.Equal(t, map[severity]int{sevError: 0, sevWarning: 0, sevInfo: 0}, rep.Summary)

	text := invocation{args: []string{"doctor", "-peer-addr", dcs[0].HTTPAddr, "-peer-token", tokens[0], "-allow-loopback"},
		env: []string{"CONSUL_HTTP_ADDR=" + dcs[1].HTTPAddr, "CONSUL_HTTP_TOKEN=" + tokens[1]}}.run(t)
	requireCode(t, text, exitOK)
	assert.Contains(t, text.stdout, "Checked local: dc2")
	assert.Contains(t, text.stdout, "Checked peer:  dc1")
	assert.Contains(t, text.stdout, "No findings.")

	res, rep = runDoctorJSON(t, dcs[0], tokens[0], "-peer-addr", dcs[1].HTTPAddr, "-peer-token", tokens[1])
	requireCode(t, res, exitFailure)
	requireFinding(t, rep, clusterLocal, idGatewayWANLoopback)
	requireFinding(t, rep, clusterPeer, idGatewayWANLoopback)
}

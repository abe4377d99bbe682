package dataplane_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/peeringgw/peeringgw/internal/dataplane"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

const trustDomain = "11111111-2222-3333-4444-555555555555.consul"

// peeringState is a gateway on 127.0.0.1:port with one local server (accept side) on
// acceptPort, a peer reached by IP on ipPort and a peer reached by hostname
// ("localhost") on dnsPort.
func peeringState(port, acceptPort, ipPort, dnsPort uint32) *peering.State {
	return &peering.State{
		Datacenter:  "dc1",
		TrustDomain: trustDomain,
		Gateway: &api.AgentService{
			Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Service: "mesh-gateway",
			Address: "127.0.0.1", Port: int(port),
		},
		MeshConfig: &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}},
		Servers: []*api.ServiceEntry{{
			Node: &api.Node{Node: "server1", Address: "127.0.0.1", Datacenter: "dc1"},
			Service: &api.AgentService{ID: "consul", Service: "consul",
				Meta: map[string]string{"grpc_tls_port": strconv.Itoa(int(acceptPort))}},
		}},
		Peerings: []peering.Peering{
			{Peering: api.Peering{Name: "peer-ip", PeerServerName: "server.dc2.peering.ip.consul", ModifyIndex: 1,
				PeerServerAddresses: []string{fmt.Sprintf("127.0.0.1:%d", ipPort)}}},
			{Peering: api.Peering{Name: "peer-dns", PeerServerName: "server.dc3.peering.dns.consul", ModifyIndex: 2,
				PeerServerAddresses: []string{fmt.Sprintf("localhost:%d", dnsPort)}}},
		},
	}
}

// TestBuildOutput serves the real output of xds.Build over delta ADS and checks that it
// routes each peering server name to its backend, TLS untouched, and closes the rest.
func TestBuildOutput(t *testing.T) {
	accept := "server.dc1.peering." + trustDomain
	backends := map[string]*backend{}
	for _, name := range []string{accept, "server.dc2.peering.ip.consul", "server.dc3.peering.dns.consul"} {
		backends[name] = newBackend(t, name, name)
	}
	port := deadPort(t)
	res, diags := xds.Build(peeringState(port, backends[accept].port(),
		backends["server.dc2.peering.ip.consul"].port(), backends["server.dc3.peering.dns.consul"].port()))
	require.Empty(t, diags)
	require.NoError(t, res.Validate())
	require.Len(t, res.Listeners, 1)

	ads := newADSServer(t)
	require.NoError(t, ads.srv.SetResources("gw", res))
	dp := ads.run(t)
	gw := addr(t, dp, res.Listeners[0].GetName())
	assert.Equal(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String(), gw.String())
	for name := range backends {
		waitStat(t, dp, "cluster."+name+".membership_total", dataplane.Equal(1))
	}

	for name, b := range backends {
		t.Run(name, func(t *testing.T) {
			requireRoute(t, gw, name, b.roots, name)
		})
	}
	requireClosed(t, gw, "server.dc4.peering.unknown.consul", false)
	requireClosed(t, gw, "", true)
	waitStat(t, dp, "tcp.mesh_gateway_local.default.downstream_cx_no_route", dataplane.Equal(2))
	stats := dp.Stats()
	assert.Equal(t, uint64(1), stats["tcp.mesh_gateway_local_peering_server.default.dc1.downstream_cx_total"])
	assert.Equal(t, uint64(1), stats["tcp.mesh_gateway_remote_peering_servers.server.dc2.peering.ip.consul.downstream_cx_total"])
	assert.Equal(t, uint64(1), stats["tcp.mesh_gateway_remote_peering_servers.server.dc3.peering.dns.consul.downstream_cx_total"])
	assert.Equal(t, uint64(5), stats[listenerStat(gw, "downstream_cx_total")])
	assert.Zero(t, stats["cluster_manager.cds.update_rejected"])
	assert.Zero(t, stats["listener_manager.lds.update_rejected"])
}

// TestAcceptsConformanceCases applies the output of xds.Build for every conformance case,
// listeners moved to 127.0.0.1 on free ports: the data plane implements all of it.
func TestAcceptsConformanceCases(t *testing.T) {
	states, err := filepath.Glob("../../xds/testdata/conformance/*/state.json")
	require.NoError(t, err)
	require.NotEmpty(t, states)
	noDNS := func(_ context.Context, host string) ([]netip.Addr, error) {
		return nil, &net.DNSError{Err: "no network in tests", Name: host}
	}
	for _, path := range states {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			s, err := peering.DecodeState(f)
			require.NoError(t, err)
			res, _ := xds.Build(s)
			dp := dataplane.New("gw", dataplane.WithLookup(noDNS))
			defer func() { require.NoError(t, dp.Close()) }()
			require.NoError(t, dp.Apply(res.Clusters, res.Endpoints, onLoopback(res.Listeners)))
			for _, l := range res.Listeners {
				assert.NotNil(t, dp.Addr(l.GetName()), "listener %s is not bound", l.GetName())
			}
		})
	}
}

// onLoopback returns copies of listeners bound to 127.0.0.1 on any free port.
func onLoopback(ls []*listenerv3.Listener) []*listenerv3.Listener {
	out := make([]*listenerv3.Listener, 0, len(ls))
	for _, l := range ls {
		c := proto.CloneOf(l)
		c.Address = &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "127.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 0}}}}
		out = append(out, c)
	}
	return out
}

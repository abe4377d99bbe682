package xds_test

import (
	"encoding/json"
	"errors"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// mixedState has every kind of peering resource: accept side, IP peers, a hostname peer,
// and two bind addresses.
func mixedState() *peering.State {
	s := benchState(3)
	s.Gateway.TaggedAddresses = map[string]api.ServiceAddress{
		"lan": {Address: "1.2.3.4", Port: 8443},
		"wan": {Address: "198.18.0.1", Port: 443},
	}
	s.Gateway.Proxy = &api.AgentServiceConnectProxyConfig{Config: map[string]any{
		"envoy_gateway_bind_tagged_addresses": true,
	}}
	s.Peerings = append(s.Peerings, peering.Peering{Peering: api.Peering{
		Name: "peer-dns", ModifyIndex: 9, PeerServerName: "server.dc9.peering.td-nine",
		PeerServerAddresses: []string{"gw.dc9.example.com:443"},
	}})
	return s
}

// TestNoTLSTermination asserts the gateway never terminates peering traffic: no cluster
// has a transport socket, and no listener or filter chain has one either.
func TestNoTLSTermination(t *testing.T) {
	res, _ := xds.Build(mixedState())
	require.NotEmpty(t, res.Clusters)
	for _, c := range res.Clusters {
		require.Nil(t, c.GetTransportSocket(), "cluster %s has a transport socket", c.GetName())
		require.Empty(t, c.GetTransportSocketMatches(), "cluster %s has transport socket matches", c.GetName())
	}
	require.Len(t, res.Listeners, 2, "default and wan; lan shares the default address")
	for _, l := range res.Listeners {
		require.Nil(t, l.GetDefaultFilterChain(), "listener %s", l.GetName())
		for _, fc := range l.GetFilterChains() {
			require.Nil(t, fc.GetTransportSocket(), "listener %s has a chain with a transport socket", l.GetName())
			for _, f := range fc.GetFilters() {
				require.Contains(t, []string{"envoy.filters.network.tcp_proxy", "envoy.filters.network.sni_cluster"}, f.GetName())
			}
		}
	}
}

// TestDeterministic builds the same State twice, and the State with its peerings in
// another order (no ties), and requires byte-identical output.
func TestDeterministic(t *testing.T) {
	s := mixedState()
	a, _ := xds.Build(s)
	b, _ := xds.Build(s)
	ja, err := json.Marshal(a)
	require.NoError(t, err)
	jb, err := json.Marshal(b)
	require.NoError(t, err)
	require.Equal(t, string(ja), string(jb))

	reversed := mixedState()
	for i, j := 0, len(reversed.Peerings)-1; i < j; i, j = i+1, j-1 {
		reversed.Peerings[i], reversed.Peerings[j] = reversed.Peerings[j], reversed.Peerings[i]
	}
	c, _ := xds.Build(reversed)
	jc, err := json.Marshal(c)
	require.NoError(t, err)
	require.Equal(t, string(ja), string(jc), "peering order must not matter without ModifyIndex ties")

	va, err := a.Version()
	require.NoError(t, err)
	vc, err := c.Version()
	require.NoError(t, err)
	require.Equal(t, va, vc)
}

// TestSnapshotConsistent checks the go-control-plane snapshot of a full State: every EDS
// cluster has its endpoints.
func TestSnapshotConsistent(t *testing.T) {
	res, diags := xds.Build(mixedState())
	require.Empty(t, diags)
	snap, err := res.Snapshot()
	require.NoError(t, err)
	require.NoError(t, snap.Consistent())
}

// TestChainOrder checks a listener's chains: accept chain, peer chains sorted by name,
// catch-all last, with Consul's stat prefixes.
func TestChainOrder(t *testing.T) {
	res, _ := xds.Build(mixedState())
	l := res.Listeners[0]
	require.Equal(t, "default:1.2.3.4:8443", l.GetName())
	var got []string
	for _, fc := range l.GetFilterChains() {
		got = append(got, tcpProxyOf(t, fc).GetStatPrefix())
	}
	require.Equal(t, []string{
		"mesh_gateway_local_peering_server.default.dc1",
		"mesh_gateway_remote_peering_servers." + load.PeerServerName(0),
		"mesh_gateway_remote_peering_servers." + load.PeerServerName(1),
		"mesh_gateway_remote_peering_servers." + load.PeerServerName(2),
		"mesh_gateway_remote_peering_servers.server.dc9.peering.td-nine",
		"mesh_gateway_local.default",
	}, got)
}

func tcpProxyOf(t *testing.T, fc *listenerv3.FilterChain) *tcpproxyv3.TcpProxy {
	t.Helper()
	filters := fc.GetFilters()
	var tp tcpproxyv3.TcpProxy
	require.NoError(t, filters[len(filters)-1].GetTypedConfig().UnmarshalTo(&tp))
	return &tp
}

// TestDiagnostics checks that each kind of bad input is reported with its cause and
// kept out of the resources.
func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*peering.State)
		want   error
		part   xds.Part
	}{
		{"no gateway", func(s *peering.State) { s.Gateway = nil }, xds.ErrNoGateway, xds.PartGateway},
		{"not a mesh gateway", func(s *peering.State) { s.Gateway.Kind = api.ServiceKindTerminatingGateway }, xds.ErrNotMeshGateway, xds.PartGateway},
		{"non-default partition", func(s *peering.State) { s.Gateway.Partition = "team-a" }, xds.ErrNotDefaultPartition, xds.PartGateway},
		{"server without grpc_tls_port", func(s *peering.State) { delete(s.Servers[0].Service.Meta, "grpc_tls_port") }, xds.ErrMissingGRPCTLSPort, xds.PartServers},
		{"server with a signed port", func(s *peering.State) { s.Servers[0].Service.Meta["grpc_tls_port"] = "+8503" }, peering.ErrBadPort, xds.PartServers},
		{"server with a hostname", func(s *peering.State) { s.Servers[0].Node.Address = "server1.example.com" }, xds.ErrHostnameServer, xds.PartServers},
		{"bad connect timeout", func(s *peering.State) {
			s.Gateway.Proxy = &api.AgentServiceConnectProxyConfig{Config: map[string]any{"connect_timeout_ms": "abc"}}
		}, xds.ErrBadConnectTimeout, xds.PartGateway},
		{"peer address without port", func(s *peering.State) { s.Peerings[0].PeerServerAddresses = []string{"10.8.8.8"} }, peering.ErrBadAddress, xds.PartPeerings},
		{"peer name not a DNS name", func(s *peering.State) { s.Peerings[0].PeerServerName = "server.*.peering" }, peering.ErrInvalidServerName, xds.PartPeerings},
		{"peer named like the local servers", func(s *peering.State) {
			s.Peerings[0].PeerServerName = peering.ServerName(s.Datacenter, s.TrustDomain)
		}, xds.ErrPeerIsLocal, xds.PartPeerings},
		{"no trust domain", func(s *peering.State) { s.TrustDomain = "" }, xds.ErrNoTrustDomain, xds.PartCluster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := benchState(2)
			tt.modify(s)
			res, diags := xds.Build(s)
			require.NoError(t, res.Validate())
			var found bool
			for _, d := range diags {
				if errors.Is(d, tt.want) {
					found = true
					require.Equal(t, tt.part, d.Part, "diagnostic %v: got part %v, want %v", d, d.Part, tt.part)
				}
			}
			require.True(t, found, "no diagnostic wraps %v; got %v", tt.want, diags)
		})
	}
}

// TestNilInputs checks that nil inputs are empty ones, not panics.
func TestNilInputs(t *testing.T) {
	res, diags := xds.Build(nil)
	require.Empty(t, res.Clusters)
	require.Empty(t, res.Listeners)
	require.Len(t, diags, 1)
	require.ErrorIs(t, diags[0], xds.ErrNoGateway)

	srv := xds.NewServer(t.Context())
	require.NoError(t, srv.SetResources(testNode, nil))
	require.NoError(t, srv.Apply(testNode, xds.Changes{}))
	served, err := srv.Resources(testNode)
	require.NoError(t, err)
	require.Empty(t, served.Clusters)
	require.Empty(t, served.Endpoints)
	require.Empty(t, served.Listeners)
}

// TestBindNameNotUTF8: a custom bind whose name is not UTF-8 cannot name a listener that
// any xDS message could carry; it is a diagnostic, and the other listeners stay.
func TestBindNameNotUTF8(t *testing.T) {
	s := exampleState()
	s.Gateway.Proxy = &api.AgentServiceConnectProxyConfig{Config: map[string]any{
		"envoy_gateway_bind_addresses": map[string]any{"x\xff": map[string]any{"address": "10.0.0.1", "port": 9000.0}},
	}}
	res, diags := xds.Build(s)
	require.Len(t, res.Listeners, 1)
	require.Equal(t, "default:10.0.0.10:8443", res.Listeners[0].GetName())
	require.Len(t, diags, 1)
	require.ErrorIs(t, diags[0], gateway.ErrBindName)
	require.Equal(t, xds.PartGateway, diags[0].Part)
	require.NotContains(t, diags[0].Error(), "\xff", "got the raw name in %q", diags[0].Error())
}

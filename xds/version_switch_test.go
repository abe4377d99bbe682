package xds_test

import (
	"errors"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// switchState is a peering gateway that exercises every version switch: an IPv6 bind,
// an IP peer and a hostname peer, xds_fetch_timeout_ms, a dual-stack agent and upstream
// limits.
func switchState() *peering.State {
	limit := func(n int) *int { return &n }
	return &peering.State{
		Datacenter: "dc1", TrustDomain: "11111111-2222-3333-4444-555555555555.consul",
		Gateway: &api.AgentService{
			Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Service: "mesh-gateway", Address: "2001:db8::9", Port: 8443,
			Proxy: &api.AgentServiceConnectProxyConfig{Config: map[string]any{"xds_fetch_timeout_ms": 9999}},
		},
		MeshConfig: &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}},
		Servers: []*api.ServiceEntry{{
			Node:    &api.Node{Node: "s1", Address: "10.0.0.1"},
			Service: &api.AgentService{Service: "consul", Meta: map[string]string{"grpc_tls_port": "8503"}},
		}},
		Peerings: []peering.Peering{
			{Peering: api.Peering{Name: "ip", PeerServerName: "server.dc2.peering.22222222-2222-3333-4444-555555555555.consul", PeerServerAddresses: []string{"10.2.0.1:8443"}}},
			{Peering: api.Peering{Name: "dns", PeerServerName: "server.dc3.peering.33333333-2222-3333-4444-555555555555.consul", PeerServerAddresses: []string{"gw.example.com:8443"}}},
		},
		ServiceDefaults: &api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: "mesh-gateway", UpstreamConfig: &api.UpstreamConfiguration{
			Defaults: &api.UpstreamConfig{Limits: &api.UpstreamLimits{MaxConnections: limit(1), MaxPendingRequests: limit(10), MaxConcurrentRequests: limit(100)}},
		}},
		Agent: peering.AgentConfig{BindAddr: "::"},
	}
}

// switchOutcome is what each version switch decides, read from the resources.
type switchOutcome struct {
	bracketed    bool // listener "default:[2001:db8::9]:8443"
	lookupAll    bool // the hostname cluster resolves ALL
	fetchTimeout bool // EDS clusters carry initialFetchTimeout 9.999s
	limits       bool // the local peering-server cluster has circuit breakers
}

func outcomeOf(t *testing.T, res *xds.Resources) switchOutcome {
	t.Helper()
	require.Len(t, res.Listeners, 1)
	require.Len(t, res.Clusters, 3)
	var o switchOutcome
	var acceptFetch bool
	switch res.Listeners[0].Name {
	case "default:[2001:db8::9]:8443":
		o.bracketed = true
	case "default:2001:db8::9:8443":
	default:
		t.Fatalf("listener %q", res.Listeners[0].Name)
	}
	for _, c := range res.Clusters {
		switch c.Name {
		case "server.dc3.peering.33333333-2222-3333-4444-555555555555.consul":
			require.Equal(t, clusterv3.Cluster_STRICT_DNS, c.GetType(), "STRICT_DNS for every version")
			o.lookupAll = c.DnsLookupFamily == clusterv3.Cluster_ALL
			assert.Nil(t, c.CircuitBreakers, "no limits on peer clusters")
		case "server.dc2.peering.22222222-2222-3333-4444-555555555555.consul":
			assert.Nil(t, c.CircuitBreakers, "no limits on peer clusters")
			o.fetchTimeout = c.GetEdsClusterConfig().GetEdsConfig().GetInitialFetchTimeout().AsDuration().Milliseconds() == 9999
		case "server.dc1.peering.11111111-2222-3333-4444-555555555555.consul":
			th := c.GetCircuitBreakers().GetThresholds()
			if o.limits = len(th) == 1; o.limits {
				assert.Equal(t, uint32(1), th[0].GetMaxConnections().GetValue())
				assert.Equal(t, uint32(10), th[0].GetMaxPendingRequests().GetValue())
				assert.Equal(t, uint32(100), th[0].GetMaxRequests().GetValue())
			}
			acceptFetch = c.GetEdsClusterConfig().GetEdsConfig().GetInitialFetchTimeout() != nil
		}
	}
	assert.Equal(t, o.fetchTimeout, acceptFetch, "both EDS clusters get the fetch timeout")
	return o
}

// TestVersionSwitches builds one State for versions just below and at the first version
// of each rule, per minor line, and checks each rule's outcome.
func TestVersionSwitches(t *testing.T) {
	tests := []struct {
		version string
		want    switchOutcome
	}{
		{"1.14.8", switchOutcome{}},
		{"1.14.11", switchOutcome{}},
		{"1.15.7", switchOutcome{}},
		{"1.15.8", switchOutcome{fetchTimeout: true}},
		{"1.16.3", switchOutcome{}},
		{"1.16.4", switchOutcome{fetchTimeout: true}},
		{"1.17.0", switchOutcome{}},
		{"1.17.1", switchOutcome{fetchTimeout: true}},
		{"1.18.1", switchOutcome{fetchTimeout: true}},
		{"1.18.2", switchOutcome{fetchTimeout: true, limits: true}},
		{"1.21.1", switchOutcome{fetchTimeout: true, limits: true}},
		{"1.21.2", switchOutcome{fetchTimeout: true, limits: true, bracketed: true}},
		{"1.22.0-rc1", switchOutcome{fetchTimeout: true, limits: true, bracketed: true}},
		{"1.22.0", switchOutcome{fetchTimeout: true, limits: true, bracketed: true, lookupAll: true}},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			v, err := xds.ParseConsulVersion(tt.version)
			require.NoError(t, err)
			res, diags := xds.Build(switchState(), xds.WithConsulVersion(v))
			require.NoError(t, res.Validate())
			assert.Empty(t, diags)
			assert.Equal(t, tt.want, outcomeOf(t, res))
		})
	}
}

// TestDualStackNeedsIPv6Agent checks that 1.22 resolves hostnames for IPv4 only when
// the agent's bind address is IPv4 or unknown.
func TestDualStackNeedsIPv6Agent(t *testing.T) {
	for _, bind := range []string{"", "0.0.0.0", "::ffff:10.0.0.1"} {
		s := switchState()
		s.Agent.BindAddr = bind
		res, _ := xds.Build(s)
		assert.False(t, outcomeOf(t, res).lookupAll, "bind address %q", bind)
	}
}

// TestLimitsChecked checks that limits of another service's entry, and negative ones,
// are reported and not applied.
func TestLimitsChecked(t *testing.T) {
	s := switchState()
	s.ServiceDefaults.Name = "web"
	res, diags := xds.Build(s)
	assert.False(t, outcomeOf(t, res).limits)
	require.Len(t, diags, 1)
	assert.ErrorIs(t, diags[0], xds.ErrBadLimits)

	s = switchState()
	neg := -1
	s.ServiceDefaults.UpstreamConfig.Defaults.Limits.MaxConnections = &neg
	res, diags = xds.Build(s)
	require.Len(t, diags, 1)
	assert.ErrorIs(t, diags[0], xds.ErrBadLimits)
	th := res.Clusters[0].GetCircuitBreakers().GetThresholds()
	require.Len(t, th, 1)
	assert.Nil(t, th[0].MaxConnections, "the bad limit is left to Envoy's default")
	assert.Equal(t, uint32(10), th[0].GetMaxPendingRequests().GetValue())
}

// TestFetchTimeoutChecked checks Consul's reading of xds_fetch_timeout_ms: negative
// leaves Envoy's default, 0 waits forever, a value that cannot be read is reported.
func TestFetchTimeoutChecked(t *testing.T) {
	for _, tt := range []struct {
		value    any
		set      bool
		ms       int64
		diagnose bool
	}{
		{value: -1}, {value: 0, set: true}, {value: "1500", set: true, ms: 1500}, {value: "abc", diagnose: true},
	} {
		s := switchState()
		s.Gateway.Proxy.Config["xds_fetch_timeout_ms"] = tt.value
		res, diags := xds.Build(s)
		src := res.Clusters[0].GetEdsClusterConfig().GetEdsConfig()
		assert.Equal(t, tt.set, src.GetInitialFetchTimeout() != nil, "%v", tt.value)
		assert.Equal(t, tt.ms, src.GetInitialFetchTimeout().AsDuration().Milliseconds(), "%v", tt.value)
		if tt.diagnose {
			require.Len(t, diags, 1, "%v", tt.value)
			assert.ErrorIs(t, diags[0], xds.ErrBadFetchTimeout)
		} else {
			assert.Empty(t, diags, "%v", tt.value)
		}
	}
}

// TestDualStackLoopback: from Consul 1.22.0 an empty custom or tagged bind address
// listens on ::1 when the agent is dual-stack; otherwise, and before, on 127.0.0.1.
func TestDualStackLoopback(t *testing.T) {
	for _, tt := range []struct{ version, bind, want string }{
		{"1.21.5", "::", "empty:127.0.0.1:9443"},
		{"1.22.0-rc1", "::", "empty:127.0.0.1:9443"},
		{"1.22.0", "0.0.0.0", "empty:127.0.0.1:9443"},
		{"1.22.0", "::", "empty:[::1]:9443"},
		{"1.14.8", "::", "empty:127.0.0.1:9443"},
	} {
		s := ipv6GatewayState()
		s.Gateway.Proxy = &api.AgentServiceConnectProxyConfig{Config: map[string]any{
			"envoy_gateway_bind_addresses": map[string]any{"empty": map[string]any{"address": "", "port": 9443}},
		}}
		s.Agent.BindAddr = tt.bind
		v, err := xds.ParseConsulVersion(tt.version)
		require.NoError(t, err)
		res, diags := xds.Build(s, xds.WithConsulVersion(v))
		require.NoError(t, res.Validate())
		require.Len(t, res.Listeners, 2, "%s %s", tt.version, tt.bind)
		assert.Equal(t, tt.want, res.Listeners[1].Name, "%s %s", tt.version, tt.bind)
		var empty int
		for _, d := range diags {
			if errors.Is(d, gateway.ErrEmptyAddress) {
				empty++
			}
		}
		assert.Equal(t, 1, empty, "the empty address is reported")
	}
}

// TestDualStackDefaultBind: from Consul 1.22.0-rc1 a gateway with no service address
// listens on :: when the agent is dual-stack; otherwise, and before, on 0.0.0.0.
func TestDualStackDefaultBind(t *testing.T) {
	for _, tt := range []struct{ version, bind, want string }{
		{"1.21.5", "::", "default:0.0.0.0:8443"},
		{"1.22.0-rc1", "::", "default:[::]:8443"},
		{"1.22.0", "10.0.0.1", "default:0.0.0.0:8443"},
		{"1.22.0", "::", "default:[::]:8443"},
	} {
		s := ipv6GatewayState()
		s.Gateway.Address = ""
		s.Agent.BindAddr = tt.bind
		v, err := xds.ParseConsulVersion(tt.version)
		require.NoError(t, err)
		res, _ := xds.Build(s, xds.WithConsulVersion(v))
		require.NoError(t, res.Validate())
		require.Len(t, res.Listeners, 1)
		assert.Equal(t, tt.want, res.Listeners[0].Name, "%s %s", tt.version, tt.bind)
	}
}

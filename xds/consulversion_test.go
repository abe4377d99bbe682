package xds_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

func TestParseConsulVersion(t *testing.T) {
	good := map[string]xds.ConsulVersion{
		"1.22.0":     {Major: 1, Minor: 22},
		"v1.14.8":    {Major: 1, Minor: 14, Patch: 8},
		"1.18.2+ent": {Major: 1, Minor: 18, Patch: 2},
		"1.21.3-rc1": {Major: 1, Minor: 21, Patch: 3, Pre: "rc1"},
		"1.22":       {Major: 1, Minor: 22},
		" 1.16.4 ":   {Major: 1, Minor: 16, Patch: 4},
		"1.22.9":     {Major: 1, Minor: 22, Patch: 9},
		"1.14.0-rc1": {Major: 1, Minor: 14, Pre: "rc1"},
	}
	for in, want := range good {
		got, err := xds.ParseConsulVersion(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	bad := []string{"", "1", "1.x.0", "1.22.0.1", "1.13.7", "1.23.0", "2.0.0", "0.9.3", "1.-1.0", "1.22.0-", "v", "1.022.0", "consul 1.22.0"}
	for _, in := range bad {
		_, err := xds.ParseConsulVersion(in)
		require.Error(t, err, in)
		assert.ErrorIs(t, err, xds.ErrConsulVersion, in)
		var ve *xds.ConsulVersionError
		require.ErrorAs(t, err, &ve, in)
		assert.Equal(t, in, ve.Input)
		assert.Contains(t, err.Error(), `"`+in+`"`, "the error names the input")
	}
}

func TestConsulVersionString(t *testing.T) {
	for _, s := range []string{"1.22.0", "1.14.8", "1.21.3-rc1"} {
		v, err := xds.ParseConsulVersion(s)
		require.NoError(t, err)
		assert.Equal(t, s, v.String())
	}
	v, err := xds.ParseConsulVersion("v1.18.2+ent")
	require.NoError(t, err)
	assert.Equal(t, "1.18.2", v.String(), "build metadata is dropped")
}

func TestConsulVersionCompare(t *testing.T) {
	order := []string{"1.14.8", "1.15.8", "1.17.1-rc1", "1.17.1", "1.21.2-rc1", "1.21.2-rc2", "1.21.2", "1.22.0"}
	for i := range order {
		for k := range order {
			a, _ := xds.ParseConsulVersion(order[i])
			b, _ := xds.ParseConsulVersion(order[k])
			want := 0
			switch {
			case i < k:
				want = -1
			case i > k:
				want = 1
			}
			assert.Equal(t, want, a.Compare(b), "%s vs %s", a, b)
		}
	}
}

func TestDefaultConsulVersion(t *testing.T) {
	assert.Equal(t, "1.22.0", xds.DefaultConsulVersion.String())
	assert.True(t, xds.DefaultConsulVersion.Supported())
	assert.True(t, xds.MinConsulVersion.Supported())
	assert.True(t, xds.MaxConsulVersion.Supported())
	assert.False(t, xds.ConsulVersion{}.Supported())
}

// TestVersionPrecedence checks which version a Build targets: WithConsulVersion, then
// the agent's, then the default; an agent version that is malformed or unsupported is
// reported and the default used.
func TestVersionPrecedence(t *testing.T) {
	v114 := xds.ConsulVersion{Major: 1, Minor: 14, Patch: 8}
	tests := []struct {
		name     string
		agent    string
		opts     []xds.BuildOption
		bracket  bool // the 1.21.2+ listener name
		diagnose bool
	}{
		{name: "default", bracket: true},
		{name: "agent", agent: "1.14.8", bracket: false},
		{name: "agent enterprise", agent: "1.21.2+ent", bracket: true},
		{name: "explicit wins over agent", agent: "1.22.0", opts: []xds.BuildOption{xds.WithConsulVersion(v114)}, bracket: false},
		{name: "malformed agent", agent: "banana", bracket: true, diagnose: true},
		{name: "unsupported agent", agent: "1.12.0", bracket: true, diagnose: true},
		{name: "unsupported explicit", opts: []xds.BuildOption{xds.WithConsulVersion(xds.ConsulVersion{Major: 1, Minor: 9})}, bracket: true, diagnose: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ipv6GatewayState()
			s.Agent.Version = tt.agent
			res, diags := xds.Build(s, tt.opts...)
			require.Len(t, res.Listeners, 1)
			want := "default:2001:db8::9:8443"
			if tt.bracket {
				want = "default:[2001:db8::9]:8443"
			}
			assert.Equal(t, want, res.Listeners[0].Name)
			var versionDiags []xds.Diagnostic
			for _, d := range diags {
				if errors.Is(d, xds.ErrConsulVersion) {
					versionDiags = append(versionDiags, d)
				}
			}
			if !tt.diagnose {
				assert.Empty(t, versionDiags)
				return
			}
			require.Len(t, versionDiags, 1)
			assert.Equal(t, xds.PartCluster, versionDiags[0].Part)
			assert.Contains(t, versionDiags[0].Error(), "targeting 1.22.0")
		})
	}
}

// TestVersionOptionEverywhere checks that the one option is accepted by every entry
// point, loop included.
func TestVersionOptionEverywhere(t *testing.T) {
	opt := xds.WithConsulVersion(xds.ConsulVersion{Major: 1, Minor: 14, Patch: 8})
	var _ xds.LoopOption = opt
	s := ipv6GatewayState()
	m, _ := xds.Resolve(s, opt)
	assert.Equal(t, "default:2001:db8::9:8443", m.Listeners[0].Name)
	b := xds.NewBuilder(opt)
	b.Set(s)
	assert.Equal(t, "default:2001:db8::9:8443", b.Resources().Listeners[0].Name)
	srv := xds.NewServer(context.Background())
	_, err := xds.NewLoop(srv, []xds.Gateway{{ID: "gw", Sources: peering.StaticSources(s)}}, opt)
	require.NoError(t, err)
}

// ipv6GatewayState is a mesh gateway listening on an IPv6 address, peering off.
func ipv6GatewayState() *peering.State {
	return &peering.State{
		Datacenter: "dc1", TrustDomain: "td.consul",
		Gateway: &api.AgentService{Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Service: "mesh-gateway", Address: "2001:db8::9", Port: 8443},
	}
}

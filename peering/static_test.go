package peering_test

import (
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/peering"
)

// TestStaticSourcesReadEveryPart: the static sources of a State read back that State,
// the optional parts included.
func TestStaticSourcesReadEveryPart(t *testing.T) {
	limit := 5
	s := &peering.State{
		Datacenter: "dc1", TrustDomain: "td.consul",
		Gateway:  &api.AgentService{ID: "gw", Service: "gw", Kind: api.ServiceKindMeshGateway},
		Peerings: []peering.Peering{{Peering: api.Peering{Name: "p"}}},
		ServiceDefaults: &api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: "gw", UpstreamConfig: &api.UpstreamConfiguration{
			Defaults: &api.UpstreamConfig{Limits: &api.UpstreamLimits{MaxConnections: &limit}}}},
		Agent: peering.AgentConfig{Version: "1.22.0", BindAddr: "::1"},
	}
	got, err := peering.StaticSources(s).Read(t.Context())
	require.NoError(t, err)
	require.Equal(t, s, got)
}

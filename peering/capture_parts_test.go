package peering_test

import (
	"bytes"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/peering"
)

// TestCaptureOptionalParts: a capture keeps the gateway's service-defaults entry and the
// agent's version and bind address, and leaves them out when they are empty, so that
// captures made before they existed read the same.
func TestCaptureOptionalParts(t *testing.T) {
	limit := 7
	s := &peering.State{
		Datacenter: "dc1",
		ServiceDefaults: &api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: "gw", UpstreamConfig: &api.UpstreamConfiguration{
			Defaults: &api.UpstreamConfig{Limits: &api.UpstreamLimits{MaxConnections: &limit}}}},
		Agent: peering.AgentConfig{Version: "1.22.0", BindAddr: "2001:db8::1"},
	}
	var buf bytes.Buffer
	require.NoError(t, peering.WriteCapture(&buf, s))
	got, err := peering.DecodeState(&buf)
	require.NoError(t, err)
	require.Equal(t, s, got)

	buf.Reset()
	require.NoError(t, peering.WriteCapture(&buf, &peering.State{Datacenter: "dc1"}))
	require.NotContains(t, buf.String(), "ServiceDefaults")
	require.NotContains(t, buf.String(), "Agent")
}

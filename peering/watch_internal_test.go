package peering

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackoff(t *testing.T) {
	o := watchOptions{backoffMin: 100 * time.Millisecond, backoffMax: time.Second}
	tests := []struct {
		name     string
		failures int
		lo, hi   time.Duration
	}{
		{name: "first failure", failures: 1, lo: 50 * time.Millisecond, hi: 100 * time.Millisecond},
		{name: "doubles", failures: 2, lo: 100 * time.Millisecond, hi: 200 * time.Millisecond},
		{name: "doubles again", failures: 3, lo: 200 * time.Millisecond, hi: 400 * time.Millisecond},
		{name: "capped", failures: 5, lo: 500 * time.Millisecond, hi: time.Second},
		{name: "capped without overflow", failures: 1000, lo: 500 * time.Millisecond, hi: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 200 {
				d := o.backoff(tt.failures)
				require.GreaterOrEqual(t, d, tt.lo, "got %s, want at least %s", d, tt.lo)
				require.LessOrEqual(t, d, tt.hi, "got %s, want at most %s", d, tt.hi)
				seen[d] = true
			}
			assert.Greater(t, len(seen), 1, "got one delay for 200 draws, want jitter")
		})
	}

	huge := watchOptions{backoffMin: time.Duration(1) << 61, backoffMax: time.Duration(1<<63 - 1)}
	d := huge.backoff(10)
	assert.Greater(t, d, time.Duration(0), "got %s near the largest duration, want a positive delay", d)
}

func TestCloneState(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	s := &State{
		Datacenter: "dc1",
		Gateway: &api.AgentService{
			ID: "gw", Meta: map[string]string{"k": "v"}, Tags: []string{"a"},
			Proxy: &api.AgentServiceConnectProxyConfig{Config: map[string]any{
				"envoy_gateway_bind_addresses": map[string]any{"lan": map[string]any{"address": "10.0.0.1", "port": 8443.0}},
			}},
		},
		Servers:  []*api.ServiceEntry{{Node: &api.Node{Node: "n1"}, Service: &api.AgentService{Meta: map[string]string{"grpc_tls_port": "8503"}}}},
		Peerings: []Peering{{Peering: api.Peering{Name: "p", PeerServerAddresses: []string{"1.2.3.4:8443"}, StreamStatus: api.PeeringStreamStatus{LastHeartbeat: &now}}}},
	}
	c := cloneState(s)
	require.Equal(t, s, c, "got a clone that differs, want an equal one")

	c.Gateway.Meta["k"] = "changed"
	c.Gateway.Tags[0] = "changed"
	c.Gateway.Proxy.Config["envoy_gateway_bind_addresses"].(map[string]any)["lan"].(map[string]any)["port"] = 1.0
	c.Servers[0].Service.Meta["grpc_tls_port"] = "1"
	c.Peerings[0].PeerServerAddresses[0] = "changed"
	*c.Peerings[0].StreamStatus.LastHeartbeat = time.Time{}

	assert.Equal(t, "v", s.Gateway.Meta["k"], "got the original's meta changed through the clone")
	assert.Equal(t, "a", s.Gateway.Tags[0], "got the original's tags changed through the clone")
	port := s.Gateway.Proxy.Config["envoy_gateway_bind_addresses"].(map[string]any)["lan"].(map[string]any)["port"]
	assert.Equal(t, 8443.0, port, "got the original's proxy config changed through the clone")
	assert.Equal(t, "8503", s.Servers[0].Service.Meta["grpc_tls_port"], "got the original's server meta changed through the clone")
	assert.Equal(t, "1.2.3.4:8443", s.Peerings[0].PeerServerAddresses[0], "got the original's addresses changed through the clone")
	assert.Equal(t, now, *s.Peerings[0].StreamStatus.LastHeartbeat, "got the original's time changed through the clone")
	assert.Nil(t, cloneState(nil), "got a clone of nil, want nil")
}

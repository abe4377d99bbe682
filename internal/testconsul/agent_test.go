package testconsul_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/testconsul"
)

const (
	// waitFor bounds polls for a state the agents reach on their own.
	waitFor = 60 * time.Second
	// tick is the polling interval.
	tick = 100 * time.Millisecond
)

func TestStartPeering(t *testing.T) {
	t.Parallel()
	dc1 := testconsul.Start(t)
	dc2 := testconsul.Start(t, testconsul.WithDatacenter("dc2"), testconsul.WithNodeName("n2"))
	ports := map[int]string{}
	for _, a := range []*testconsul.Agent{dc1, dc2} {
		for _, p := range []int{a.HTTPPort, a.DNSPort, a.GRPCPort, a.GRPCTLSPort, a.ServerPort, a.LANSerfPort, a.WANSerfPort} {
			require.NotContains(t, ports, p, "got port %d twice, want distinct ports", p)
			ports[p] = a.Datacenter
		}
	}

	ctx := t.Context()
	began := time.Now()
	token, _, err := dc1.Client().Peerings().GenerateToken(ctx, api.PeeringGenerateTokenRequest{PeerName: "dc2"}, nil)
	require.NoError(t, err)
	_, _, err = dc2.Client().Peerings().Establish(ctx, api.PeeringEstablishRequest{PeerName: "dc1", PeeringToken: token.PeeringToken}, nil)
	require.NoError(t, err)

	for _, side := range []struct {
		agent *testconsul.Agent
		peer  string
	}{{dc1, "dc2"}, {dc2, "dc1"}} {
		require.Eventually(t, func() bool {
			p, _, err := side.agent.Client().Peerings().Read(ctx, side.peer, nil)
			return err == nil && p != nil && p.State == api.PeeringStateActive
		}, waitFor, tick, "peering %s on %s: got not ACTIVE, want ACTIVE", side.peer, side.agent.Datacenter)
	}
	t.Logf("peering ACTIVE on both sides %s after generating the token", time.Since(began).Round(time.Millisecond))
}

func TestStartACLs(t *testing.T) {
	t.Parallel()
	const management = "8b5f4a64-2a5e-4c5b-9b0c-3e1f0d7a6c21"
	a := testconsul.Start(t, testconsul.WithACLs(management))

	tests := []struct {
		name  string
		token string
		want  int
	}{
		{name: "anonymous", token: "", want: http.StatusForbidden},
		{name: "unknown token", token: "5d2f0e0a-8f7c-4a53-9c62-0f6b2b7f4e10", want: http.StatusForbidden},
		{name: "management token", token: management, want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+a.HTTPAddr+"/v1/agent/self", nil)
			require.NoError(t, err)
			if tt.token != "" {
				req.Header.Set("X-Consul-Token", tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, tt.want, resp.StatusCode, "got status %d, want %d", resp.StatusCode, tt.want)
		})
	}

	self, _, err := a.Client().ACL().TokenReadSelf(nil)
	require.NoError(t, err)
	assert.Equal(t, management, self.SecretID, "got token %q, want the management token", self.SecretID)
	_, err = a.Client().KV().Put(&api.KVPair{Key: "k", Value: []byte("v")}, nil)
	require.NoError(t, err)
}

func TestAgentRestartWithDataDir(t *testing.T) {
	t.Parallel()
	a := testconsul.Start(t, testconsul.WithDataDir(t.TempDir()))
	addr := a.HTTPAddr
	_, err := a.Client().KV().Put(&api.KVPair{Key: "survives", Value: []byte("restart")}, nil)
	require.NoError(t, err)

	a.Stop(t)
	a.Stop(t) // idempotent
	a.Start(t)

	assert.Equal(t, addr, a.HTTPAddr, "got address %s after restart, want %s", a.HTTPAddr, addr)
	kv, _, err := a.Client().KV().Get("survives", nil)
	require.NoError(t, err)
	require.NotNil(t, kv, "got no key after restart, want it kept in the data dir")
	assert.Equal(t, "restart", string(kv.Value), "got value %q, want %q", kv.Value, "restart")
	assert.Contains(t, a.Logs(), "restarting agent", "got logs without the restart marker")
}

func TestAgentRestartDev(t *testing.T) {
	t.Parallel()
	a := testconsul.Start(t)
	_, err := a.Client().KV().Put(&api.KVPair{Key: "lost", Value: []byte("on restart")}, nil)
	require.NoError(t, err)

	a.Stop(t)
	a.Start(t)

	kv, _, err := a.Client().KV().Get("lost", nil)
	require.NoError(t, err)
	assert.Nil(t, kv, "got key %v after restarting a -dev agent, want none", kv)
}

// TestClientIgnoresEnvironmentToken checks that clients send the token they were given,
// or the anonymous token, whatever token or token file the environment names.
// (t.Setenv: this test cannot run in parallel.)
func TestClientIgnoresEnvironmentToken(t *testing.T) {
	const (
		management        = "0c7d9a51-3f7e-4f0a-9d0e-6a2b8e5c4d13"
		other             = "5d2f0e0a-8f7c-4a53-9c62-0f6b2b7f4e10"
		anonymousAccessor = "00000000-0000-0000-0000-000000000002"
	)
	a := testconsul.Start(t, testconsul.WithACLs(management))
	for _, env := range []struct{ name, value string }{
		{"CONSUL_HTTP_TOKEN", management},
		{"CONSUL_HTTP_TOKEN", other},
		{"CONSUL_HTTP_TOKEN_FILE", filepath.Join(t.TempDir(), "missing")},
	} {
		t.Run(env.name+"="+env.value, func(t *testing.T) {
			t.Setenv(env.name, env.value)
			anon, _, err := a.ClientWithToken("").ACL().TokenReadSelf(nil)
			require.NoError(t, err)
			assert.Equal(t, anonymousAccessor, anon.AccessorID, "got token %q, want the anonymous token", anon.AccessorID)
			self, _, err := a.Client().ACL().TokenReadSelf(nil)
			require.NoError(t, err)
			assert.Equal(t, management, self.SecretID, "got token %q, want the management token", self.SecretID)
		})
	}
}

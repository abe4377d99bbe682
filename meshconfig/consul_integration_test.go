package meshconfig_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/meshconfig"
)

const managementToken = "4f2c8e1a-6b7d-4c3e-9a51-2d8f0b7e6c13"

// TestConsul runs Read and Apply, and the rendered and parsed forms, against a real Consul
// agent with ACLs on. The subtests share the agent and run in order; each starts from an
// absent entry.
func TestConsul(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Consul agent")
	}
	agent := testconsul.Start(t, testconsul.WithACLs(managementToken))
	client := agent.Client()
	reset := func(t *testing.T) {
		t.Helper()
		_, err := client.ConfigEntries().Delete(api.MeshConfig, api.MeshConfigMesh, nil)
		require.NoError(t, err)
	}

	t.Run("read absent", func(t *testing.T) {
		reset(t)
		got, err := meshconfig.Read(t.Context(), client)
		require.NoError(t, err)
		assert.Nil(t, got, "got %+v, want no entry", got)
	})

	t.Run("create when absent", func(t *testing.T) {
		reset(t)
		got, err := meshconfig.Apply(t.Context(), client, true)
		require.NoError(t, err)
		require.True(t, meshconfig.Enabled(got), "got %+v, want the flag set", got)
		assert.NotZero(t, got.ModifyIndex)
		read, err := meshconfig.Read(t.Context(), client)
		require.NoError(t, err)
		assert.Equal(t, got, read, "got %+v from Read, want %+v", read, got)
	})

	t.Run("enable then disable keeps other fields", func(t *testing.T) {
		reset(t)
		_, _, err := client.ConfigEntries().Set(&api.MeshConfigEntry{
			TransparentProxy: api.TransparentProxyMeshConfig{MeshDestinationsOnly: true},
			Meta:             map[string]string{"owner": "platform"},
		}, nil)
		require.NoError(t, err)
		on, err := meshconfig.Apply(t.Context(), client, true)
		require.NoError(t, err)
		require.True(t, meshconfig.Enabled(on))
		off, err := meshconfig.Apply(t.Context(), client, false)
		require.NoError(t, err)
		require.False(t, meshconfig.Enabled(off), "got %+v, want the flag off", off)
		assert.True(t, off.TransparentProxy.MeshDestinationsOnly, "TransparentProxy.MeshDestinationsOnly was lost")
		assert.Equal(t, map[string]string{"owner": "platform"}, off.Meta)
		again, err := meshconfig.Apply(t.Context(), client, false)
		require.NoError(t, err)
		assert.Equal(t, off.ModifyIndex, again.ModifyIndex, "got a write for an entry already in the wanted state")
	})

	t.Run("concurrent writer is kept", func(t *testing.T) {
		reset(t)
		var attempts []int
		got, err := meshconfig.Apply(t.Context(), client, true, meshconfig.WithBeforeWrite(func(attempt int) {
			attempts = append(attempts, attempt)
			if attempt > 1 {
				return
			}
			// Between Apply's read and its write, another writer sets a field.
			_, _, err := client.ConfigEntries().Set(&api.MeshConfigEntry{
				TransparentProxy: api.TransparentProxyMeshConfig{MeshDestinationsOnly: true},
			}, nil)
			require.NoError(t, err)
		}))
		require.NoError(t, err)
		assert.Equal(t, []int{1, 2}, attempts, "got attempts %v, want a retry after the lost write", attempts)
		assert.True(t, meshconfig.Enabled(got), "got %+v, want the flag set", got)
		assert.True(t, got.TransparentProxy.MeshDestinationsOnly, "the concurrent writer's field was lost")
	})

	t.Run("permissions", func(t *testing.T) {
		tests := []struct {
			name    string
			rules   string
			wantErr error
		}{
			{name: "mesh read", rules: `mesh = "read"`, wantErr: meshconfig.ErrPermissionDenied},
			{name: "peering write", rules: `peering = "write"`, wantErr: meshconfig.ErrPermissionDenied},
			{name: "mesh write", rules: `mesh = "write"`},
			{name: "operator write", rules: `operator = "write"`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				reset(t)
				token := createToken(t, client, strings.ReplaceAll(tt.name, " ", "-"), tt.rules)
				got, err := meshconfig.Apply(t.Context(), agent.ClientWithToken(token), true)
				if tt.wantErr != nil {
					require.ErrorIs(t, err, tt.wantErr)
					return
				}
				require.NoError(t, err)
				assert.True(t, meshconfig.Enabled(got))
			})
		}
	})

	t.Run("consul reads what we render", func(t *testing.T) {
		// The fields Consul 1.14.8 knows (HTTP.Incoming, AllowEnablingPermissiveMutualTLS and
		// ValidateClusters came later).
		want := &api.MeshConfigEntry{
			TransparentProxy: api.TransparentProxyMeshConfig{MeshDestinationsOnly: true},
			TLS: &api.MeshTLSConfig{
				Incoming: &api.MeshDirectionalTLSConfig{TLSMinVersion: "TLSv1_2", CipherSuites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}},
				Outgoing: &api.MeshDirectionalTLSConfig{TLSMinVersion: "TLSv1_2", TLSMaxVersion: "TLSv1_3"},
			},
			HTTP:    &api.MeshHTTPConfig{SanitizeXForwardedClientCert: true},
			Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true},
			Meta:    map[string]string{"consul.hashicorp.com/source": "peeringgw"},
		}
		reset(t)
		body, err := meshconfig.RenderJSON(want)
		require.NoError(t, err)
		status, reply := putConfig(t, agent, body)
		require.Equal(t, http.StatusOK, status, "got %d %s, want 200", status, reply)
		got, err := meshconfig.Read(t.Context(), client)
		require.NoError(t, err)
		got.CreateIndex, got.ModifyIndex = 0, 0
		assert.Equal(t, want, got, "got %+v, want %+v", got, want)

		// What Consul returns (the JSON `consul config read` prints) parses back.
		status, reply = callConsul(t, agent, http.MethodGet, "/v1/config/mesh/mesh", nil)
		require.Equal(t, http.StatusOK, status, "got %d %s, want 200", status, reply)
		parsed, err := meshconfig.ParseJSON([]byte(reply), "read.json")
		require.NoError(t, err)
		parsed.CreateIndex, parsed.ModifyIndex = 0, 0
		assert.Equal(t, want, parsed, "got %+v, want %+v", parsed, want)
	})

	t.Run("keys are judged as consul judges them", func(t *testing.T) {
		tests := []struct {
			name    string
			doc     string
			wantErr error // nil: both Consul and ParseJSON accept the document
		}{
			{name: "camel case", doc: `{"Kind": "mesh", "Peering": {"PeerThroughMeshGateways": true}}`},
			{name: "snake case", doc: `{"kind": "mesh", "peering": {"peer_through_mesh_gateways": true}, "transparent_proxy": {"mesh_destinations_only": true}}`},
			{name: "unknown key", doc: `{"Kind": "mesh", "Mode": "local"}`, wantErr: meshconfig.ErrUnknownKey},
			{name: "unknown nested key", doc: `{"Kind": "mesh", "Peering": {"Enabled": true}}`, wantErr: meshconfig.ErrUnknownKey},
			{name: "other kind", doc: `{"Kind": "proxy-defaults", "Name": "global"}`, wantErr: meshconfig.ErrWrongKind},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				reset(t)
				_, parseErr := meshconfig.ParseJSON([]byte(tt.doc), "doc.json")
				status, reply := putConfig(t, agent, []byte(tt.doc))
				if tt.wantErr == nil {
					require.NoError(t, parseErr)
					assert.Equal(t, http.StatusOK, status, "got %d %s from Consul, want 200", status, reply)
					return
				}
				require.ErrorIs(t, parseErr, tt.wantErr)
				if tt.wantErr != meshconfig.ErrWrongKind { // Consul writes other kinds, of course
					assert.Equal(t, http.StatusBadRequest, status, "got %d %s from Consul, want 400", status, reply)
				}
			})
		}
	})

	t.Run("name", func(t *testing.T) {
		// Consul rejects a Name key on a mesh entry ("invalid config key"); ParseJSON accepts
		// Name = "mesh", the entry's fixed name, and rejects other names.
		status, reply := putConfig(t, agent, []byte(`{"Kind": "mesh", "Name": "mesh"}`))
		assert.Equal(t, http.StatusBadRequest, status, "got %d %s from Consul, want 400", status, reply)
		assert.Contains(t, reply, `invalid config key "Name"`)
		_, err := meshconfig.ParseJSON([]byte(`{"Kind": "mesh", "Name": "mesh"}`), "doc.json")
		require.NoError(t, err)
	})
}

// createToken creates a policy with rules and returns the secret of a token that has it.
func createToken(t *testing.T, client *api.Client, name, rules string) string {
	t.Helper()
	policy, _, err := client.ACL().PolicyCreate(&api.ACLPolicy{Name: name, Rules: rules}, nil)
	require.NoError(t, err)
	token, _, err := client.ACL().TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: policy.ID}}}, nil)
	require.NoError(t, err)
	return token.SecretID
}

// putConfig sends body to PUT /v1/config, as `consul config write` and curl do, and
// returns the status and the reply.
func putConfig(t *testing.T, agent *testconsul.Agent, body []byte) (int, string) {
	t.Helper()
	return callConsul(t, agent, http.MethodPut, "/v1/config", body)
}

// callConsul sends a request with the management token and returns the status and the
// reply.
func callConsul(t *testing.T, agent *testconsul.Agent, method, path string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+agent.HTTPAddr+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Consul-Token", managementToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { require.NoError(t, resp.Body.Close()) }()
	reply, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(reply)
}

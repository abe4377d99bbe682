package e2e_test

import (
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/e2e"
	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/peering"
)

// TestConfigPlane does the seed's configuration steps with the library against a real
// Consul with ACLs: it registers the gateway (gateway), applies the mesh entry keeping a
// field another writer set (meshconfig), creates the gateway's policy and token (acl),
// and reads the gateway's State with that token (peering). A token whose policy lacks
// peering:read gets the typed permission error naming that rule.
func TestConfigPlane(t *testing.T) {
	skipShort(t)
	t.Parallel()
	ctx := t.Context()
	dc1 := testconsul.Start(t, testconsul.WithACLs("11111111-2222-3333-4444-555555555555"))
	mgmt := dc1.Client()

	ports := testconsul.FreePorts(t, 2)
	gwID := e2e.RegisterGateway(t, mgmt, gateway.Registration{
		Address: "127.0.0.1", Port: ports[0],
		WAN: &api.ServiceAddress{Address: "127.0.0.1", Port: ports[1]},
	})

	// Another writer owns a different field of the mesh entry; Apply keeps it.
	_, _, err := mgmt.ConfigEntries().Set(&api.MeshConfigEntry{
		TransparentProxy: api.TransparentProxyMeshConfig{MeshDestinationsOnly: true},
	}, nil)
	require.NoError(t, err)
	entry, err := meshconfig.Apply(ctx, mgmt, true)
	require.NoError(t, err)
	assert.True(t, meshconfig.Enabled(entry), "got the flag off after Apply")
	assert.True(t, entry.TransparentProxy.MeshDestinationsOnly, "Apply lost the other writer's field")

	policy, err := acl.MeshGateway(acl.EditionCE)
	require.NoError(t, err)
	token := createToken(t, mgmt, policy, "mesh-gateway-peering")
	state, err := peering.ReadState(ctx, dc1.ClientWithToken(token), gwID)
	require.NoError(t, err, "the gateway policy from acl.MeshGateway must be enough to read the State")
	assert.Equal(t, gwID, state.Gateway.ID)
	assert.True(t, state.MeshConfig.Peering.PeerThroughMeshGateways)
	assert.NotEmpty(t, state.Servers)

	// The same policy without peering = "read".
	policy.Peering = acl.AccessUnset
	report, err := policy.Check(acl.EditionCE)
	require.NoError(t, err)
	require.False(t, report.Sufficient(), "acl.Check must see that peering:read is missing")
	weak := createToken(t, mgmt, policy, "mesh-gateway-no-peering")
	_, err = peering.ReadState(ctx, dc1.ClientWithToken(weak), gwID)
	require.ErrorIs(t, err, peering.ErrPermissionDenied)
	var pe *peering.PermissionError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "peering:read", pe.Rule, "got missing rule %q, want peering:read", pe.Rule)
}

// createToken creates (or updates) policy p under name and returns a new token's secret.
func createToken(t *testing.T, client *api.Client, p *acl.Policy, name string) string {
	t.Helper()
	ap, err := p.APIPolicy(name, "peeringgw end-to-end test")
	require.NoError(t, err)
	created, _, err := acl.CreateOrUpdate(t.Context(), client, ap)
	require.NoError(t, err)
	tok, err := acl.CreateToken(t.Context(), client, created, name)
	require.NoError(t, err)
	return tok.SecretID
}

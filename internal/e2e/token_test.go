package e2e_test

import (
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/internal/e2e"
	"github.com/peeringgw/peeringgw/internal/testconsul"
	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/peering"
)

// noGatewayError is the part of Consul's answer that says why a token cannot be
// generated (agent/consul/peering_backend.go).
const noGatewayError = "no mesh gateway instances are registered"

// TestTokenWithoutGateway checks that, with PeerThroughMeshGateways set in the accepting
// cluster and no mesh gateway registered, Consul refuses to generate a peering token,
// that meshconfig.NextStep warns of it, that peering.GenerateToken explains the refusal,
// and that registering a gateway is the remedy.
func TestTokenWithoutGateway(t *testing.T) {
	skipShort(t)
	t.Parallel()
	ctx := t.Context()
	dc1 := testconsul.Start(t)
	c := dc1.Client()
	entry, err := meshconfig.Apply(ctx, c, true)
	require.NoError(t, err)

	// The library's guidance for this point names the requirement.
	step := meshconfig.NextStep(meshconfig.RoleAccepting, meshconfig.StageBefore, entry)
	assert.Equal(t, meshconfig.ActionGenerateToken, step.Action, "got next step %s, want generating the token", step.Action)
	assert.Contains(t, step.Reason, "generation fails while none is registered", "got reason %q, want it to say a gateway must be registered", step.Reason)

	// Consul refuses the token; the library recognises why and says what to do.
	_, err = peering.GenerateToken(ctx, c, api.PeeringGenerateTokenRequest{PeerName: "dc2"})
	require.ErrorIs(t, err, peering.ErrNoMeshGateway, "got %v, want the no-gateway explanation", err)
	assert.Contains(t, err.Error(), "register one (kind mesh-gateway)", "got %q, want the remedy", err)
	var status api.StatusError
	require.ErrorAs(t, err, &status, "got %v, want Consul's answer kept", err)
	assert.Equal(t, http.StatusInternalServerError, status.Code, "got HTTP %d, want 500", status.Code)
	assert.Contains(t, status.Body, noGatewayError, "got %q, want Consul to say no gateway is registered", status.Body)

	ports := testconsul.FreePorts(t, 1)
	e2e.RegisterGateway(t, c, gateway.Registration{Address: "127.0.0.1", Port: ports[0]})
	_, decoded := e2e.GenerateToken(t, c, "dc2")
	want := []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))}
	assert.Equal(t, want, decoded.ServerAddresses, "got token addresses %v, want the gateway's address %v", decoded.ServerAddresses, want)
}

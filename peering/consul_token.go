package peering

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/consul/api"
)

// ErrNoMeshGateway is wrapped by [GenerateToken]'s error when the accepting cluster peers
// through mesh gateways but has no mesh gateway registered in the default partition.
var ErrNoMeshGateway = errors.New("peering: no mesh gateway registered")

// consulNoGateway is the text of Consul's refusal in that case (agent/consul/peering_backend.go).
const consulNoGateway = "no mesh gateway instances are registered"

// GenerateToken asks the accepting cluster for a peering token, as
// client.Peerings().GenerateToken does, and explains Consul's refusal when the mesh
// config entry sets PeerThroughMeshGateways but no mesh gateway is registered: that
// error wraps [ErrNoMeshGateway] and says what to do. Other errors are returned wrapped,
// with Consul's status (an api.StatusError) still reachable with errors.As.
func GenerateToken(ctx context.Context, client *api.Client, req api.PeeringGenerateTokenRequest) (string, error) {
	resp, _, err := client.Peerings().GenerateToken(ctx, req, nil)
	switch {
	case err != nil && strings.Contains(err.Error(), consulNoGateway):
		return "", fmt.Errorf("%w: the mesh config entry sets PeerThroughMeshGateways, so the token must "+
			"carry the WAN addresses of this cluster's mesh gateways, and none is registered in the "+
			"default partition; register one (kind mesh-gateway) and generate the token again: %w", ErrNoMeshGateway, err)
	case err != nil:
		return "", fmt.Errorf("peering: generate token for %q: %w", req.PeerName, err)
	}
	return resp.PeeringToken, nil
}

package peering

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/consul/api"
)

// ErrBadState is wrapped by the errors [DecodeState] returns.
var ErrBadState = errors.New("peering: bad state")

// State is everything a mesh gateway's peering resources depend on, as plain data: the
// input of the xds package.
//
// Its JSON form is the state capture: every field has exactly the shape of Consul's HTTP
// API, so a capture can be made with curl:
//
//	Datacenter   GET /v1/agent/self → Config.Datacenter
//	TrustDomain  GET /v1/connect/ca/roots → TrustDomain
//	Gateway      GET /v1/agent/service/<gateway-id>
//	MeshConfig   GET /v1/config/mesh/mesh (null when there is no entry)
//	Servers      GET /v1/health/service/consul
//	Peerings     GET /v1/peerings (every partition)
//	ServiceDefaults  GET /v1/config/service-defaults/<gateway service> (absent when none)
//	Agent        GET /v1/agent/self → Config.Version, Config.BindAddr (absent when unknown)
//
// A State may equally be filled by a host program from any other source.
type State struct {
	// Datacenter is the gateway's local datacenter.
	Datacenter string
	// TrustDomain is the local CA's trust domain, "<cluster-uuid>.consul".
	TrustDomain string
	// Gateway is the mesh gateway service instance being configured.
	Gateway *api.AgentService
	// MeshConfig is the mesh config entry of the gateway's partition; nil means none.
	MeshConfig *api.MeshConfigEntry
	// Servers are the local Consul servers (the health of service "consul"). Their
	// service meta carries grpc_tls_port and read_replica.
	Servers []*api.ServiceEntry
	// Peerings are the peerings of every partition.
	Peerings []Peering
	// ServiceDefaults is the service-defaults config entry named after the gateway's
	// service, in its partition and namespace; nil means none. Consul 1.18.2 and later
	// apply its upstream limits to the gateway's clusters.
	ServiceDefaults *api.ServiceConfigEntry `json:",omitempty"`
	// Agent is what the gateway's Consul agent says of itself; zero when unknown.
	Agent AgentConfig `json:",omitzero"`
}

// AgentConfig is the part of a Consul agent's own configuration (GET /v1/agent/self →
// Config) that generation depends on.
type AgentConfig struct {
	// Version is the agent's Consul version, such as "1.22.0"; empty when unknown.
	Version string `json:",omitempty"`
	// BindAddr is the agent's bind address. Consul 1.22 resolves gateway hostnames for
	// IPv4 and IPv6 when it is an IPv6 address, for IPv4 only otherwise.
	BindAddr string `json:",omitempty"`
}

// DecodeState reads a state capture (JSON). Unknown fields are ignored, as Consul's API
// adds fields over time; malformed JSON gives an error wrapping [ErrBadState] with the
// line of the problem.
func DecodeState(r io.Reader) (*State, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadState, err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadState, describeJSONError(data, err))
	}
	return &s, nil
}

func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("line %d: %v", lineOf(data, syn.Offset), err)
	case errors.As(err, &typ):
		return fmt.Sprintf("line %d: field %s: cannot use JSON %s as %s", lineOf(data, typ.Offset), typ.Field, typ.Value, typ.Type)
	default:
		return err.Error()
	}
}

func lineOf(data []byte, offset int64) int {
	line := 1
	for i := int64(0); i < offset && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
		}
	}
	return line
}

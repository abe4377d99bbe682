// Package meshconfig builds, renders, parses and applies Consul's mesh config entry
// (Kind "mesh", Name "mesh") for the setting that routes cluster-peering control plane
// traffic through mesh gateways: Peering.PeerThroughMeshGateways. Entries are
// *api.MeshConfigEntry values of github.com/hashicorp/consul/api; every other field of the
// entry (TransparentProxy, TLS, HTTP, Meta, Partition...) passes through unchanged.
//
// # The flag
//
// Consul's documentation ("Enabling Peering Control Plane Traffic", Modes) says that the
// flow of control plane traffic through the gateway "is implied by the presence of a Mesh
// config entry with PeerThroughMeshGateways = true":
//
//	Kind = "mesh"
//	Peering {
//	  PeerThroughMeshGateways = true
//	}
//
// [New] returns that entry and [SetPeerThroughMeshGateways] sets the flag on a copy of an
// existing one. Consul reads the flag only from the entry of the default admin partition,
// and rejects it elsewhere; [Validate] checks that rule.
//
// # The order of operations
//
// The same page ties the flag to the two steps of establishing a peering:
//
//	By setting this mesh config on a cluster before creating a peering token, inbound
//	control plane traffic will be sent through the mesh gateway registered this cluster,
//	also known the accepting cluster. As mesh gateway instances are registered at the
//	accepting cluster, their addresses will be exposed to the dialing cluster over the
//	bi-directional peering stream. Setting this mesh config on a cluster before
//	establishing a connection will cause the outbound control plane traffic to flow
//	through the mesh gateway. To route all peering control plane traffic though mesh
//	gateways, both the accepting and dialing cluster must have the mesh config entry
//	applied.
//
// When the order is wrong, Consul 1.14 behaves as follows (seen on a running cluster and in
// its source):
//
//   - Accepting cluster, token generated before the flag: the token lists the Consul
//     servers' addresses, so the dialing cluster's first connection, the secret handshake,
//     goes straight to the servers. Once the flag is set, the accepting cluster sends its
//     mesh gateways' WAN addresses over the peering stream within seconds, so an
//     established peering moves to the gateways; a token not yet used should be generated
//     again.
//   - Accepting cluster, flag set but no mesh gateway registered in the default partition:
//     generating a token fails ("no mesh gateway instances are registered").
//   - Dialing cluster, flag set after the connection was established: Consul does not tear
//     down an active stream; the servers dial their local mesh gateways' LAN addresses
//     first (falling back to the peer's addresses) from the next time they connect.
//
// [NextStep] turns these rules into a decision a host program can act on: given a
// cluster's [Role], its [Stage] and its entry, it returns the [Action] to take and the
// reason.
//
// # Text forms
//
// [RenderHCL], [RenderJSON] and [RenderYAML] write the entry in the form of Consul's
// documentation, with CamelCase keys, Kind first, and zero values left out.
// [ParseHCL], [ParseJSON] and [ParseYAML] read those forms back, and also what
// `consul config write` and Consul's HTTP API accept: a field's name in any letter case or
// its snake_case alias (peering { peer_through_mesh_gateways = true },
// transparent_proxy { mesh_destinations_only = true }), values converted with weak typing
// ("true" is a boolean), and the read-only CreateIndex and ModifyIndex that
// `consul config read` prints. The generic document is decoded with api.DecodeConfigEntry.
//
// Like Consul, which answers `invalid config key "X"`, the parsers reject a key that names
// no field ([ErrUnknownKey]); they also reject a field given twice under two spellings
// ([ErrDuplicateKey]). One difference is deliberate: Consul rejects a Name key on the mesh
// entry, while the parsers accept Name = "mesh", the entry's fixed name, and reject any
// other name ([ErrWrongName]). Errors are [*ParseError] values that name the input and, where
// the format reports one, the line.
//
// # Consul
//
// [Read] fetches the entry (nil when there is none). [Apply] changes only the flag, with a
// check-and-set write that is retried on a concurrent change, so another writer's fields
// are never lost:
//
//	entry, err := meshconfig.Apply(ctx, client, true)
//	switch {
//	case errors.Is(err, meshconfig.ErrPermissionDenied):
//		// the token needs mesh:write (or operator:write)
//	case errors.Is(err, meshconfig.ErrConflict):
//		// other writers kept winning; try again later
//	}
package meshconfig

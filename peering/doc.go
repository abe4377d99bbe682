// Package peering models Consul cluster peerings as a mesh gateway sees them.
//
// A Consul cluster that accepts a peering hands out a token; the dialing cluster
// establishes with it and keeps a gRPC stream open to the acceptor's servers. When the
// mesh config entry sets Peering.PeerThroughMeshGateways, that stream goes through mesh
// gateways, which route it by TLS server name (SNI) without decrypting it:
//
//	dialing server ─► local gateway (LAN) ─► peer gateway (WAN) ─► peer servers (grpc_tls_port)
//	        SNI = server.<peer-dc>.peering.<peer-trust-domain>
//
// This package holds the parts of that picture that do not depend on Envoy:
//
//   - [ServerName] builds the SNI a cluster's servers answer to, and [CheckServerName]
//     says whether a name can be used as an SNI match at all;
//   - [Peering] is Consul's peering object (the JSON of GET /v1/peerings) plus the
//     manual server addresses a host program may set;
//   - [DialTargets] derives, from a peering list, the peer servers a gateway must be
//     able to reach, exactly as Consul's mesh gateway does (one target per peer server
//     name, the most recently modified peering wins, manual addresses first, hostnames
//     before IPs), and reports every peering or address it had to skip;
//   - [DecodeToken] decodes a peering token so that a tool can show where a dialing
//     cluster will connect, without ever printing the establishment secret.
package peering

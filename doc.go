// Package peeringgw routes Consul cluster-peering control-plane traffic through mesh
// gateways, as a library: the logic Consul uses, in small packages that other Go control
// planes and operator tools can embed.
//
// When two Consul clusters peer, the accepting cluster generates a token and the dialing
// cluster establishes with it, then keeps a gRPC stream open to the acceptor's servers.
// With the mesh config entry
//
//	Kind = "mesh"
//	Peering {
//	  PeerThroughMeshGateways = true
//	}
//
// that traffic goes through mesh gateways: the dialing servers connect to their local
// gateway with TLS server name "server.<peer-dc>.peering.<peer-trust-domain>", that gateway
// forwards the connection by SNI to the peer's gateway, which forwards it to its own
// servers' gRPC TLS port. The gateways never decrypt it.
//
// The packages, in the order a deployment needs them:
//
//   - [github.com/peeringgw/peeringgw/gateway] builds the mesh gateway's service
//     registration (kind mesh-gateway) with typed Envoy gateway options;
//   - [github.com/peeringgw/peeringgw/acl] builds the gateway token's policy, with the
//     peering = "read" rule in its CE and Enterprise forms, in HCL and JSON;
//   - [github.com/peeringgw/peeringgw/meshconfig] builds and applies the mesh config
//     entry and says, for an accepting or dialing cluster, what to do next;
//   - [github.com/peeringgw/peeringgw/peering] models peerings, server names and tokens,
//     and reads the gateway's [github.com/peeringgw/peeringgw/peering.State] from Consul;
//   - [github.com/peeringgw/peeringgw/xds] turns a State into the gateway's Envoy
//     clusters, endpoints and listeners, exactly as Consul does, and serves them over
//     ADS with incremental updates.
//
// Data flows one way: Consul (or any other source) → State → xds.Build → Envoy
// resources → xds.Server → Envoy. The configuration packages (gateway, acl, meshconfig)
// produce consul/api values and HCL, JSON or YAML text without I/O; the few functions
// that write to Consul take a context and an *api.Client.
//
// Run go run ./examples/quickstart for a tour that needs no Consul.
package peeringgw

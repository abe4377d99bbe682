// Package xds generates and serves a Consul mesh gateway's Envoy configuration for
// cluster-peering control-plane traffic, the configuration Consul itself generates when
// the mesh config entry sets Peering.PeerThroughMeshGateways.
//
// # What is generated
//
// For a [peering.State] (the gateway service, the local servers, the peerings, the mesh
// entry, the datacenter and trust domain), [Build] returns:
//
//   - the accept side: an EDS cluster "server.<dc>.peering.<trust-domain>" whose
//     endpoints are the local voting servers on their grpc_tls_port, and a filter chain
//     that matches that SNI and proxies TCP to it;
//   - the dial side: for each peer server name of a dialing peering, a cluster (EDS
//     with endpoints for IP addresses, STRICT_DNS for hostnames) and a filter chain for
//     that SNI;
//   - one listener per bind address with the tls_inspector listener filter, the accept
//     chain, the peer chains sorted by name, and the sni_cluster catch-all chain last.
//
// TLS is never terminated: every chain is a plain tcp_proxy selected on the SNI that
// tls_inspector reads, and no cluster or chain has a transport socket. Names, stat
// prefixes, timeouts and field values are exactly Consul's; the conformance tests compare
// the output with Consul 1.14.8's own for the same input. Where this package differs from
// Consul it does so on purpose: hostname peers get STRICT_DNS (Consul's later fix,
// GH#19268); listeners are never bound to hostnames; malformed ports and addresses are
// skipped instead of becoming broken endpoints; gateways outside the default partition
// get no peering resources; output order is deterministic.
//
// # Diagnostics
//
// Build never fails and never panics. Every input it skips or replaces with a default is
// reported as a [Diagnostic] that names the input and wraps an errors.Is-able cause
// ([ErrMissingGRPCTLSPort], [peering.ErrBadPort], ...).
//
// # Incremental updates
//
// A [Builder] keeps the resources of one gateway and, on each update, rebuilds only what
// changed and returns the [Changes]: a peering whose addresses change gives one new
// ClusterLoadAssignment, whatever the number of peerings. [Server] serves gateways over
// go-control-plane's ADS server, both state-of-the-world and delta, with one linear cache
// per gateway and type: a delta client receives exactly the resources whose content
// changed.
package xds

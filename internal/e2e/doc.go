// Package e2e proves against real Consul agents that peeringgw routes
// cluster-peering control-plane traffic through mesh gateways.
//
// Its tests start Consul 1.14.8 agents on loopback (package testconsul) and
// check:
//
//   - Configuration: the gateway registration, the mesh entry (keeping another
//     writer's field), the gateway policy and token from the acl package, and the
//     State read with that token; without peering:read the typed error names the rule.
//   - Differential: for live gateways in peered datacenters, what Consul's own
//     xDS server serves each gateway, restricted to the peering control-plane
//     resources, equals what xds.Build makes of peering.ReadState, up to the
//     deliberate differences listed in the xds package (PeeringOnly and
//     NormalizeConsul say which and why).
//   - End to end: with the mesh config entry set in both datacenters and one
//     mesh gateway in each, served by this library's control plane
//     (an xds.Loop whose xds.Server serves the changes)
//     and carried by the test data plane (package dataplane), a peering becomes
//     ACTIVE, replicates an exported service, and its traffic is counted on
//     both gateways; without the data planes the same peering cannot be
//     established.
//   - With the flag set and no gateway registered, Consul refuses to generate a
//     peering token, and peering.GenerateToken explains why.
//   - Faults: while the agent is down, slow, refusing, resetting, answering 500,
//     or refusing a revoked token (through package faultproxy), the served
//     resources stay the last good set and the watcher reports typed errors;
//     afterwards changes are served again.
//   - Secrets: no ACL token, peering secret, check credential or private key shows
//     in any output of the library or of peergw.
//
// The package itself holds what those tests share: ConsulXDS reads what Consul
// serves a gateway, ControlPlane runs this library's control plane and data
// plane for one gateway, PeeringOnly, NormalizeConsul and Diff make the two sides
// comparable, and the rest drives Consul (RegisterGateway, GenerateToken, Establish,
// WaitPeering, Eventually). The tests that start agents skip under -short.
package e2e

// Package xds generates and serves a Consul mesh gateway's Envoy configuration for
// cluster-peering control-plane traffic, the configuration Consul itself generates when
// the mesh config entry sets Peering.PeerThroughMeshGateways.
//
// # From State to Envoy
//
// Data flows one way:
//
//	peering.State ─► Resolve ─► Model ─► Translate ─► Resources ─► Server ─► Envoy
//
// [Resolve] is a pure function of a [peering.State] (the gateway service, the local
// servers, the peerings, the mesh entry, the datacenter and trust domain). It decides
// every Consul rule in one place and returns a [Model]: the gateway's clusters and
// listeners as plain Go values with every name resolved, and a [Diagnostic] for every
// input it skipped or defaulted. [Translate] turns a Model into go-control-plane
// resources with one small function per resource kind. [Build] is the two in a row.
//
// A [Builder] does the same for a gateway whose State changes: each [Builder.Set]
// derives again only the peerings whose inputs changed, patches the Model, and
// translates only the resources whose model entries changed, returning the [Changes] to
// push. Each resource's version is a hash of its model entry, computed when it is
// built, and [Builder.Version] is derived from those incrementally, so equal content
// has equal versions in every process and after a restart.
//
// A [Loop] is a whole control plane: for each gateway, a [peering.Watcher] reads its
// State from its sources (Consul, static values, or a host program's own), a Builder
// builds it, and a [Server] serves the changes to the gateway's Envoys over ADS, both
// state-of-the-world and delta, through go-control-plane's server and a cache of its own
// per gateway and type whose versions are content hashes (the Builder's, for its
// resources), so that replicas serve the same versions and a change costs each Envoy
// only the names that changed. The Server encodes a resource when a response first
// carries it, and keeps only the encoding. An [Observer] receives what it does, for
// metrics and logs.
//
// # What is generated
//
//   - the accept side: an EDS cluster "server.<dc>.peering.<trust-domain>" whose
//     endpoints are the local voting servers on their grpc_tls_port, and a filter chain
//     that matches that SNI and proxies TCP to it;
//   - the dial side: for each peer server name of a dialing peering, a cluster (EDS
//     with endpoints for IP addresses, STRICT_DNS for hostnames) and a filter chain for
//     that SNI, from the peering with the greatest ModifyIndex (the first listed on a
//     tie);
//   - one listener per bind address with the tls_inspector listener filter, the accept
//     chain, the peer chains sorted by name, and the sni_cluster catch-all chain last.
//
// TLS is never terminated: every chain is a plain tcp_proxy selected on the SNI that
// tls_inspector reads, and no cluster or chain has a transport socket. Names, stat
// prefixes, timeouts and field values are exactly Consul's; the conformance tests compare
// the output with Consul 1.14.8's and 1.22.0's own for the same input. RULES.md, beside
// this file, gives every rule with the Consul source it comes from.
//
// # Consul versions
//
// Generation targets one Consul release from 1.14 to 1.22: [WithConsulVersion] if given
// (to [Build], [Resolve], [NewBuilder] or [NewLoop]), else the version of the State's
// agent (peering.State.Agent.Version) when it is supported, else [DefaultConsulVersion]
// (1.22.0). Each rule that changed between those releases is one switch with its first
// version per minor line, listed in RULES.md §11: the listener name of an IPv6 address
// (1.21.2), the addresses of empty binds (1.22.0-rc1 and 1.22.0) and the DNS lookup
// family (1.22.0) for a dual-stack agent, xds_fetch_timeout_ms (1.15.8, 1.16.4, 1.17.1) and the
// gateway's service-defaults upstream limits (1.18.2).
//
// # Where this package differs from Consul
//
// On purpose, and each time with a diagnostic: hostname peers get STRICT_DNS (Consul's
// own later fix, GH#19268: Envoy rejects LOGICAL_DNS with several hosts); listeners are
// never bound to hostnames; malformed ports and addresses are skipped instead of
// becoming broken endpoints; an undecodable connect_timeout_ms gives the default;
// gateways outside the default partition get no peering resources; an empty tagged or
// custom bind address listens on 127.0.0.1 (as in Consul 1.15 and later, for every
// target); output order is deterministic. STRICT_DNS holds for every target version,
// including those before Consul's fix (1.14.11, 1.15.7, 1.16.3, 1.17.1).
//
// # Diagnostics
//
// Resolve and Build never fail and never panic. Every input they skip or replace with a
// default is reported as a [Diagnostic] that names the input and wraps an errors.Is-able
// cause ([ErrMissingGRPCTLSPort], [ErrPeeringNotEnabled], [peering.ErrBadPort], ...).
// An input that yields no configuration at all (no gateway, a service that is not a
// mesh gateway, no mesh entry or the flag off) is a diagnostic too.
package xds

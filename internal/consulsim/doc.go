// Package consulsim is a Consul-like HTTP server for tests and benchmarks: it answers
// the endpoints the peering package's Consul sources read, as Consul 1.14.8 does,
// for the State of package load with any number of peerings.
//
//	GET /v1/agent/self              Config.Datacenter, Config.Version and Config.BindAddr; never blocks
//	GET /v1/connect/ca/roots        the trust domain; blocks on the index
//	GET /v1/agent/service/<id>      the gateway; blocks on the content hash (hash, X-Consul-ContentHash)
//	GET /v1/config/mesh             the mesh entry, if any, as a list; blocks on the index
//	GET /v1/health/service/consul   the servers; blocks on the index
//	GET /v1/peerings                every peering, with every field Consul returns; blocks on the index
//	GET /v1/config/service-defaults an empty list; blocks on the index
//
// A blocking query (index, or hash, and wait) waits until the endpoint's data changes or
// wait elapses (5 minutes by default, 10 at most, without Consul's jitter), and every
// answer carries X-Consul-Index (or X-Consul-ContentHash), X-Consul-KnownLeader and
// X-Consul-LastContact. Like Consul Community Edition, the server answers 400 to a
// partition parameter unless it runs as Enterprise ([WithEnterprise]), whose agent
// reports a "+ent" version and accepts partition=*.
//
// Peering i is shaped as [load.Peering] (its ID, name, server name and addresses), so
// that the resources built from what the server serves equal those of [load.State]; it
// also has what Consul 1.14.8 returns for a dialing peering: a peer ID, one CA
// certificate in PeerCAPems (PEM-shaped, about 870 bytes, not a parseable
// certificate), the imported and exported services, the remote datacenter, create and
// modify indexes, and StreamStatus times, which like Consul's change on every read.
// One peering's JSON is about 1.3 KB, 13 MB for 10,000.
//
// # Cost
//
// The server is built to be cheap per read, so that a benchmark measures its client:
// each peering's JSON is rendered once per change of that peering, with three
// fixed-width placeholders for the StreamStatus times, and a read copies the rendered
// peerings into one buffer and the current time into the placeholders. When the request
// accepts gzip (as Go's http.Transport asks by default) an answer of 1400 bytes or more
// is compressed, as Consul does; that cost is inherent to gzip, and the server uses the
// fastest level to keep it low.
//
// Mutations ([Server.SetPeeringAddresses], [Server.AddPeering], [Server.RemovePeering],
// [Server.SetMeshConfig], [Server.SetServers], [Server.SetGateway]) are safe for
// concurrent use; each bumps the index of what it changed and wakes the blocked queries.
// [Server.Reads] counts the answers given per endpoint.
package consulsim

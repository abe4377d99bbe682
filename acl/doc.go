// Package acl builds, renders, parses and checks the Consul ACL policy of a mesh gateway
// that routes cluster peering control-plane traffic.
//
// A mesh gateway that carries peering traffic lists every peering to build its routes,
// so its token needs peering:read on all peerings. Consul's page "Enabling Peering
// Control Plane Traffic" gives the rule in two forms:
//
//	Consul CE:          peering = "read"
//	                    { "peering": "read" }
//	Consul Enterprise:  partition_prefix "" { peering = "read" }
//	                    { "partition_prefix": { "": { "peering": "read" } } }
//
// In Consul CE, peering is a top-level rule. In Consul Enterprise peering is scoped to an
// admin partition, and a top-level rule only covers the partition the policy lives in;
// the gateway, which must run in the default partition, reads the peerings of every
// partition, so it needs the rule in a partition_prefix "" block, which matches them all.
// Consul CE parses policies with HCL 1 and ignores the keys it does not know: it accepts
// the Enterprise form but then grants nothing from it (a token with only that rule gets
// 403 when it lists peerings; the tests show this against Consul 1.14.8). A tool that
// cannot tell the editions apart, such as consul-k8s, writes both forms; EditionBoth does
// the same.
//
// The package has four parts:
//
//   - a typed model of the rules language: [Policy], [Rules], [Access], with
//     [Policy.Validate];
//   - builders: [PeeringRead] for the rule alone and [MeshGateway] for the gateway's
//     complete policy (Consul's "Create a mesh gateway token" recipe), for an [Edition];
//   - text: [Policy.RenderHCL] and [Policy.RenderJSON] (canonical, multi-line),
//     [Policy.RenderCompactHCL] and [Policy.RenderCompactJSON] (the one-line forms of
//     Consul's documentation), and [ParseHCL], [ParseJSON] and [Parse] back, with
//     [*ParseError] naming the rule and line of every mistake;
//   - Consul: [Policy.APIPolicy], [CreateOrUpdate] (idempotent) and [CreateToken]; and
//     [Check], which says whether any policy text grants what a peering gateway needs and
//     which of its rules grant more, following Consul's matching rules (exact before
//     prefix, longest prefix, deny first among duplicates, operator as the fallback for
//     mesh and peering).
//
// # Parsing
//
// The parsers read policy text exactly as Consul does: with the HCL 1 grammar
// (github.com/hashicorp/hcl v1.0.0, which reads JSON too) and the decoding and
// validation rules of Consul's acl package. So they accept what Consul accepts, HCL 1's
// leniency included: several attributes on one line (service "web" { policy = "read"
// intentions = "read" }), commas between attributes, nested blocks on one line, rules
// written as objects (service = { web = { policy = "read" } }), keywords in any case,
// numbers where strings are expected, and repeated keys (the last value wins). They
// reject what Consul rejects, with a [*ParseError] naming the line. The only difference
// is deliberate: partition and namespace blocks, which Consul CE ignores, are read and
// validated as Consul Enterprise documents them.
//
// What Consul accepts but ignores or overrides (a misspelt rule such as peerings =
// "read", an attribute a rule does not have, a value set twice) is accepted too, as in
// Consul, with a warning that [WithWarnings] collects and [Strict] turns into an
// error. A misspelt rule grants nothing, so a tool that writes or reviews policies
// should read the warnings.
//
// The tests hold the parsers to this: a corpus of policies from Consul's own tests and
// documentation, each with the verdict of Consul 1.14.8, and a fuzz target, both
// comparing every result with HCL 1's own decoder (hcl.Decode) into structures shaped
// like Consul's. Rendering uses HCL 2's hclwrite; what it writes reads the same in
// HCL 1 and HCL 2.
//
// See https://developer.hashicorp.com/consul/docs/security/acl/acl-rules for the rules
// language and https://developer.hashicorp.com/consul/docs/security/acl/tokens/create/create-a-mesh-gateway-token
// for the gateway recipe.
package acl

// Package servicedef writes a mesh gateway's [gateway.Registration] as the service
// definition file that `consul services register` and the agent's -config-file read,
// in HCL ([RenderHCL]) or JSON ([RenderJSON]), and reads such a file back ([ParseHCL],
// [ParseJSON]).
//
// The file holds one "service" object with snake_case keys: name, id, kind
// (mesh-gateway), address, port, tags, tagged_addresses (lan, wan), meta, partition and
// proxy.config, the gateway's Envoy options. The renderers validate the registration
// first and write only what is set; the parsers refuse what a Registration cannot
// represent rather than drop it. Problems are [*gateway.ValidationError] values, those
// of the file itself wrapping [gateway.ErrDefinition].
//
// The package is separate from gateway so that the programs that only build a
// registration or generate Envoy configuration do not depend on HCL.
package servicedef

package peering

import "github.com/hashicorp/consul/api"

// Service meta keys that Consul servers publish on the "consul" service.
const (
	// MetaGRPCTLSPort is the port of the server's gRPC TLS listener, where peers reach it.
	MetaGRPCTLSPort = "grpc_tls_port"
	// MetaReadReplica is "true" on read replicas (Enterprise), which take no peering
	// traffic.
	MetaReadReplica = "read_replica"
)

// IsVoter reports whether a server entry of State.Servers is a voting server, one that
// takes peering traffic: it has a service whose read_replica meta is not exactly "true"
// (Consul compares case-sensitively, so "TRUE" is a voter).
func IsVoter(s *api.ServiceEntry) bool {
	return s != nil && s.Service != nil && s.Service.Meta[MetaReadReplica] != "true"
}

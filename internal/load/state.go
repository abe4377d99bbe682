package load

import (
	"fmt"
	"slices"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
)

// GatewayID is the service ID of the mesh gateway State describes, the node ID its
// clients connect as.
const GatewayID = "mesh-gateway"

// State returns the State of Consul's own generator benchmark with n peers (the
// input of the xds package's benchmarks): a mesh gateway at 1.2.3.4:8443 in dc1,
// default bind only, PeerThroughMeshGateways on, 3 voters with grpc_tls_port 8503, and
// n dialing peerings with 3 IPv4 addresses each on port 8443. It has n+1 clusters and
// endpoints (the peers' and the accept side's) and one listener.
func State(n int) *peering.State {
	s := &peering.State{
		Datacenter:  "dc1",
		TrustDomain: "11111111-2222-3333-4444-555555555555.consul",
		Gateway: &api.AgentService{
			Kind: api.ServiceKindMeshGateway, ID: GatewayID, Service: GatewayID,
			Address: "1.2.3.4", Port: 8443,
		},
		MeshConfig: &api.MeshConfigEntry{
			Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}},
	}
	for i := 1; i <= 3; i++ {
		s.Servers = append(s.Servers, &api.ServiceEntry{
			Node: &api.Node{Node: fmt.Sprintf("server%d", i), Address: fmt.Sprintf("127.0.0.%d", i), Datacenter: "dc1"},
			Service: &api.AgentService{ID: "consul", Service: "consul",
				Meta: map[string]string{"grpc_port": "8502", "grpc_tls_port": "8503"}},
		})
	}
	for i := range n {
		s.Peerings = append(s.Peerings, Peering(i, false))
	}
	return s
}

// Peering returns peer i of [State]. With alt, its three addresses are others (hosts
// .101 to .103 instead of .1 to .3): setting it changes only that peer's endpoints.
func Peering(i int, alt bool) peering.Peering {
	return peering.Peering{Peering: api.Peering{
		ID:                  fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i),
		Name:                fmt.Sprintf("peer-%d", i),
		PeerServerName:      PeerServerName(i),
		PeerServerAddresses: PeerAddresses(i, alt),
		State:               api.PeeringStateActive,
		ModifyIndex:         uint64(i + 1),
	}}
}

// PeerServerName is the server name of peer i, the name of its cluster and endpoints.
func PeerServerName(i int) string {
	return fmt.Sprintf("server.dc%d.peering.%08x-%04x-4%03x-a%03x-%012x.consul",
		i+2, i, i&0xffff, i&0xfff, (i*7)&0xfff, i)
}

// PeerAddresses are the "ip:port" addresses of peer i; alt gives the other set.
func PeerAddresses(i int, alt bool) []string {
	hi, lo := (i>>8)&0xff, i&0xff
	base := 1
	if alt {
		base = 101
	}
	out := make([]string, 0, 3)
	for j := range 3 {
		out = append(out, fmt.Sprintf("10.%d.%d.%d:8443", hi, lo, base+j))
	}
	return out
}

// WithPeering returns a copy of s in which p replaces the peering with its key, or is
// added at the end. The copy shares everything else with s.
func WithPeering(s *peering.State, p peering.Peering) *peering.State {
	next := *s
	next.Peerings = slices.Clone(s.Peerings)
	if i := slices.IndexFunc(next.Peerings, func(q peering.Peering) bool { return q.Key() == p.Key() }); i >= 0 {
		next.Peerings[i] = p
	} else {
		next.Peerings = append(next.Peerings, p)
	}
	return &next
}

package xds_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// The benchmarks use the input of Consul's own generator benchmark (the
// consul-xds-bench anchor), so the numbers compare directly: a mesh gateway at
// 1.2.3.4:8443 in dc1, default bind only, PeerThroughMeshGateways on, 3 voters with
// grpc_tls_port 8503, and N dialing peerings with 3 IPv4 addresses each on port 8443.

var benchPeerCounts = []int{10, 1000, 10000}

func benchPeerName(i int) string {
	return fmt.Sprintf("server.dc%d.peering.%08x-%04x-4%03x-a%03x-%012x.consul",
		i+2, i, i&0xffff, i&0xfff, (i*7)&0xfff, i)
}

func benchPeerAddrs(i int, alt bool) []string {
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

func benchPeering(i int, alt bool) peering.Peering {
	return peering.Peering{Peering: api.Peering{
		ID:                  fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i),
		Name:                fmt.Sprintf("peer-%d", i),
		PeerServerName:      benchPeerName(i),
		PeerServerAddresses: benchPeerAddrs(i, alt),
		State:               api.PeeringStateActive,
		ModifyIndex:         uint64(i + 1),
	}}
}

func benchState(n int) *peering.State {
	s := &peering.State{
		Datacenter:  "dc1",
		TrustDomain: "11111111-2222-3333-4444-555555555555.consul",
		Gateway: &api.AgentService{
			Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Service: "mesh-gateway",
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
		s.Peerings = append(s.Peerings, benchPeering(i, false))
	}
	return s
}

// BenchmarkBuild measures a full build of every resource from a State.
func BenchmarkBuild(b *testing.B) {
	for _, n := range benchPeerCounts {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			s := benchState(n)
			b.ReportAllocs()
			for b.Loop() {
				res, _ := xds.Build(s)
				if len(res.Clusters) != n+1 {
					b.Fatalf("got %d clusters, want %d", len(res.Clusters), n+1)
				}
			}
		})
	}
}

// BenchmarkUpdateOnePeer measures what a control plane does when one peer's addresses
// change: the Builder produces the changes and the Server stores them in the gateway's
// caches, ready to push. Each iteration changes a different peer.
func BenchmarkUpdateOnePeer(b *testing.B) {
	for _, n := range benchPeerCounts {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			builder := xds.NewBuilder()
			builder.Set(benchState(n))
			srv := xds.NewServer(b.Context())
			srv.SetResources(testNode, builder.Resources())
			updates := [2][]peering.Peering{make([]peering.Peering, n), make([]peering.Peering, n)}
			for i := range n {
				updates[0][i] = benchPeering(i, true)
				updates[1][i] = benchPeering(i, false)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ch := builder.SetPeering(updates[(i/n)%2][i%n])
				if len(ch.Endpoints) != 1 {
					b.Fatalf("got %d changed endpoints, want 1", len(ch.Endpoints))
				}
				if err := srv.Apply(testNode, ch); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

package xds_test

import (
	"fmt"
	"testing"

	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// The benchmarks use the input of Consul's own generator benchmark (the
// consul-xds-bench anchor), so the numbers compare directly: load.State, a mesh gateway
// at 1.2.3.4:8443 in dc1, default bind only, PeerThroughMeshGateways on, 3 voters with
// grpc_tls_port 8503, and N dialing peerings with 3 IPv4 addresses each on port 8443.

var benchPeerCounts = []int{10, 1000, 10000}

func benchState(n int) *peering.State { return load.State(n) }

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

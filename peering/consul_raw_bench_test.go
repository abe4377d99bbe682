package peering_test

import (
	"fmt"
	"testing"

	"github.com/peeringgw/peeringgw/internal/consulsim"
	"github.com/peeringgw/peeringgw/peering"
)

// BenchmarkConsulPeeringsRead measures one blocking read of the peerings after one
// peering changed, through the peerings source of NewConsulSources against consulsim:
// uncompressed (the default), with gzip (the server's compression included), and
// through ConsulSources, whose api client decodes the whole list, for comparison.
func BenchmarkConsulPeeringsRead(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, variant := range []string{"", "/gzip", "/client"} {
			b.Run(fmt.Sprintf("peers=%d%s", n, variant), func(b *testing.B) {
				sim := consulsim.New(b, n)
				var src peering.Sources
				switch variant {
				case "/client":
					src = peering.ConsulSources(sim.Client(), consulsim.GatewayID)
				default:
					var err error
					src, err = peering.NewConsulSources(sim.Config(), consulsim.GatewayID, peering.WithGzip(variant == "/gzip"))
					if err != nil {
						b.Fatal(err)
					}
				}
				ctx := b.Context()
				_, v, err := src.Peerings.Read(ctx, peering.Version{})
				if err != nil {
					b.Fatal(err)
				}
				alt := false
				b.ReportAllocs()
				for b.Loop() {
					alt = !alt
					sim.SetPeeringAddresses(n/2, alt)
					ps, next, err := src.Peerings.Read(ctx, v)
					if err != nil {
						b.Fatal(err)
					}
					if next == v || len(ps) != n {
						b.Fatalf("got version %+v after %+v and %d peerings, want a new version and %d", next, v, len(ps), n)
					}
					v = next
				}
			})
		}
	}
}

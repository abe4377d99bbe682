package xds_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// TestParallelBuildMatchesSequential checks that a first build split among goroutines
// gives exactly the resources, diagnostics and changes of a sequential one, on random
// States with many peerings, duplicate server names across the split points, and every
// kind of bad input.
func TestParallelBuildMatchesSequential(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for i := range scaled(40) {
		s := randomState(r, false)
		for j := range 50 + r.IntN(400) {
			p := randomPeering(r)
			if r.IntN(2) == 0 {
				p.PeerServerName = fmt.Sprintf("server.dc%d.peering.td", r.IntN(200))
				p.Name = fmt.Sprintf("peer-%d", j)
			}
			s.Peerings = append(s.Peerings, p)
		}
		seqRes, seqDiags, seqChanges := buildWith(s, 1<<30)
		parRes, parDiags, parChanges := buildWith(s, 2+r.IntN(64))
		if diff := cmp.Diff(seqRes, parRes, protocmp.Transform()); diff != "" {
			t.Fatalf("state %d: parallel resources differ (-sequential +parallel):\n%s", i, diff)
		}
		if diff := cmp.Diff(seqDiags, parDiags, cmp.Comparer(sameError)); diff != "" {
			t.Fatalf("state %d: parallel diagnostics differ (-sequential +parallel):\n%s", i, diff)
		}
		if diff := cmp.Diff(seqChanges, parChanges, protocmp.Transform()); diff != "" {
			t.Fatalf("state %d: parallel changes differ (-sequential +parallel):\n%s", i, diff)
		}
	}
}

func buildWith(s *peering.State, parallelMin int) (*xds.Resources, []xds.Diagnostic, xds.Changes) {
	defer xds.SetParallelMin(parallelMin)()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	res, diags := xds.Build(s)
	ch := xds.NewBuilder().Set(s)
	return res, diags, ch
}

func sameError(x, y error) bool { return x.Error() == y.Error() }

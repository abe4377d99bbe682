package xds

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/peeringgw/peeringgw/peering"
)

// TestSortCandidates checks the keyed sort against a plain sort by name and rank, on
// names with long shared prefixes, names that are prefixes of others, and ties.
func TestSortCandidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{"", "a", "b", "server.dc", "server.dc1", "server.dc12345678", ".peering", "-x", "zz"}
	for round := range 500 {
		n := 1 + rng.IntN(40)
		cs := make([]*candidate, n)
		for i := range cs {
			var name strings.Builder
			for range 1 + rng.IntN(4) {
				name.WriteString(parts[rng.IntN(len(parts))])
			}
			cs[i] = &candidate{order: i, target: peering.Target{ServerName: name.String(), ModifyIndex: uint64(rng.IntN(3))}}
		}
		want := slices.Clone(cs)
		slices.SortFunc(want, func(x, y *candidate) int {
			return cmp.Or(strings.Compare(x.target.ServerName, y.target.ServerName), rank(x, y))
		})
		sortCandidates(cs)
		if !slices.Equal(cs, want) {
			t.Fatalf("round %d: got %v, want %v", round, names(cs), names(want))
		}
	}
}

func names(cs []*candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s/%d/%d", c.target.ServerName, c.target.ModifyIndex, c.order)
	}
	return out
}

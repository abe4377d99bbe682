package xds

import (
	"runtime"
	"slices"
	"sync"

	"github.com/peeringgw/peeringgw/peering"
)

// parallelMin is the number of peerings from which a first build shares its work
// among CPUs; below it, starting goroutines costs more than it saves.
var parallelMin = 2048

// buildWorkers returns how many goroutines a first build of n peerings uses.
func buildWorkers(n int) int {
	if n < parallelMin {
		return 1
	}
	return min(runtime.GOMAXPROCS(0), 4, n/max(1, parallelMin/2))
}

// setPeeringsParallel is setPeerings for a Builder with no peer entries yet, with the
// work split among workers goroutines, each allocating from its own arena. Its result
// is the one setPeerings gives: candidates are made per slice of the list, sorted
// together, then the entries are built per slice of the sorted groups.
func (b *Builder) setPeeringsParallel(list []peering.Peering, workers int, ch *Changes) {
	arenas := make([]*arena, workers)
	arenas[0] = &b.arena
	for w := 1; w < workers; w++ {
		arenas[w] = new(arena)
	}
	cands, sorted := b.candidatesParallel(list, arenas)
	ps := &b.peers
	ps.cands, ps.byKey, ps.order = cands, nil, max(ps.order, len(list))
	ps.entries = b.entriesParallel(sorted, arenas, ch)
}

// candidatesParallel makes the candidates of list, one slice of it per arena, and
// returns them in list order and the usable ones sorted.
func (b *Builder) candidatesParallel(list []peering.Peering, arenas []*arena) (cands, sorted []*candidate) {
	workers := len(arenas)
	cands = make([]*candidate, len(list))
	usable := make([][]*candidate, workers)
	inParallel(workers, func(w int) {
		lo, hi := w*len(list)/workers, (w+1)*len(list)/workers
		a := arenas[w]
		a.reserveCandidates(hi - lo)
		u := make([]*candidate, 0, hi-lo)
		for i := lo; i < hi; i++ {
			c := b.newCandidate(a, &list[i], keyOf(&list[i]), i)
			c.pos = i
			cands[i] = c
			if c.ok {
				u = append(u, c)
			}
		}
		usable[w] = u
	})
	sorted = slices.Concat(usable...)
	sortCandidates(sorted)
	return cands, sorted
}

// entriesParallel builds the entries of the sorted candidates, one run of whole groups
// per arena, and records their resources in ch in name order.
func (b *Builder) entriesParallel(sorted []*candidate, arenas []*arena, ch *Changes) []*peerEntry {
	workers := len(arenas)
	bounds := groupBounds(sorted, workers)
	entries := make([][]*peerEntry, workers)
	changes := make([]Changes, workers)
	inParallel(workers, func(w int) {
		var wch *Changes
		if ch != nil {
			wch = &changes[w]
		}
		entries[w] = b.buildEntries(arenas[w], sorted[bounds[w]:bounds[w+1]], wch)
	})
	for i := range changes {
		ch.addAll(&changes[i])
	}
	return slices.Concat(entries...)
}

// buildEntries makes the entries of the candidates in sorted, a run of whole groups,
// and their resources, allocating from a.
func (b *Builder) buildEntries(a *arena, sorted []*candidate, ch *Changes) []*peerEntry {
	n, endpoints := 0, 0
	for group := range groups(sorted) {
		n++
		endpoints += len(group[0].target.Addresses)
	}
	a.reserveEntries(n, endpoints)
	out := make([]*peerEntry, 0, n)
	for group := range groups(sorted) {
		e := a.entries.next()
		e.name, e.cands = group[0].target.ServerName, group
		b.refresh(a, e, false, ch)
		out = append(out, e)
	}
	return out
}

// groupBounds splits sorted into parts of about the same size that never cut a group of
// candidates with the same server name, and returns the parts' bounds.
func groupBounds(sorted []*candidate, parts int) []int {
	bounds := make([]int, parts+1)
	for p := 1; p < parts; p++ {
		i := max(bounds[p-1], p*len(sorted)/parts)
		for i > 0 && i < len(sorted) && sorted[i].target.ServerName == sorted[i-1].target.ServerName {
			i++
		}
		bounds[p] = i
	}
	bounds[parts] = len(sorted)
	return bounds
}

// inParallel runs f(0) to f(n-1) at the same time and waits for all of them.
func inParallel(n int, f func(int)) {
	var wg sync.WaitGroup
	for w := 1; w < n; w++ {
		wg.Go(func() { f(w) })
	}
	f(0)
	wg.Wait()
}

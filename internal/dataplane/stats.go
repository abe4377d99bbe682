package dataplane

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// statPollInterval is how often [DataPlane.WaitStat] reads a stat.
const statPollInterval = 2 * time.Millisecond

// stats holds counters and gauges by Envoy stat name.
type stats struct {
	mu sync.Mutex
	m  map[string]*atomic.Uint64
}

// get returns the stat named by parts joined with dots, creating it at zero. Each part
// is sanitised as Envoy does: ':' becomes '_'.
func (s *stats) get(parts ...string) *atomic.Uint64 {
	name := strings.ReplaceAll(strings.Join(parts, "."), ":", "_")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*atomic.Uint64{}
	}
	v := s.m[name]
	if v == nil {
		v = new(atomic.Uint64)
		s.m[name] = v
	}
	return v
}

// inc adds one to a counter.
func (s *stats) inc(parts ...string) { s.get(parts...).Add(1) }

// add adds n to a counter.
func (s *stats) add(n uint64, parts ...string) { s.get(parts...).Add(n) }

// set sets a gauge.
func (s *stats) set(v uint64, parts ...string) { s.get(parts...).Store(v) }

// dec subtracts one from a gauge.
func (s *stats) dec(parts ...string) { s.get(parts...).Add(^uint64(0)) }

func (s *stats) snapshot() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]uint64, len(s.m))
	for k, v := range s.m {
		out[k] = v.Load()
	}
	return out
}

func (s *stats) value(name string) uint64 {
	s.mu.Lock()
	v := s.m[name]
	s.mu.Unlock()
	if v == nil {
		return 0
	}
	return v.Load()
}

// Stats returns every stat by its Envoy name, e.g. "cluster.<name>.upstream_cx_total"
// or "listener.127.0.0.1_8443.downstream_cx_total". A stat never touched is absent,
// which reads as zero.
func (d *DataPlane) Stats() map[string]uint64 { return d.stats.snapshot() }

// Stat returns one stat by its Envoy name, zero if it was never touched.
func (d *DataPlane) Stat(name string) uint64 { return d.stats.value(name) }

// WaitStat polls stat name until ok accepts its value and returns nil, or returns an
// error wrapping ctx.Err() with the last value seen when ctx ends first.
func (d *DataPlane) WaitStat(ctx context.Context, name string, ok func(uint64) bool) error {
	t := time.NewTicker(statPollInterval)
	defer t.Stop()
	for {
		v := d.Stat(name)
		if ok(v) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dataplane: stat %s is %d: %w", name, v, ctx.Err())
		case <-t.C:
		}
	}
}

// AtLeast returns a condition for [DataPlane.WaitStat]: the value is n or more.
func AtLeast(n uint64) func(uint64) bool { return func(v uint64) bool { return v >= n } }

// Equal returns a condition for [DataPlane.WaitStat]: the value is n.
func Equal(n uint64) func(uint64) bool { return func(v uint64) bool { return v == n } }

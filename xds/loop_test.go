package xds_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

// testSource is a source the test sets: reads block until the value changes, and fail
// while an error is set.
type testSource[T any] struct {
	mu      sync.Mutex
	v       T
	index   uint64
	err     error
	changed chan struct{}
}

func newTestSource[T any](v T) *testSource[T] {
	return &testSource[T]{v: v, index: 1, changed: make(chan struct{})}
}

func (s *testSource[T]) Read(ctx context.Context, after peering.Version) (T, peering.Version, error) {
	for {
		s.mu.Lock()
		v, idx, err, ch := s.v, s.index, s.err, s.changed
		s.mu.Unlock()
		if err != nil {
			var zero T
			return zero, peering.Version{}, err
		}
		if after.Index != idx {
			return v, peering.Version{Index: idx}, nil
		}
		select {
		case <-ctx.Done():
			return v, after, ctx.Err()
		case <-ch:
		}
	}
}

func (s *testSource[T]) set(v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v = v
	s.index++
	s.wake()
}

func (s *testSource[T]) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
	s.wake()
}

func (s *testSource[T]) wake() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// testSources are the parts of a State, each set by the test.
type testSources struct {
	dc, td   *testSource[string]
	gw       *testSource[*api.AgentService]
	mesh     *testSource[*api.MeshConfigEntry]
	servers  *testSource[[]*api.ServiceEntry]
	peerings *testSource[[]peering.Peering]
	defaults *testSource[*api.ServiceConfigEntry]
	agent    *testSource[peering.AgentConfig]
	state    *peering.State
}

func newTestSources(s *peering.State) *testSources {
	return &testSources{
		dc: newTestSource(s.Datacenter), td: newTestSource(s.TrustDomain), gw: newTestSource(s.Gateway),
		mesh: newTestSource(s.MeshConfig), servers: newTestSource(s.Servers), peerings: newTestSource(s.Peerings),
		defaults: newTestSource(s.ServiceDefaults), agent: newTestSource(s.Agent),
		state: s,
	}
}

func (ts *testSources) sources() peering.Sources {
	return peering.Sources{Datacenter: ts.dc, TrustDomain: ts.td, Gateway: ts.gw, MeshConfig: ts.mesh, Servers: ts.servers,
		Peerings: ts.peerings, ServiceDefaults: ts.defaults, Agent: ts.agent}
}

// set sets the parts of s that differ from the current State.
func (ts *testSources) set(s *peering.State) {
	old := ts.state
	ts.state = s
	if s.Datacenter != old.Datacenter {
		ts.dc.set(s.Datacenter)
	}
	if s.TrustDomain != old.TrustDomain {
		ts.td.set(s.TrustDomain)
	}
	if s.Gateway != old.Gateway {
		ts.gw.set(s.Gateway)
	}
	if s.MeshConfig != old.MeshConfig {
		ts.mesh.set(s.MeshConfig)
	}
	if !slices.Equal(s.Servers, old.Servers) {
		ts.servers.set(s.Servers)
	}
	if s.ServiceDefaults != old.ServiceDefaults {
		ts.defaults.set(s.ServiceDefaults)
	}
	if s.Agent != old.Agent {
		ts.agent.set(s.Agent)
	}
	ts.peerings.set(s.Peerings)
}

// servedWire returns the resources srv holds for node as a wire.
func servedWire(srv *xds.Server, node string) (wire, error) {
	res, err := srv.Resources(node)
	if err != nil {
		return wire{}, err
	}
	return wireOf(res)
}

// loopRecorder checks, for every update the loop reports, that its Changes are exactly
// the difference between the resources of the previous State served and this one's.
type loopRecorder struct {
	mu      sync.Mutex
	prev    wire
	last    *peering.State // the last State served
	updates int
	errs    []error
}

func (r *loopRecorder) Served(_ string, u *xds.Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates++
	res, _ := xds.Build(u.State)
	cur, err := wireOf(res)
	if err == nil {
		err = changesAreDifference(r.prev, cur, u.Changes)
	}
	if err == nil && u.Err != nil {
		err = u.Err
	}
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("update %d: %w", r.updates, err))
	}
	r.prev, r.last = cur, u.State
}

// waitDelivered waits until the loop has served s itself: what it serves may equal what
// s gives before the loop has read every part of s (an empty set, before the first
// State), and a part read late would then change it.
func (r *loopRecorder) waitDelivered(t *testing.T, s *peering.State, step string) {
	t.Helper()
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.last != nil && reflect.DeepEqual(*r.last, *s)
	}, 5*time.Second, time.Millisecond, "after %s: the loop did not serve the State", step)
}

func (r *loopRecorder) ReadFailed(string, error) {}

func (r *loopRecorder) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

// changesAreDifference checks that ch upserts exactly the resources of cur that are new
// or differ from prev, and removes exactly those of prev that cur lacks.
func changesAreDifference(prev, cur wire, ch xds.Changes) error {
	got := newWire()
	for _, m := range messages(ch.Clusters, ch.Endpoints, ch.Listeners) {
		if err := got.put(m.typ, m.msg); err != nil {
			return err
		}
	}
	removed := [3][]string{ch.RemovedClusters, ch.RemovedEndpoints, ch.RemovedListeners}
	for typ := range 3 {
		var wantUp, wantRm []string
		for name, b := range cur.byName[typ] {
			if old, ok := prev.byName[typ][name]; !ok || string(old) != string(b) {
				wantUp = append(wantUp, name)
			}
		}
		for name := range prev.byName[typ] {
			if _, ok := cur.byName[typ][name]; !ok {
				wantRm = append(wantRm, name)
			}
		}
		gotUp := got.names()[typ]
		slices.Sort(wantUp)
		slices.Sort(wantRm)
		gotRm := slices.Sorted(slices.Values(removed[typ]))
		if !slices.Equal(gotUp, wantUp) || !slices.Equal(gotRm, wantRm) {
			return fmt.Errorf("type %d: pushed %v and removed %v, want %v and %v", typ, gotUp, gotRm, wantUp, wantRm)
		}
	}
	return nil
}

// TestLoopProperty drives a Loop through random sequences of changes to its sources,
// with source failures in between, and checks after every step that the server holds
// exactly what Build gives for the current State, that a failure changes nothing served,
// and that every push carried exactly the resources that changed.
func TestLoopProperty(t *testing.T) {
	sequences := scaled(10)
	for seed := range uint64(3) {
		r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
		for i := range sequences {
			t.Run(fmt.Sprintf("seed=%d/seq=%d", seed, i), func(t *testing.T) {
				runLoopSequence(t, r, randomOps(r, 25))
			})
		}
	}
}

func runLoopSequence(t *testing.T, r *rand.Rand, ops []op) {
	var state *peering.State
	for len(ops) > 0 && state == nil {
		state, ops = ops[0].set, ops[1:]
	}
	ts := newTestSources(state)
	ctx, cancel := context.WithCancel(t.Context())
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll))
	rec := &loopRecorder{prev: newWire()}
	loop, err := xds.NewLoop(srv, []xds.Gateway{{ID: testNode, Sources: ts.sources()}}, xds.WithObserver(rec),
		xds.WithWatchOptions(peering.WithQuietPeriod(0), peering.WithBackoff(time.Millisecond, 5*time.Millisecond)))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	waitServed(t, srv, state, "first State")
	rec.waitDelivered(t, state, "first State")
	for i, o := range ops {
		if r.IntN(8) == 0 {
			// A failing source: nothing served changes, and the loop resumes.
			before, err := servedWire(srv, testNode)
			require.NoError(t, err)
			ts.peerings.fail(peering.ErrUnreachable)
			require.Eventually(t, func() bool { st, _ := loop.Status(testNode); return st.ReadErr != nil }, 5*time.Second, time.Millisecond)
			after, err := servedWire(srv, testNode)
			require.NoError(t, err)
			require.True(t, before.equal(after, false), "a failing source changed what is served")
			ts.peerings.fail(nil)
		}
		inc := &incremental{state: state}
		switch {
		case o.set != nil:
			inc.state = o.set
		case o.peering != nil:
			inc.setPeering(*o.peering)
		default:
			inc.removePeering(o.partition, o.name)
		}
		state = inc.state
		ts.set(state)
		waitServed(t, srv, state, fmt.Sprintf("step %d (%s)", i, o))
		rec.waitDelivered(t, state, fmt.Sprintf("step %d (%s)", i, o))
	}
	require.NoError(t, rec.err())
}

// waitServed waits until srv serves what Build gives for s.
func waitServed(t *testing.T, srv *xds.Server, s *peering.State, step string) {
	t.Helper()
	res, _ := xds.Build(s)
	want, err := wireOf(res)
	require.NoError(t, err)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := servedWire(srv, testNode)
		require.NoError(t, err)
		if got.equal(want, false) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: served %v, want %v", step, got.names(), want.names())
		}
		time.Sleep(time.Millisecond)
	}
}

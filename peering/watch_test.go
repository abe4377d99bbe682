package peering_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/peeringgw/peeringgw/peering"
)

const (
	// fakeWait bounds polls in tests with fake sources.
	fakeWait = 10 * time.Second
	// fakeTick is the polling interval of those tests.
	fakeTick = 2 * time.Millisecond
)

// recorder is a Sink and an error handler that keeps what it receives.
type recorder struct {
	mu     sync.Mutex
	states []*peering.State
	errs   []error
}

func (r *recorder) Update(_ context.Context, s *peering.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
}

func (r *recorder) onError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

// States returns the States delivered so far.
func (r *recorder) States() []*peering.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*peering.State(nil), r.states...)
}

// Errors returns the errors reported so far.
func (r *recorder) Errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// waitState polls until a delivered State satisfies ok and returns the first that does.
func (r *recorder) waitState(t *testing.T, timeout time.Duration, what string, ok func(*peering.State) bool) *peering.State {
	t.Helper()
	var got *peering.State
	require.Eventually(t, func() bool {
		for _, s := range r.States() {
			if ok(s) {
				got = s
				return true
			}
		}
		return false
	}, timeout, fakeTick, "got no State with %s, want one", what)
	return got
}

// waitErrors polls until at least n errors were reported and returns them.
func (r *recorder) waitErrors(t *testing.T, timeout time.Duration, n int) []error {
	t.Helper()
	require.Eventually(t, func() bool { return len(r.Errors()) >= n }, timeout, fakeTick,
		"got %d errors, want at least %d", len(r.Errors()), n)
	return r.Errors()
}

// runWatcher runs a Watcher on src until the returned stop is called or the test ends.
func runWatcher(t *testing.T, src peering.Sources, opts ...peering.WatchOption) (*peering.Watcher, *recorder, func()) {
	t.Helper()
	rec := &recorder{}
	w, err := peering.NewWatcher(src, rec, append([]peering.WatchOption{peering.WithErrorHandler(rec.onError)}, opts...)...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				assert.NoError(t, err)
			case <-time.After(fakeWait):
				t.Errorf("got Run still running %s after cancel, want it returned", fakeWait)
			}
		})
	}
	t.Cleanup(stop)
	return w, rec, stop
}

// fastOpts make a Watcher react quickly.
func fastOpts(quiet time.Duration) []peering.WatchOption {
	return []peering.WatchOption{
		peering.WithQuietPeriod(quiet),
		peering.WithBackoff(time.Millisecond, 10*time.Millisecond),
		peering.WithPollInterval(10 * time.Millisecond),
	}
}

// complete reports whether every part of s is set.
func complete(s *peering.State) bool {
	return s.Datacenter != "" && s.TrustDomain != "" && s.Gateway != nil && len(s.Servers) > 0
}

func gatewayMeta(s *peering.State, key string) string {
	if s.Gateway == nil {
		return ""
	}
	return s.Gateway.Meta[key]
}

func TestWatcherWaitsForEveryPart(t *testing.T) {
	f := newFakes()
	unreachable := fmt.Errorf("%w: connection refused", peering.ErrUnreachable)
	f.gateway.Fail(unreachable)
	w, rec, _ := runWatcher(t, f.sources(), fastOpts(0)...)

	errs := rec.waitErrors(t, fakeWait, 3)
	for _, err := range errs {
		require.ErrorIs(t, err, peering.ErrUnreachable)
	}
	assert.Empty(t, rec.States(), "got States while the gateway could not be read, want none")
	require.ErrorIs(t, w.Err(), peering.ErrUnreachable)
	assert.True(t, w.LastSync().IsZero(), "got last sync %s before the first State, want zero", w.LastSync())

	f.gateway.Fail(nil)
	s := rec.waitState(t, fakeWait, "every part", complete)
	assert.Equal(t, "1", gatewayMeta(s, "v"), "got gateway meta v=%q, want 1", gatewayMeta(s, "v"))
	assert.True(t, s.MeshConfig.Peering.PeerThroughMeshGateways, "got PeerThroughMeshGateways false, want true")
	require.Len(t, s.Peerings, 1, "got %d peerings, want 1", len(s.Peerings))
	require.Eventually(t, func() bool { return w.Err() == nil }, fakeWait, fakeTick, "got Err %v after recovery, want nil", w.Err())
	assert.False(t, w.LastSync().IsZero(), "got zero last sync after a complete read, want a time")
}

func TestWatcherKeepsLastGoodValue(t *testing.T) {
	f := newFakes()
	w, rec, _ := runWatcher(t, f.sources(), fastOpts(0)...)
	first := rec.waitState(t, fakeWait, "every part", complete)
	synced := w.LastSync()

	denied := &peering.PermissionError{Resource: "peerings", Rule: "peering:read"}
	f.peerings.Fail(denied)
	before := len(rec.Errors())
	rec.waitErrors(t, fakeWait, before+3)
	var pe *peering.PermissionError
	require.ErrorAs(t, w.Err(), &pe)
	assert.Equal(t, "peering:read", pe.Rule, "got rule %q, want peering:read", pe.Rule)
	assert.Len(t, rec.States(), 1, "got %d States while peerings fail, want still 1", len(rec.States()))

	// Another part changes: the State delivered keeps the last good peerings.
	f.servers.Set([]*api.ServiceEntry{first.Servers[0], {
		Node:    &api.Node{Node: "server-2", Address: "10.0.0.2"},
		Service: &api.AgentService{Service: "consul", Port: 8300, Meta: map[string]string{"grpc_tls_port": "8503"}},
	}})
	s := rec.waitState(t, fakeWait, "two servers", func(s *peering.State) bool { return len(s.Servers) == 2 })
	assert.Equal(t, first.Peerings, s.Peerings, "got peerings %v while their reads fail, want the last good %v", s.Peerings, first.Peerings)
	assert.Equal(t, synced, w.LastSync(), "got last sync moved while a part fails, want it kept")

	// Recovery with the version already held delivers nothing; a new version does, even
	// with an equal value.
	f.peerings.Fail(nil)
	require.Eventually(t, func() bool { return w.Err() == nil }, fakeWait, fakeTick, "got Err %v after recovery, want nil", w.Err())
	f.td.Set("td2.consul")
	rec.waitState(t, fakeWait, "trust domain td2.consul", func(s *peering.State) bool { return s.TrustDomain == "td2.consul" })
	assert.Len(t, rec.States(), 3, "got %d States, want 3: a recovery with the version held is not delivered", len(rec.States()))
	f.peerings.Set(first.Peerings)
	require.Eventually(t, func() bool { return len(rec.States()) == 4 }, fakeWait, fakeTick,
		"got %d States after a new version of the peerings, want 4", len(rec.States()))
	assert.True(t, w.LastSync().After(synced), "got last sync %s, want after %s", w.LastSync(), synced)
}

func TestWatcherCoalesces(t *testing.T) {
	const changes = 20
	tests := []struct {
		name  string
		quiet time.Duration
		check func(t *testing.T, deliveries int)
	}{
		{
			name:  "quiet period coalesces a burst",
			quiet: 500 * time.Millisecond,
			check: func(t *testing.T, n int) {
				assert.Equal(t, 1, n, "got %d deliveries for a burst of %d changes, want 1", n, changes)
			},
		},
		{
			name:  "no quiet period delivers each change",
			quiet: 0,
			check: func(t *testing.T, n int) {
				assert.Greater(t, n, 1, "got %d deliveries for %d changes read one by one, want more than 1", n, changes)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakes()
			_, rec, _ := runWatcher(t, f.sources(), fastOpts(tt.quiet)...)
			rec.waitState(t, fakeWait, "every part", complete)
			for i := range changes {
				f.gateway.Set(&api.AgentService{Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Service: "mesh-gateway", Port: 8443,
					Meta: map[string]string{"v": strconv.Itoa(i + 2)}})
				// The Watcher reads every change, so only its coalescing can merge them.
				require.Eventually(t, f.gateway.Served, fakeWait, fakeTick, "got change %d unread, want it read", i)
			}
			last := strconv.Itoa(changes + 1)
			rec.waitState(t, fakeWait, "the last change", func(s *peering.State) bool { return gatewayMeta(s, "v") == last })
			tt.check(t, len(rec.States())-1)
		})
	}
}

func TestWatcherSharesValues(t *testing.T) {
	f := newFakes()
	_, rec, _ := runWatcher(t, f.sources(), fastOpts(0)...)
	first := rec.waitState(t, fakeWait, "every part", complete)

	f.td.Set("td2.consul")
	s := rec.waitState(t, fakeWait, "trust domain td2.consul", func(s *peering.State) bool { return s.TrustDomain == "td2.consul" })
	assert.NotSame(t, first, s, "got the same *State twice, want a new one per delivery")
	assert.Equal(t, "td.consul", first.TrustDomain, "got the first State changed by a later delivery")
	// The parts that did not change are the values the sources returned, not copies.
	assert.Same(t, first.Gateway, s.Gateway, "got the gateway copied, want it shared")
	assert.Same(t, first.MeshConfig, s.MeshConfig, "got the mesh entry copied, want it shared")
	assert.Same(t, &first.Servers[0], &s.Servers[0], "got the servers copied, want them shared")
	assert.Same(t, &first.Peerings[0], &s.Peerings[0], "got the peerings copied, want them shared")

	// A new version of a part replaces the value, even an equal one.
	f.peerings.Set(slices.Clone(first.Peerings))
	next := rec.waitState(t, fakeWait, "the new peerings", func(n *peering.State) bool { return &n.Peerings[0] != &first.Peerings[0] })
	assert.Equal(t, first.Peerings, next.Peerings, "got peerings %v, want the equal new ones", next.Peerings)
	assert.Same(t, s.Gateway, next.Gateway, "got the gateway copied, want it shared")
}

func TestWatcherPollsSourcesThatCannotBlock(t *testing.T) {
	f := newFakes()
	var dc atomic.Value
	dc.Store("dc1")
	src := f.sources()
	src.Datacenter = peering.SourceFunc[string](func(context.Context, peering.Version) (string, peering.Version, error) {
		return dc.Load().(string), peering.Version{}, nil
	})
	_, rec, _ := runWatcher(t, src, fastOpts(0)...)
	rec.waitState(t, fakeWait, "datacenter dc1", func(s *peering.State) bool { return s.Datacenter == "dc1" })
	dc.Store("dc9")
	rec.waitState(t, fakeWait, "datacenter dc9", func(s *peering.State) bool { return s.Datacenter == "dc9" })
}

func TestWatcherStopsEverything(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*fakes, *peering.Sources)
		sink   func(started chan<- struct{}) peering.Sink
	}{
		{
			name:   "reads blocked",
			modify: func(*fakes, *peering.Sources) {},
		},
		{
			name: "a part in backoff",
			modify: func(_ *fakes, s *peering.Sources) {
				s.Peerings = failing[[]peering.Peering](errors.New("always fails"))
			},
		},
		{
			name:   "sink waiting for the context",
			modify: func(*fakes, *peering.Sources) {},
			sink: func(started chan<- struct{}) peering.Sink {
				return peering.SinkFunc(func(ctx context.Context, _ *peering.State) {
					close(started)
					<-ctx.Done()
				})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			f := newFakes()
			src := f.sources()
			tt.modify(f, &src)
			started := make(chan struct{})
			var sink peering.Sink = peering.SinkFunc(func(context.Context, *peering.State) {})
			if tt.sink != nil {
				sink = tt.sink(started)
			}
			w, err := peering.NewWatcher(src, sink, peering.WithBackoff(time.Hour, time.Hour))
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			if tt.sink != nil {
				<-started
			}
			require.Eventually(t, f.gateway.Served, fakeWait, fakeTick, "got the gateway unread, want it read")
			cancel()
			require.NoError(t, <-done)
		})
	}
}

func TestNewWatcherErrors(t *testing.T) {
	sink := peering.SinkFunc(func(context.Context, *peering.State) {})
	tests := []struct {
		name   string
		modify func(*peering.Sources)
		sink   peering.Sink
		opts   []peering.WatchOption
	}{
		{name: "no sink", modify: func(*peering.Sources) {}},
		{name: "no datacenter source", modify: func(s *peering.Sources) { s.Datacenter = nil }, sink: sink},
		{name: "no trust domain source", modify: func(s *peering.Sources) { s.TrustDomain = nil }, sink: sink},
		{name: "no gateway source", modify: func(s *peering.Sources) { s.Gateway = nil }, sink: sink},
		{name: "no mesh config source", modify: func(s *peering.Sources) { s.MeshConfig = nil }, sink: sink},
		{name: "no servers source", modify: func(s *peering.Sources) { s.Servers = nil }, sink: sink},
		{name: "no peerings source", modify: func(s *peering.Sources) { s.Peerings = nil }, sink: sink},
		{name: "negative quiet period", modify: func(*peering.Sources) {}, sink: sink, opts: []peering.WatchOption{peering.WithQuietPeriod(-1)}},
		{name: "zero backoff", modify: func(*peering.Sources) {}, sink: sink, opts: []peering.WatchOption{peering.WithBackoff(0, time.Second)}},
		{name: "backoff limit below initial", modify: func(*peering.Sources) {}, sink: sink, opts: []peering.WatchOption{peering.WithBackoff(time.Second, time.Millisecond)}},
		{name: "zero poll interval", modify: func(*peering.Sources) {}, sink: sink, opts: []peering.WatchOption{peering.WithPollInterval(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakes().sources()
			tt.modify(&src)
			w, err := peering.NewWatcher(src, tt.sink, tt.opts...)
			require.ErrorIs(t, err, peering.ErrBadConfig)
			assert.Nil(t, w, "got a Watcher, want none")
		})
	}

	t.Run("Run twice", func(t *testing.T) {
		w, err := peering.NewWatcher(newFakes().sources(), sink)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		require.NoError(t, w.Run(ctx))
		require.ErrorIs(t, w.Run(ctx), peering.ErrBadConfig)
	})
}

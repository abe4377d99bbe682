package peering

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"
)

// Sink receives the States a [Watcher] delivers.
type Sink interface {
	// Update receives a complete State. Each call gets a new *State, which the sink may
	// keep, but its parts are shared with earlier and later States and with the sources
	// (see [Source]): they are immutable, and a sink that wants to change one copies it
	// first. A part that did not change is the very value of the previous State, so a
	// sink may compare parts by identity to skip work. Calls are serial; changes made
	// while Update runs are coalesced into the next call. ctx is the one given to
	// [Watcher.Run]; Update should return soon after it ends, as Run waits for it.
	Update(ctx context.Context, s *State)
}

// SinkFunc adapts a function to a [Sink].
type SinkFunc func(ctx context.Context, s *State)

var _ Sink = SinkFunc(nil)

// Update calls f(ctx, s).
func (f SinkFunc) Update(ctx context.Context, s *State) { f(ctx, s) }

// WatchOption configures a [Watcher].
type WatchOption interface{ apply(*watchOptions) }

type watchOptions struct {
	quiet      time.Duration
	backoffMin time.Duration
	backoffMax time.Duration
	poll       time.Duration
	onError    func(error)
}

type watchOptionFunc func(*watchOptions)

func (f watchOptionFunc) apply(o *watchOptions) { f(o) }

// maxDelayFactor bounds how long changes that keep coming delay a delivery: at most this
// many quiet periods after the first of them.
const maxDelayFactor = 10

// WithQuietPeriod sets how long the Watcher waits after a change for more changes before
// it delivers them together in one State. Under a steady stream of changes it delivers
// at least every ten quiet periods. 0 delivers every change at once. The default is
// 100 ms; a negative value is an error.
func WithQuietPeriod(d time.Duration) WatchOption {
	return watchOptionFunc(func(o *watchOptions) { o.quiet = d })
}

// WithBackoff sets how long the Watcher waits before reading a part again after reads
// of it failed n times in a row: a random time between d/2 and d, where d is initial
// doubled n-1 times, but never more than limit. The defaults are 500 ms and 30 s;
// initial must be positive and limit at least initial.
func WithBackoff(initial, limit time.Duration) WatchOption {
	return watchOptionFunc(func(o *watchOptions) { o.backoffMin, o.backoffMax = initial, limit })
}

// WithPollInterval sets how often the Watcher reads a source that cannot block (one that
// returns the zero [Version], such as the Consul datacenter source). The default is one
// minute; it must be positive.
func WithPollInterval(d time.Duration) WatchOption {
	return watchOptionFunc(func(o *watchOptions) { o.poll = d })
}

// WithErrorHandler sets a function that receives every error a source returns, as the
// source returned it ([*PermissionError], [ErrUnreachable], ...). Calls are serial and
// made by the reading goroutine, which waits for them, so the function should be quick.
// The default is none; [Watcher.Err] reports the current errors either way.
func WithErrorHandler(f func(error)) WatchOption {
	return watchOptionFunc(func(o *watchOptions) { o.onError = f })
}

func (o *watchOptions) check() error {
	var errs []error
	if o.quiet < 0 {
		errs = append(errs, fmt.Errorf("%w: quiet period %s, want 0 or more", ErrBadConfig, o.quiet))
	}
	if o.backoffMin <= 0 || o.backoffMax < o.backoffMin {
		errs = append(errs, fmt.Errorf("%w: backoff from %s to %s, want 0 < initial <= limit", ErrBadConfig, o.backoffMin, o.backoffMax))
	}
	if o.poll <= 0 {
		errs = append(errs, fmt.Errorf("%w: poll interval %s, want more than 0", ErrBadConfig, o.poll))
	}
	return errors.Join(errs...)
}

// backoff returns how long to wait after the given number of failures in a row.
func (o *watchOptions) backoff(failures int) time.Duration {
	d := o.backoffMin
	for i := 1; i < failures && d < o.backoffMax; i++ {
		if d > o.backoffMax/2 {
			d = o.backoffMax
			break
		}
		d *= 2
	}
	d = min(d, o.backoffMax)
	return d/2 + rand.N(d/2+1)
}

// Watcher keeps a [State] current from [Sources] and delivers it to a [Sink].
//
// It runs one loop per part of the State, each reading its source with blocking reads
// (see [Source]). Changes are coalesced: after a change the Watcher waits for a quiet
// period ([WithQuietPeriod]) before it delivers. A part whose read fails keeps its last
// good value, its error goes to the error handler ([WithErrorHandler]) and to
// [Watcher.Err], and it is read again after a backoff with jitter ([WithBackoff]).
//
// The Watcher never delivers an empty or partial State because a read failed: the first
// State is delivered once every part has been read successfully, and later States hold,
// for each part, the last value read successfully.
//
// Only changes are delivered, and telling them costs nothing in proportion to the data:
// a part read from a blocking source changed when its [Version] did, so a new Version
// with equal data still causes a delivery (in which the consumer's own diff finds
// nothing to do); a part read from a source that cannot block (the zero Version)
// changed when its value is not deeply equal to the last one, which such small values
// make cheap. A read that returns the Version the Watcher already holds, as a blocking
// read that timed out or the first read after a failure does, delivers nothing.
//
// States are not copied: each delivery is a new *State whose parts are the values the
// sources returned, shared with earlier deliveries (see [Sink]).
type Watcher struct {
	src  Sources
	sink Sink
	opts watchOptions
	ran  atomic.Bool

	// changed holds a token when a part changed since the delivery loop last looked.
	changed chan struct{}

	mu       sync.Mutex
	state    State
	have     [partCount]bool  // the part was read successfully at least once
	errs     [partCount]error // the error of the part's last read, nil after a success
	dirty    bool             // state changed since the last delivery
	lastSync time.Time

	// errMu makes the error handler's calls serial.
	errMu sync.Mutex
}

// NewWatcher returns a Watcher that reads from src and delivers to sink once it runs.
// Every source of src must be set but the optional ServiceDefaults and Agent. Errors
// wrap [ErrBadConfig].
func NewWatcher(src Sources, sink Sink, opts ...WatchOption) (*Watcher, error) {
	o := watchOptions{
		quiet:      100 * time.Millisecond,
		backoffMin: 500 * time.Millisecond,
		backoffMax: 30 * time.Second,
		poll:       time.Minute,
	}
	for _, opt := range opts {
		opt.apply(&o)
	}
	errs := []error{src.check(), o.check()}
	if sink == nil {
		errs = append(errs, fmt.Errorf("%w: no sink", ErrBadConfig))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	w := &Watcher{src: src, sink: sink, opts: o, changed: make(chan struct{}, 1)}
	// An optional part without a source counts as read: it stays zero.
	w.have[partServiceDefaults] = src.ServiceDefaults == nil
	w.have[partAgent] = src.Agent == nil
	return w, nil
}

// Run watches the sources and delivers States to the sink until ctx ends, then waits
// for every goroutine it started (and a running Update) to return, and returns nil. A
// Watcher runs once: a second call returns an error wrapping [ErrBadConfig].
func (w *Watcher) Run(ctx context.Context) error {
	if !w.ran.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: Run called twice", ErrBadConfig)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		watchPart(ctx, w, partDatacenter, w.src.Datacenter, func(s *State) *string { return &s.Datacenter })
	})
	wg.Go(func() {
		watchPart(ctx, w, partTrustDomain, w.src.TrustDomain, func(s *State) *string { return &s.TrustDomain })
	})
	wg.Go(func() {
		watchPart(ctx, w, partGateway, w.src.Gateway, func(s *State) **api.AgentService { return &s.Gateway })
	})
	wg.Go(func() {
		watchPart(ctx, w, partMeshConfig, w.src.MeshConfig, func(s *State) **api.MeshConfigEntry { return &s.MeshConfig })
	})
	wg.Go(func() {
		watchPart(ctx, w, partServers, w.src.Servers, func(s *State) *[]*api.ServiceEntry { return &s.Servers })
	})
	wg.Go(func() {
		watchPart(ctx, w, partPeerings, w.src.Peerings, func(s *State) *[]Peering { return &s.Peerings })
	})
	if w.src.ServiceDefaults != nil {
		wg.Go(func() {
			watchPart(ctx, w, partServiceDefaults, w.src.ServiceDefaults, func(s *State) **api.ServiceConfigEntry { return &s.ServiceDefaults })
		})
	}
	if w.src.Agent != nil {
		wg.Go(func() {
			watchPart(ctx, w, partAgent, w.src.Agent, func(s *State) *AgentConfig { return &s.Agent })
		})
	}
	w.deliver(ctx)
	wg.Wait()
	return nil
}

// Err returns the errors of the parts whose last read failed, joined, or nil when the
// last read of every part succeeded.
func (w *Watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return errors.Join(w.errs[:]...)
}

// LastSync returns when a read last succeeded while every part's last read had
// succeeded: the last time the Watcher knew its State to be current. A blocking read
// that ends without a change counts. It is the zero time until every part has been
// read.
func (w *Watcher) LastSync() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastSync
}

// watchPart reads one part until ctx ends, storing what it reads into the field of the
// Watcher's State that field returns.
func watchPart[T any](ctx context.Context, w *Watcher, p part, src Source[T], field func(*State) *T) {
	var after Version
	var last Version // the Version of the value the Watcher holds, once held
	held := false
	failures := 0
	for {
		v, next, err := src.Read(ctx, after)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			w.fail(p, err)
			after = Version{} // the next successful read returns at once
			if !sleep(ctx, w.opts.backoff(failures)) {
				return
			}
			continue
		}
		failures = 0
		w.store(p, func(s *State) bool {
			f := field(s)
			if held && !partChanged(last, next, *f, v) {
				return false
			}
			*f = v
			return true
		})
		after, last, held = next, next, true
		if next.IsZero() && !sleep(ctx, w.opts.poll) {
			return
		}
	}
}

// partChanged reports whether a read that returned v at Version next changed a part that
// holds old, read at Version last. A blocking source changed when its Version did;
// only the small values of sources that cannot block are compared.
func partChanged[T any](last, next Version, old, v T) bool {
	if !next.IsZero() {
		return next != last
	}
	return !last.IsZero() || !reflect.DeepEqual(old, v)
}

// store records a successful read of part p; apply updates the State and reports
// whether it changed it.
func (w *Watcher) store(p part, apply func(*State) bool) {
	w.mu.Lock()
	changed := apply(&w.state) || !w.have[p]
	w.have[p] = true
	w.errs[p] = nil
	if w.complete() && errors.Join(w.errs[:]...) == nil {
		w.lastSync = time.Now()
	}
	w.dirty = w.dirty || changed
	w.mu.Unlock()
	if changed {
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
}

// fail records a failed read of part p and reports err.
func (w *Watcher) fail(p part, err error) {
	w.mu.Lock()
	w.errs[p] = err
	w.mu.Unlock()
	if w.opts.onError != nil {
		w.errMu.Lock()
		defer w.errMu.Unlock()
		w.opts.onError(err)
	}
}

// complete reports whether every part was read; w.mu must be held.
func (w *Watcher) complete() bool {
	for _, ok := range w.have {
		if !ok {
			return false
		}
	}
	return true
}

// deliver hands States to the sink as parts change, until ctx ends.
func (w *Watcher) deliver(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.changed:
		}
		if !w.settle(ctx) {
			return
		}
		if s := w.snapshot(); s != nil {
			w.sink.Update(ctx, s)
		}
	}
}

// settle waits until no part has changed for the quiet period, or for ten quiet periods
// in all. It returns false when ctx ends.
func (w *Watcher) settle(ctx context.Context) bool {
	quiet := w.opts.quiet
	if quiet == 0 {
		return ctx.Err() == nil
	}
	deadline := time.Now().Add(maxDelayFactor * quiet)
	t := time.NewTimer(quiet)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case <-w.changed:
			wait := min(quiet, time.Until(deadline))
			if wait <= 0 {
				return true
			}
			t.Reset(wait)
		}
	}
}

// snapshot returns a new State holding the current parts when they changed since the
// last one and every part has been read, else nil. The parts are shared, not copied.
func (w *Watcher) snapshot() *State {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.dirty || !w.complete() {
		return nil
	}
	w.dirty = false
	s := w.state
	return &s
}

// sleep waits for d or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

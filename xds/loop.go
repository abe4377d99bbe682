package xds

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peeringgw/peeringgw/peering"
)

// ErrBadLoop is wrapped by the errors [NewLoop] and [Loop.Run] return for a wrong
// configuration or use.
var ErrBadLoop = errors.New("xds: bad loop")

// Gateway is one gateway a [Loop] serves.
type Gateway struct {
	// ID is the gateway's service ID, the node ID its Envoys connect as.
	ID string
	// Sources give the parts of the gateway's State: [peering.ConsulSources] for a
	// Consul agent, [peering.StaticSources] for parts that do not change, or any
	// [peering.Source] of the host program's own.
	Sources peering.Sources
}

// Update is what one State of a gateway gave, as a [Loop] reports it to its [Observer].
type Update struct {
	// State is the State that was built. It shares values with earlier States and must
	// not be modified.
	State *peering.State
	// Model is what the gateway serves now; it must not be modified.
	Model *Model
	// Diagnostics are the inputs of State that generation skipped or defaulted.
	Diagnostics []Diagnostic
	// Changes are the resources pushed: only those whose content changed, all of them
	// for the first State.
	Changes Changes
	// Version identifies the resources served now by their content.
	Version string
	// First reports the gateway's first State.
	First bool
	// Err is the server's error applying the changes. None is expected: the Server
	// encodes a Builder's resources when it first sends them, and [Build]'s output
	// always encodes; it is reported rather than dropped.
	Err error
}

// Observer receives what a [Loop] does, for metrics and logs. Calls for one gateway are
// serial and made by the goroutine that builds its States, which waits for them, so
// they should be quick. Nothing secret is passed: errors from the sources never hold
// tokens.
type Observer interface {
	// Served is called after a State of gateway id was built and what changed handed
	// to the server.
	Served(id string, u *Update)
	// ReadFailed is called when reading a part of gateway id's State failed: the loop
	// keeps serving the last good configuration and reads that part again after a
	// backoff.
	ReadFailed(id string, err error)
}

// ObserverFuncs adapts functions to an [Observer]; a nil function ignores its events.
type ObserverFuncs struct {
	// OnServed receives the Served calls.
	OnServed func(id string, u *Update)
	// OnReadFailed receives the ReadFailed calls.
	OnReadFailed func(id string, err error)
}

var _ Observer = ObserverFuncs{}

// Served calls f.OnServed, if set.
func (f ObserverFuncs) Served(id string, u *Update) {
	if f.OnServed != nil {
		f.OnServed(id, u)
	}
}

// ReadFailed calls f.OnReadFailed, if set.
func (f ObserverFuncs) ReadFailed(id string, err error) {
	if f.OnReadFailed != nil {
		f.OnReadFailed(id, err)
	}
}

// LoopOption configures a [Loop].
type LoopOption interface{ apply(*loopOptions) }

type loopOptions struct {
	observer Observer
	watch    []peering.WatchOption
	build    []BuildOption
}

type loopOptionFunc func(*loopOptions)

func (f loopOptionFunc) apply(o *loopOptions) { f(o) }

// WithObserver sets the [Observer] that receives every update and read error. The
// default is none.
func WithObserver(o Observer) LoopOption {
	return loopOptionFunc(func(opts *loopOptions) { opts.observer = o })
}

// WithWatchOptions sets the options of the [peering.Watcher] of each gateway: how
// changes are coalesced, how failed reads back off, how often sources that cannot block
// are polled. The defaults are the Watcher's. The Loop sets the error handler itself:
// read errors go to the [Observer].
func WithWatchOptions(opts ...peering.WatchOption) LoopOption {
	return loopOptionFunc(func(o *loopOptions) { o.watch = append(o.watch, opts...) })
}

// Loop is a control plane for one or more mesh gateways: for each, a [peering.Watcher]
// reads its State from its sources, a [Builder] resolves each State and translates
// only what changed, and the changes are pushed to a [Server], which serves them to the
// gateway's Envoys. It keeps serving the last good configuration while sources fail,
// and reports what it does to an [Observer].
type Loop struct {
	srv      *Server
	opts     loopOptions
	gateways []*loopGateway
	ran      atomic.Bool
}

// loopGateway is one gateway of a Loop. Its Builder is used only by its Watcher's sink,
// whose calls are serial.
type loopGateway struct {
	id      string
	watcher *peering.Watcher
	builder *Builder

	mu     sync.Mutex
	status GatewayStatus
}

// GatewayStatus is the state of one gateway of a [Loop].
type GatewayStatus struct {
	// Served reports that the gateway's first State has been served.
	Served bool
	// Version identifies the resources served by their content; empty until served.
	Version string
	// Clusters, Endpoints and Listeners count the resources served.
	Clusters, Endpoints, Listeners int
	// Diagnostics are those of the last State served.
	Diagnostics []Diagnostic
	// Updates counts the States built, and Pushes those that changed a resource.
	Updates, Pushes int
	// ReadErr joins the errors of the parts whose last read failed; nil when every
	// part's last read succeeded.
	ReadErr error
	// LastSync is when the sources were last known to be current (see
	// [peering.Watcher.LastSync]); zero until every part has been read.
	LastSync time.Time
}

// NewLoop returns a Loop that serves gateways from srv once it runs. Gateway IDs must be
// distinct and non-empty, and every source set. [WithConsulVersion] sets the Consul
// version every gateway's resources target; without it each State's agent version
// decides, else [DefaultConsulVersion]. Errors wrap [ErrBadLoop] (and
// [peering.ErrBadConfig] for the watch options).
func NewLoop(srv *Server, gateways []Gateway, opts ...LoopOption) (*Loop, error) {
	l := &Loop{srv: srv}
	for _, opt := range opts {
		opt.apply(&l.opts)
	}
	if srv == nil {
		return nil, fmt.Errorf("%w: nil server", ErrBadLoop)
	}
	if len(gateways) == 0 {
		return nil, fmt.Errorf("%w: no gateway", ErrBadLoop)
	}
	var errs []error
	for i, gw := range gateways {
		if gw.ID == "" || slices.ContainsFunc(gateways[:i], func(o Gateway) bool { return o.ID == gw.ID }) {
			errs = append(errs, fmt.Errorf("%w: gateway ID %q is empty or given twice", ErrBadLoop, gw.ID))
			continue
		}
		g := &loopGateway{id: gw.ID, builder: NewBuilder(l.opts.build...)}
		w, err := peering.NewWatcher(gw.Sources, peering.SinkFunc(func(_ context.Context, s *peering.State) { l.serve(g, s) }),
			append(slices.Clone(l.opts.watch), peering.WithErrorHandler(l.readFailed(g)))...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: gateway %s: %w", ErrBadLoop, gw.ID, err))
			continue
		}
		g.watcher = w
		srv.AddGateway(gw.ID) // its Envoys may connect before its first State
		l.gateways = append(l.gateways, g)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return l, nil
}

// Run watches every gateway's sources and serves their resources until ctx ends, then
// waits for its goroutines and returns nil; what the server holds stays served. A Loop
// runs once: a second call returns an error wrapping [ErrBadLoop].
func (l *Loop) Run(ctx context.Context) error {
	if !l.ran.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: Run called twice", ErrBadLoop)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(l.gateways))
	for i, g := range l.gateways {
		wg.Go(func() { errs[i] = g.watcher.Run(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Status returns the status of gateway id, and false when the Loop does not serve it.
func (l *Loop) Status(id string) (GatewayStatus, bool) {
	for _, g := range l.gateways {
		if g.id == id {
			g.mu.Lock()
			st := g.status
			g.mu.Unlock()
			st.ReadErr, st.LastSync = g.watcher.Err(), g.watcher.LastSync()
			return st, true
		}
	}
	return GatewayStatus{}, false
}

// serve builds one State of g and pushes what changed.
func (l *Loop) serve(g *loopGateway, s *peering.State) {
	ch := g.builder.Set(s)
	g.mu.Lock()
	first := !g.status.Served
	g.mu.Unlock()
	var err error
	if first || !ch.Empty() {
		err = l.srv.Apply(g.id, ch)
	}
	m := g.builder.Model()
	u := &Update{State: s, Model: m, Diagnostics: g.builder.Diagnostics(), Changes: ch,
		Version: g.builder.Version(), First: first, Err: err}
	g.mu.Lock()
	st := &g.status
	st.Served, st.Version, st.Diagnostics = true, u.Version, u.Diagnostics
	st.Clusters, st.Endpoints, st.Listeners = len(m.Clusters), m.assignments(), len(m.Listeners)
	st.Updates++
	if first || !ch.Empty() {
		st.Pushes++
	}
	g.mu.Unlock()
	if l.opts.observer != nil {
		l.opts.observer.Served(g.id, u)
	}
}

// readFailed reports a failed read of g's sources.
func (l *Loop) readFailed(g *loopGateway) func(error) {
	return func(err error) {
		if l.opts.observer != nil {
			l.opts.observer.ReadFailed(g.id, err)
		}
	}
}

// assignments counts the ClusterLoadAssignments of m.
func (m *Model) assignments() int {
	n := 0
	for i := range m.Clusters {
		if m.Clusters[i].hasAssignment() {
			n++
		}
	}
	return n
}

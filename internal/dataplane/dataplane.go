package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// defaultListenerFiltersTimeout is Envoy's listener_filters_timeout default.
const defaultListenerFiltersTimeout = 15 * time.Second

// DataPlane executes the Envoy configuration of a peering mesh gateway: it binds the
// listeners, reads the SNI of each connection, selects a filter chain and proxies the
// bytes, untouched, to an endpoint of the chosen cluster. The package documentation
// lists what it implements. It is safe for concurrent use.
type DataPlane struct {
	nodeID string
	opts   options
	stats  stats

	// ctx ends when the data plane closes: it stops DNS refreshes, dials and Run.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// update serialises configuration changes (Apply and the xDS stream).
	update sync.Mutex

	mu          sync.RWMutex
	closed      bool
	clusters    map[string]*cluster
	assignments map[string][]netip.AddrPort
	listeners   map[string]*listener
	conns       map[net.Conn]struct{}
	// versions are the xDS versions of the applied resources, by type URL and name.
	versions map[string]map[string]string
}

// Option configures a [DataPlane].
type Option interface{ apply(*options) }

type options struct {
	logger          *slog.Logger
	lookup          func(ctx context.Context, host string) ([]netip.Addr, error)
	connectAttempts int
	filtersTimeout  time.Duration
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithLogger sets where the data plane logs rejected resources and connection errors.
// The default, also used for nil, discards logs.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) { o.logger = l })
}

// WithLookup sets how STRICT_DNS and LOGICAL_DNS clusters resolve hostnames. Of the
// results a V4_ONLY cluster uses the IPv4 ones, an ALL cluster all of them; IP literals
// are not looked up. The default, also used for nil, is the system resolver,
// net.DefaultResolver.LookupNetIP with network "ip".
func WithLookup(f func(ctx context.Context, host string) ([]netip.Addr, error)) Option {
	return optionFunc(func(o *options) { o.lookup = f })
}

// WithConnectAttempts sets how many upstream connections tcp_proxy tries for one
// downstream connection, each to the next endpoint in round-robin order. The default,
// also used for 0 or less, tries every endpoint of the cluster once. 1 is Envoy's own default
// (max_connect_attempts unset), where a failed connect closes the downstream
// connection.
func WithConnectAttempts(n int) Option {
	return optionFunc(func(o *options) { o.connectAttempts = n })
}

// WithListenerFiltersTimeout sets how long tls_inspector waits for a ClientHello
// before closing the connection. The default, also used for 0 or less, is Envoy's,
// 15s.
func WithListenerFiltersTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) { o.filtersTimeout = d })
}

func systemLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("dataplane: resolve %s: %w", host, err)
	}
	return addrs, nil
}

// New returns a data plane with no configuration, identified as Envoy node nodeID
// when it connects to an ADS server with [DataPlane.Run]. Close it when done.
func New(nodeID string, opts ...Option) *DataPlane {
	var o options
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.lookup == nil {
		o.lookup = systemLookup
	}
	if o.filtersTimeout <= 0 {
		o.filtersTimeout = defaultListenerFiltersTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &DataPlane{
		nodeID:      nodeID,
		opts:        o,
		ctx:         ctx,
		cancel:      cancel,
		clusters:    map[string]*cluster{},
		assignments: map[string][]netip.AddrPort{},
		listeners:   map[string]*listener{},
		conns:       map[net.Conn]struct{}{},
		versions:    map[string]map[string]string{},
	}
}

// Apply replaces the whole configuration with the given resources, as a static Envoy
// bootstrap would set it: all or nothing. If any resource is rejected, or a listener
// cannot bind, nothing changes and the error joins one [*ResourceError] per rejected
// resource. Listeners kept at the same address keep their socket; removed listeners
// close theirs, and their open connections run to completion.
func (d *DataPlane) Apply(clusters []*clusterv3.Cluster, endpoints []*endpointv3.ClusterLoadAssignment, listeners []*listenerv3.Listener) error {
	d.update.Lock()
	defer d.update.Unlock()
	if d.isClosed() {
		return ErrClosed
	}
	cb := newBatch[*clusterSpec](resourcev3.ClusterType)
	for _, c := range clusters {
		add(cb, c.GetName(), "", c.GetName(), compileCluster, c)
	}
	eb := newBatch[[]netip.AddrPort](resourcev3.EndpointType)
	for _, e := range endpoints {
		add(eb, e.GetClusterName(), "", e.GetClusterName(), compileAssignment, e)
	}
	lb := newBatch[*listenerSpec](resourcev3.ListenerType)
	for _, l := range listeners {
		add(lb, l.GetName(), "", l.GetName(), compileListener, l)
	}
	if err := errors.Join(cb.err(), eb.err(), lb.err()); err != nil {
		return err
	}
	bound := d.bindAll(lb)
	if err := lb.err(); err != nil {
		d.release(bound)
		return err
	}
	d.putClusters(cb.specs)
	d.dropClusters(stale(cb.specs, keys(&d.mu, d.clusters)))
	d.putAssignments(eb.specs)
	d.dropAssignments(stale(eb.specs, keys(&d.mu, d.assignments)))
	d.putListeners(bound)
	d.dropListeners(stale(lb.specs, keys(&d.mu, d.listeners)))
	d.clearVersions()
	return nil
}

// Addr returns the address listener name is bound to, which tells the port when the
// configuration asks for port 0, or nil when there is no such listener.
func (d *DataPlane) Addr(name string) net.Addr {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if l := d.listeners[name]; l != nil {
		return l.ln.Addr()
	}
	return nil
}

// Close stops the data plane: it closes every listener and every open connection,
// stops DNS refreshes and ends [DataPlane.Run], and waits for all of it.
func (d *DataPlane) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	var errs []error
	for name, l := range d.listeners {
		if err := l.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("dataplane: close listener %q: %w", name, err))
		}
	}
	for c := range d.conns {
		d.closeConn(c)
	}
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	return errors.Join(errs...)
}

func (d *DataPlane) isClosed() bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.closed
}

// track registers an open connection so that Close can close it; it closes c and
// returns false when the data plane is already closed.
func (d *DataPlane) track(c net.Conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		d.closeConn(c)
		return false
	}
	d.conns[c] = struct{}{}
	return true
}

func (d *DataPlane) untrack(c net.Conn) {
	d.mu.Lock()
	delete(d.conns, c)
	d.mu.Unlock()
	d.closeConn(c)
}

// closeConn closes a connection whose close error nobody can act on (the peer may have
// closed it already), logging it at debug level.
func (d *DataPlane) closeConn(c net.Conn) {
	if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		d.opts.logger.Debug("close connection", "remote", c.RemoteAddr(), "error", err)
	}
}

// stale returns the names in have that are not keys of keep.
func stale[S any](keep map[string]S, have []string) []string {
	var out []string
	for _, name := range have {
		if _, ok := keep[name]; !ok {
			out = append(out, name)
		}
	}
	return out
}

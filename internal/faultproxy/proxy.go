package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// Errors of a Proxy.
var (
	// ErrNotHTTP is returned when a Status fault is set on a proxy that forwards TCP:
	// only an HTTP proxy can answer requests itself.
	ErrNotHTTP = errors.New("faultproxy: status faults need an HTTP proxy")
	// ErrBadFault is returned for a Status fault whose code is not an HTTP status.
	ErrBadFault = errors.New("faultproxy: bad fault")
	// ErrClosed is returned by the methods of a closed Proxy.
	ErrClosed = errors.New("faultproxy: proxy closed")
)

// dialTimeout bounds the connection to the target of each proxied connection.
const dialTimeout = 5 * time.Second

// Option configures a Proxy.
type Option func(*options)

type options struct {
	http bool
}

// HTTP makes the proxy speak HTTP: it serves the requests it accepts with
// httputil.ReverseProxy, so that it can also answer them itself ([Status]) and add
// latency per request instead of per TCP segment. By default it forwards TCP bytes
// without reading them.
func HTTP() Option { return func(o *options) { o.http = true } }

// Proxy forwards connections from a loopback address to a target, and injects the
// fault set with [Proxy.Set] and the latency set with [Proxy.SetLatency], both
// changeable at any time. Its address stays the same for its whole life, including
// across [Refuse]. It is safe for concurrent use.
type Proxy struct {
	target    string
	addr      string
	rp        *httputil.ReverseProxy // nil for TCP
	transport *http.Transport        // the reverse proxy's
	srv       *http.Server           // nil for TCP
	queue     *connQueue             // hands accepted connections to srv

	mu      sync.Mutex
	fault   Fault
	latency time.Duration
	lis     net.Listener // nil while refusing
	conns   map[*conn]struct{}
	changed chan struct{} // closed when the fault changes
	closed  bool
	done    chan struct{} // closed by Close
	stats   Stats
	wg      sync.WaitGroup
}

// Stats counts what a proxy has seen.
type Stats struct {
	// Connections is the number of connections accepted.
	Connections int
	// Requests is the number of HTTP requests received (HTTP proxies only).
	Requests int
	// Received is the number of bytes received from clients (TCP proxies only),
	// forwarded or not.
	Received int64
}

// New starts a proxy to target ("host:port") listening on a free port of 127.0.0.1,
// passing everything through.
func New(target string, opts ...Option) (*Proxy, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{
		target: target, addr: lis.Addr().String(), lis: lis,
		conns: map[*conn]struct{}{}, changed: make(chan struct{}), done: make(chan struct{}),
	}
	if o.http {
		p.startHTTP()
	}
	p.wg.Add(1)
	go p.accept(lis)
	return p, nil
}

// Addr returns the proxy's address, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.addr }

// Target returns the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Set changes the fault. Switching to [Refuse] or [Reset], or away from [Hang], also
// closes every open connection, so that no request started before the change
// completes after it; the other changes apply to new connections and requests (and,
// for Hang, to the bytes of open connections).
func (p *Proxy) Set(f Fault) error {
	if f.kind == kindStatus {
		if p.srv == nil {
			return fmt.Errorf("%w: %v", ErrNotHTTP, f)
		}
		if f.code < 100 || f.code > 999 {
			return fmt.Errorf("%w: HTTP status %d", ErrBadFault, f.code)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	old := p.fault
	p.fault = f
	close(p.changed)
	p.changed = make(chan struct{})
	if f.kind == kindRefuse || f.kind == kindReset || (old.kind == kindHang && f.kind != kindHang) {
		p.cutLocked()
	}
	switch {
	case f.kind == kindRefuse && p.lis != nil:
		err := p.lis.Close()
		p.lis = nil
		if err != nil {
			return fmt.Errorf("faultproxy: stop listening: %w", err)
		}
	case f.kind != kindRefuse && p.lis == nil:
		lis, err := net.Listen("tcp", p.addr)
		if err != nil {
			return fmt.Errorf("faultproxy: listen again on %s: %w", p.addr, err)
		}
		p.lis = lis
		p.wg.Add(1)
		go p.accept(lis)
	}
	return nil
}

// Fault returns the current fault.
func (p *Proxy) Fault() Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fault
}

// SetLatency sets the delay added to each direction of the traffic: to every chunk of
// bytes a TCP proxy forwards, or to every request and every response an HTTP proxy
// forwards, so a round trip takes at least twice d longer. It applies to bytes and
// requests received from then on. The default is 0.
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = max(d, 0)
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close stops the proxy: it stops listening, closes every connection and waits for
// its goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed = true
	close(p.done)
	var err error
	if p.lis != nil {
		err = p.lis.Close()
		p.lis = nil
	}
	p.cutLocked()
	p.mu.Unlock()
	if p.srv != nil {
		err = errors.Join(err, p.srv.Close())
	}
	p.wg.Wait()
	if p.transport != nil {
		p.transport.CloseIdleConnections()
	}
	if err != nil {
		return fmt.Errorf("faultproxy: close: %w", err)
	}
	return nil
}

// state returns the fault, the latency and the channel closed at the next change.
func (p *Proxy) state() (Fault, time.Duration, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fault, p.latency, p.changed
}

// cutLocked closes every open connection. p.mu must be held.
func (p *Proxy) cutLocked() {
	for c := range p.conns {
		delete(p.conns, c)
		_ = c.Conn.Close() // cutting is the point; an error means it was closed already
	}
}

// accept serves lis until it is closed.
func (p *Proxy) accept(lis net.Listener) {
	defer p.wg.Done()
	for {
		c, err := lis.Accept()
		if err != nil {
			return
		}
		p.handle(c)
	}
}

// handle applies the connection-level faults to c and starts serving it.
func (p *Proxy) handle(nc net.Conn) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = nc.Close() // the proxy is closing
		return
	}
	p.stats.Connections++
	if p.fault.kind == kindReset {
		p.mu.Unlock()
		reset(nc)
		return
	}
	c := p.trackLocked(nc, true)
	p.mu.Unlock()
	if p.queue != nil {
		p.queue.push(c)
		return
	}
	p.wg.Add(1)
	go p.pipe(c)
}

// trackLocked registers nc, a connection from a client or to the target, as open, to
// be closed by a cut. p.mu must be held.
func (p *Proxy) trackLocked(nc net.Conn, client bool) *conn {
	c := &conn{Conn: nc, p: p, client: client}
	p.conns[c] = struct{}{}
	return c
}

// reset closes c with a TCP reset instead of an orderly close.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // best effort: without it the close is orderly, still a failure
	}
	_ = c.Close() // closing is the fault
}

// conn is an open connection of the proxy; closing it forgets it.
type conn struct {
	net.Conn
	p      *Proxy
	client bool // accepted from a client, not dialled to the target
	once   sync.Once
}

// Close closes the connection and forgets it.
func (c *conn) Close() error {
	c.once.Do(func() {
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	})
	return c.Conn.Close()
}

// wait waits for d, and reports false if done or stop was closed first.
func wait(d time.Duration, stop, done <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	case <-done:
		return false
	}
}

// targetURL is the URL an HTTP proxy forwards to.
func targetURL(target string) *url.URL { return &url.URL{Scheme: "http", Host: target} }

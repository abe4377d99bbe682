package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"
)

// listener is a bound listener. Its spec can be swapped while it runs: connections
// already accepted keep the filter chain they were given.
type listener struct {
	ln   net.Listener
	spec atomic.Pointer[listenerSpec]
	// stat is the listener's stat root, "listener.<address>".
	stat string
	// fresh is set on a listener bound by the current update and not yet running.
	fresh bool
}

// release closes the sockets of prepared listeners that the update bound but will not
// start.
func (d *DataPlane) release(prepared map[*listenerSpec]*listener) {
	for _, l := range prepared {
		if l.fresh {
			d.closeListener(l)
		}
	}
}

// bindAll prepares every listener of b: a listener whose name and address are unchanged
// keeps its socket; any other is bound now. A listener that cannot bind is rejected in
// b. It returns the prepared listeners with their new specs.
func (d *DataPlane) bindAll(b *batch[*listenerSpec]) map[*listenerSpec]*listener {
	out := map[*listenerSpec]*listener{}
	for _, name := range b.names() {
		spec := b.specs[name]
		l, err := d.bind(spec)
		if err != nil {
			b.reject(name, err)
			continue
		}
		out[spec] = l
	}
	return out
}

func (d *DataPlane) bind(spec *listenerSpec) (*listener, error) {
	d.mu.RLock()
	old := d.listeners[spec.name]
	d.mu.RUnlock()
	if old != nil && old.spec.Load().addr == spec.addr {
		return old, nil
	}
	ln, err := net.Listen("tcp", spec.addr.String())
	if err != nil {
		return nil, fmt.Errorf("bind %s: %w", spec.addr, err)
	}
	// Envoy names listener stats after the configured address. Port 0 is the one case
	// where that differs from the bound address; the bound one keeps such listeners apart.
	addr := spec.addr
	if bound, ok := ln.Addr().(*net.TCPAddr); ok && addr.Port() == 0 {
		addr = netip.AddrPortFrom(addr.Addr(), uint16(bound.Port))
	}
	return &listener{ln: ln, stat: "listener." + addr.String(), fresh: true}, nil
}

// putListeners installs prepared listeners: new sockets start accepting, kept ones take
// their new spec, and a listener that moved to another address closes its old socket.
func (d *DataPlane) putListeners(prepared map[*listenerSpec]*listener) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for spec, l := range prepared {
		l.spec.Store(spec)
		if !l.fresh {
			continue
		}
		l.fresh = false
		if d.closed {
			d.closeListener(l)
			continue
		}
		if old := d.listeners[spec.name]; old != nil {
			d.closeListener(old)
		}
		d.listeners[spec.name] = l
		d.wg.Go(func() { d.accept(l) })
	}
	d.stats.set(uint64(len(d.listeners)), "listener_manager.total_listeners_active")
}

// dropListeners closes the sockets of removed listeners; their open connections run to
// completion, as when Envoy drains a listener.
func (d *DataPlane) dropListeners(names []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, name := range names {
		if l := d.listeners[name]; l != nil {
			d.closeListener(l)
			delete(d.listeners, name)
		}
	}
	d.stats.set(uint64(len(d.listeners)), "listener_manager.total_listeners_active")
}

func (d *DataPlane) closeListener(l *listener) {
	if err := l.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		d.opts.logger.Warn("close listener", "address", l.ln.Addr(), "error", err)
	}
}

// accept serves a listener until its socket closes.
func (d *DataPlane) accept(l *listener) {
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				d.opts.logger.Warn("accept", "address", l.ln.Addr(), "error", err)
			}
			return
		}
		spec := l.spec.Load()
		if !d.track(conn) {
			return
		}
		d.wg.Go(func() {
			defer d.untrack(conn)
			d.serve(l.stat, spec, conn)
		})
	}
}

// serve runs one downstream connection: listener stats, tls_inspector, filter chain
// selection, then the chain.
func (d *DataPlane) serve(stat string, spec *listenerSpec, conn net.Conn) {
	d.stats.inc(stat, "downstream_cx_total")
	d.stats.get(stat, "downstream_cx_active").Add(1)
	defer d.stats.dec(stat, "downstream_cx_active")
	var sni string
	var peeked []byte
	if spec.inspectTLS {
		var ok bool
		if sni, peeked, ok = d.inspect(conn, stat); !ok {
			return
		}
	}
	chain := spec.match(sni)
	if chain == nil {
		d.stats.inc(stat, "no_filter_chain_match")
		return
	}
	d.proxy(conn, chain, sni, peeked)
}

// inspect runs tls_inspector: it reads the ClientHello, if any, within the listener
// filters timeout and returns the SNI and the bytes read, or false when the connection
// must close (timeout, or the peer closed or failed before a decision).
func (d *DataPlane) inspect(conn net.Conn, stat string) (string, []byte, bool) {
	if err := conn.SetReadDeadline(time.Now().Add(d.opts.filtersTimeout)); err != nil {
		return "", nil, false
	}
	h := peekClientHello(conn)
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		return "", nil, false
	}
	var ne net.Error
	switch {
	case h.tls && h.serverName == "":
		d.stats.inc("tls_inspector.tls_found")
		d.stats.inc("tls_inspector.sni_not_found")
	case h.tls:
		d.stats.inc("tls_inspector.tls_found")
		d.stats.inc("tls_inspector.sni_found")
	case errors.As(h.readErr, &ne) && ne.Timeout():
		d.stats.inc(stat, "downstream_pre_cx_timeout")
		return "", nil, false
	case h.readErr != nil:
		return "", nil, false
	default:
		d.stats.inc("tls_inspector.tls_not_found")
	}
	return h.serverName, slices.Clip(h.bytes), true
}

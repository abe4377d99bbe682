package dataplane

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
)

// dnsLookupTimeout bounds one resolution of one hostname.
const dnsLookupTimeout = 5 * time.Second

// errNoHealthyUpstream: the cluster has no endpoint to connect to.
var errNoHealthyUpstream = errors.New("dataplane: no healthy upstream")

// errOverflow: a circuit breaker of the cluster is open.
var errOverflow = errors.New("dataplane: circuit breaker overflow")

// cluster is a live cluster: its spec, its current endpoints and its round-robin
// position.
type cluster struct {
	spec  *clusterSpec
	hosts atomic.Pointer[[]netip.AddrPort]
	next  atomic.Uint64
	// active counts the open upstream connections, pending those connecting, for the
	// circuit breakers.
	active, pending atomic.Int64
	// stop ends the DNS refresh of a DNS cluster; nil for EDS.
	stop context.CancelFunc
}

// cluster returns the live cluster name, or nil.
func (d *DataPlane) cluster(name string) *cluster {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.clusters[name]
}

// setHosts replaces the cluster's endpoints; new connections use them.
func (d *DataPlane) setHosts(c *cluster, hosts []netip.AddrPort) {
	c.hosts.Store(&hosts)
	d.stats.set(uint64(len(hosts)), "cluster", c.spec.name, "membership_total")
}

// putClusters adds or replaces clusters. A replaced cluster's open connections run to
// completion; an EDS cluster takes the endpoints already received for its name; a DNS
// cluster resolving the same names as the one it replaces starts with its endpoints.
func (d *DataPlane) putClusters(specs map[string]*clusterSpec) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	for name, spec := range specs {
		c := &cluster{spec: spec}
		old := d.clusters[name]
		switch {
		case spec.typ == clusterv3.Cluster_EDS:
			d.setHosts(c, d.assignments[name])
		case old != nil && old.spec.sameTargets(spec):
			d.setHosts(c, *old.hosts.Load())
		default:
			d.setHosts(c, nil)
		}
		if spec.typ != clusterv3.Cluster_EDS {
			ctx, stop := context.WithCancel(d.ctx)
			c.stop = stop
			d.wg.Go(func() { d.refreshDNS(ctx, c) })
		}
		if old != nil && old.stop != nil {
			old.stop()
		}
		d.clusters[name] = c
	}
	d.stats.set(uint64(len(d.clusters)), "cluster_manager.active_clusters")
}

// dropClusters removes clusters; their open connections run to completion.
func (d *DataPlane) dropClusters(names []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, name := range names {
		if c := d.clusters[name]; c != nil && c.stop != nil {
			c.stop()
		}
		delete(d.clusters, name)
	}
	d.stats.set(uint64(len(d.clusters)), "cluster_manager.active_clusters")
}

// putAssignments stores ClusterLoadAssignments and gives them to their EDS clusters.
func (d *DataPlane) putAssignments(specs map[string][]netip.AddrPort) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, hosts := range specs {
		d.assignments[name] = hosts
		if c := d.clusters[name]; c != nil && c.spec.typ == clusterv3.Cluster_EDS {
			d.setHosts(c, hosts)
		}
	}
}

// dropAssignments forgets ClusterLoadAssignments; their EDS clusters lose their
// endpoints.
func (d *DataPlane) dropAssignments(names []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, name := range names {
		delete(d.assignments, name)
		if c := d.clusters[name]; c != nil && c.spec.typ == clusterv3.Cluster_EDS {
			d.setHosts(c, nil)
		}
	}
}

// edsClusters returns the names of the EDS clusters, sorted.
func (d *DataPlane) edsClusters() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []string
	for name, c := range d.clusters {
		if c.spec.typ == clusterv3.Cluster_EDS {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// refreshDNS resolves a DNS cluster's hostnames now and every dns_refresh_rate until
// ctx ends. A hostname that fails to resolve keeps its previous addresses, as Envoy
// keeps a STRICT_DNS host set on failure.
func (d *DataPlane) refreshDNS(ctx context.Context, c *cluster) {
	last := make([][]netip.AddrPort, len(c.spec.targets))
	t := time.NewTicker(c.spec.dnsRefresh)
	defer t.Stop()
	for {
		d.resolve(ctx, c, last)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// resolve resolves every target once and publishes the hosts, unless ctx has ended.
func (d *DataPlane) resolve(ctx context.Context, c *cluster, last [][]netip.AddrPort) {
	name := c.spec.name
	d.stats.inc("cluster", name, "update_attempt")
	failed := false
	for i, t := range c.spec.targets {
		addrs, err := d.lookup(ctx, t.host, c.spec.allFamilies)
		if err != nil {
			d.opts.logger.Warn("resolve", "cluster", name, "host", t.host, "error", err)
			failed = true
			continue
		}
		last[i] = last[i][:0]
		for _, a := range addrs {
			last[i] = append(last[i], netip.AddrPortFrom(a, t.port))
		}
	}
	if ctx.Err() != nil {
		return
	}
	var hosts []netip.AddrPort
	for _, l := range last {
		hosts = append(hosts, l...)
	}
	if c.spec.typ == clusterv3.Cluster_LOGICAL_DNS && len(hosts) > 1 {
		hosts = hosts[:1]
	}
	d.setHosts(c, hosts)
	if failed {
		d.stats.inc("cluster", name, "update_failure")
		return
	}
	d.stats.inc("cluster", name, "update_success")
}

// lookup resolves one hostname to its IPv4 addresses (V4_ONLY), or with all to its
// IPv4 and IPv6 addresses (ALL), in the resolver's order.
func (d *DataPlane) lookup(ctx context.Context, host string, all bool) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return family([]netip.Addr{ip}, all), nil
	}
	ctx, cancel := context.WithTimeout(ctx, dnsLookupTimeout)
	defer cancel()
	addrs, err := d.opts.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	return family(addrs, all), nil
}

// family keeps the IPv4 addresses, or with all every address.
func family(addrs []netip.Addr, all bool) []netip.Addr {
	var out []netip.Addr
	for _, a := range addrs {
		if a = a.Unmap(); all || a.Is4() {
			out = append(out, a)
		}
	}
	return out
}

// connect opens an upstream connection to cluster c: the next endpoint in round-robin
// order, then, if that fails, the following ones, up to the configured attempts. It
// counts Envoy's cluster stats for each attempt.
func (d *DataPlane) connect(c *cluster) (net.Conn, error) {
	name := c.spec.name
	hosts := *c.hosts.Load()
	if len(hosts) == 0 {
		d.stats.inc("cluster", name, "upstream_cx_none_healthy")
		return nil, errNoHealthyUpstream
	}
	if c.spec.limits == noLimits {
		return d.dial(c, hosts)
	}
	if !c.admit() {
		d.stats.inc("cluster", name, "upstream_cx_overflow")
		return nil, errOverflow
	}
	conn, err := d.dial(c, hosts)
	c.pending.Add(-1)
	if err != nil {
		c.active.Add(-1)
		return nil, err
	}
	return &countedConn{Conn: conn, c: c}, nil
}

// admit reserves an upstream connection of c, pending until dialed, if its circuit
// breakers allow one more: max_connections and max_requests bound the open ones,
// max_pending_requests those connecting.
func (c *cluster) admit() bool {
	l := c.spec.limits
	active, pending := c.active.Add(1), c.pending.Add(1)
	if over(active, l.maxConnections) || over(active, l.maxRequests) || over(pending, l.maxPending) {
		c.active.Add(-1)
		c.pending.Add(-1)
		return false
	}
	return true
}

func over(n, limit int64) bool { return limit >= 0 && n > limit }

// countedConn releases its cluster's connection count once closed.
type countedConn struct {
	net.Conn
	c    *cluster
	once sync.Once
}

func (cc *countedConn) Close() error {
	cc.once.Do(func() { cc.c.active.Add(-1) })
	return cc.Conn.Close()
}

// CloseWrite half-closes the connection when it can (a TCP connection can).
func (cc *countedConn) CloseWrite() error {
	if cw, ok := cc.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errNoHalfClose
}

// errNoHalfClose: the connection cannot be half-closed.
var errNoHalfClose = errors.New("dataplane: connection cannot be half-closed")

// dial connects to the next endpoints of c in round-robin order, up to the configured
// attempts.
func (d *DataPlane) dial(c *cluster, hosts []netip.AddrPort) (net.Conn, error) {
	name := c.spec.name
	attempts := d.opts.connectAttempts
	if attempts <= 0 {
		attempts = len(hosts)
	}
	start := c.next.Add(1) - 1
	dialer := net.Dialer{Timeout: c.spec.connectTimeout}
	var errs []error
	for i := range uint64(attempts) {
		host := hosts[(start+i)%uint64(len(hosts))]
		d.stats.inc("cluster", name, "upstream_cx_total")
		conn, err := dialer.DialContext(d.ctx, "tcp", host.String())
		if err == nil {
			return conn, nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			d.stats.inc("cluster", name, "upstream_cx_connect_timeout")
		}
		d.stats.inc("cluster", name, "upstream_cx_connect_fail")
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

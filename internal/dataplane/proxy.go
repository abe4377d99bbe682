package dataplane

import (
	"bytes"
	"io"
	"net"
)

// proxy runs a filter chain on a downstream connection: sni_cluster, then tcp_proxy.
// The cluster is the one sni_cluster set from the SNI when it ran on a connection with
// an SNI (Envoy's per-connection cluster override wins over the configured cluster),
// otherwise tcp_proxy's own. An unknown cluster, no endpoint or a failed connect closes
// the connection.
func (d *DataPlane) proxy(down net.Conn, chain *chainSpec, sni string, peeked []byte) {
	stat := "tcp." + chain.statPrefix
	d.stats.inc(stat, "downstream_cx_total")
	name := chain.cluster
	if chain.sniCluster && sni != "" {
		name = sni
	}
	c := d.cluster(name)
	if c == nil {
		d.stats.inc(stat, "downstream_cx_no_route")
		return
	}
	up, err := d.connect(c)
	if err != nil {
		d.opts.logger.Debug("connect upstream", "cluster", name, "error", err)
		return
	}
	if !d.track(up) {
		return
	}
	defer d.untrack(up)
	d.stats.get("cluster", name, "upstream_cx_active").Add(1)
	defer d.stats.dec("cluster", name, "upstream_cx_active")
	rx, tx := d.pipe(down, up, peeked)
	d.stats.add(uint64(rx), stat, "downstream_cx_rx_bytes_total")
	d.stats.add(uint64(tx), stat, "downstream_cx_tx_bytes_total")
}

// pipe copies bytes both ways, the peeked bytes first, until both directions end. A
// direction that reaches EOF half-closes its destination, so the other direction goes
// on; an error in either direction closes both connections. It returns the bytes read
// from and written to the downstream connection.
func (d *DataPlane) pipe(down, up net.Conn, peeked []byte) (rx, tx int64) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		rx = d.copyHalf(up, io.MultiReader(bytes.NewReader(peeked), down), down, up)
	}()
	tx = d.copyHalf(down, up, down, up)
	<-done
	return rx, tx
}

// copyHalf copies src to dst, then half-closes dst, or closes both connections on error.
func (d *DataPlane) copyHalf(dst net.Conn, src io.Reader, down, up net.Conn) int64 {
	n, err := io.Copy(dst, src)
	if err == nil {
		if cw, ok := dst.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			return n
		}
	}
	d.closeConn(down)
	d.closeConn(up)
	return n
}

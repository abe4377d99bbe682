package faultproxy

import (
	"net"
	"time"
)

// chunk is bytes read from one side, to be written to the other at a given time.
type chunk struct {
	b  []byte
	at time.Time
}

// pipe forwards c to the target until either side closes, or a cut closes c.
func (p *Proxy) pipe(c *conn) {
	defer p.wg.Done()
	defer func() { _ = c.Close() }() // closing ends the other direction too
	up, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		return // the client sees its connection closed, as with a dead target
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = up.Close() // the proxy is closing
		return
	}
	upc := p.trackLocked(up, false)
	p.mu.Unlock()
	defer func() { _ = upc.Close() }()
	ended := make(chan struct{}, 2)
	p.wg.Add(2)
	go p.pump(upc, c, ended)
	go p.pump(c, upc, ended)
	<-ended
}

// received counts n bytes read, if they come from a client, and returns the fault and
// latency that apply to them.
func (p *Proxy) received(fromClient bool, n int) (Fault, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fromClient {
		p.stats.Received += int64(n)
	}
	return p.fault, p.latency
}

// pump copies src to dst, delaying each chunk by the latency in force when it was read,
// and dropping what it reads while the fault is Hang. It signals ended when src or dst
// fails.
func (p *Proxy) pump(dst, src *conn, ended chan<- struct{}) {
	fromClient := src.client
	defer p.wg.Done()
	chunks := make(chan chunk, 64)
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for ck := range chunks {
			if !wait(time.Until(ck.at), nil, p.done) {
				return
			}
			if _, err := dst.Write(ck.b); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			f, latency := p.received(fromClient, n)
			if f.kind != kindHang {
				select {
				case chunks <- chunk{b: append([]byte(nil), buf[:n]...), at: time.Now().Add(latency)}:
				case <-wrote:
					err = net.ErrClosed
				}
			}
		}
		if err != nil {
			break
		}
	}
	close(chunks)
	<-wrote
	ended <- struct{}{}
}

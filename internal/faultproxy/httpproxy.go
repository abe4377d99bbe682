package faultproxy

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"
)

// readHeaderTimeout bounds how long an HTTP proxy waits for a request's headers.
const readHeaderTimeout = 30 * time.Second

// startHTTP sets p up to serve the connections it accepts as HTTP.
func (p *Proxy) startHTTP() {
	u := targetURL(p.target)
	p.transport = &http.Transport{
		DialContext:         (&net.Dialer{Timeout: dialTimeout}).DialContext,
		MaxIdleConnsPerHost: 16,
	}
	quiet := log.New(io.Discard, "", 0) // failures reach the client as 502 answers
	p.rp = &httputil.ReverseProxy{
		Transport: p.transport,
		ErrorLog:  quiet,
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			_, latency, _ := p.state()
			if !wait(latency, resp.Request.Context().Done(), p.done) {
				return resp.Request.Context().Err()
			}
			return nil
		},
		// Streaming answers such as Consul's blocking queries are written as they come.
		FlushInterval: -1,
	}
	p.queue = newConnQueue(p.addr)
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serveHTTP), ReadHeaderTimeout: readHeaderTimeout, ErrorLog: quiet}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = p.srv.Serve(p.queue) // returns http.ErrServerClosed once Close closes srv
	}()
}

// serveHTTP applies the request-level faults and forwards the request otherwise. A
// request is served under the fault and latency in force when it arrived. It ends with
// no response at all (http.ErrAbortHandler) when it stops hanging or waiting: returning
// from the handler would send an empty 200 response before Set cuts the connection.
func (p *Proxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	f, latency, changed := p.arrive()
	if !wait(latency, r.Context().Done(), p.done) {
		panic(http.ErrAbortHandler)
	}
	switch f.kind {
	case kindHang:
		select {
		case <-r.Context().Done():
		case <-changed: // leaving Hang closes the connection
		case <-p.done:
		}
		panic(http.ErrAbortHandler)
	case kindStatus:
		http.Error(w, f.body(), f.code)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// arrive counts a request and returns the fault, latency and change signal it is served
// under, read together so that a change cannot fall between counting and reading.
func (p *Proxy) arrive() (Fault, time.Duration, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Requests++
	return p.fault, p.latency, p.changed
}

// connQueue is a net.Listener whose connections are pushed to it: the proxy accepts
// connections itself and hands those it serves as HTTP to an http.Server.
type connQueue struct {
	addr  net.Addr
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newConnQueue(addr string) *connQueue {
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		a = &net.TCPAddr{}
	}
	return &connQueue{addr: a, conns: make(chan net.Conn), done: make(chan struct{})}
}

// push hands c to the server, or closes it if the queue is closed.
func (q *connQueue) push(c net.Conn) {
	select {
	case q.conns <- c:
	case <-q.done:
		_ = c.Close() // the server is gone
	}
}

// Accept implements net.Listener.
func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

// Addr implements net.Listener.
func (q *connQueue) Addr() net.Addr { return q.addr }

package xds

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// guarded is the go-control-plane server with every stream the Server registers going
// through admission first. Streams are checked in the stream wrapper's first Recv, which
// returns the first request to go-control-plane only once it is admitted: a refused
// stream never reaches the server's callbacks or caches, and nothing is allocated for
// its node.
type guarded struct {
	serverv3.Server
	s *Server
}

type (
	sotwStream  = grpc.BidiStreamingServer[discoveryv3.DiscoveryRequest, discoveryv3.DiscoveryResponse]
	deltaStream = grpc.BidiStreamingServer[discoveryv3.DeltaDiscoveryRequest, discoveryv3.DeltaDiscoveryResponse]
)

func (g guarded) StreamAggregatedResources(st sotwStream) error {
	return guard(g.s, st, g.Server.StreamAggregatedResources)
}

func (g guarded) DeltaAggregatedResources(st deltaStream) error {
	return guard(g.s, st, g.Server.DeltaAggregatedResources)
}

func (g guarded) StreamClusters(st sotwStream) error {
	return guard(g.s, st, g.Server.StreamClusters)
}

func (g guarded) DeltaClusters(st deltaStream) error {
	return guard(g.s, st, g.Server.DeltaClusters)
}

func (g guarded) StreamEndpoints(st sotwStream) error {
	return guard(g.s, st, g.Server.StreamEndpoints)
}

func (g guarded) DeltaEndpoints(st deltaStream) error {
	return guard(g.s, st, g.Server.DeltaEndpoints)
}

func (g guarded) StreamListeners(st sotwStream) error {
	return guard(g.s, st, g.Server.StreamListeners)
}

func (g guarded) DeltaListeners(st deltaStream) error {
	return guard(g.s, st, g.Server.DeltaListeners)
}

func (g guarded) FetchClusters(ctx context.Context, req *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return fetch(ctx, g.s, req, g.Server.FetchClusters)
}

func (g guarded) FetchEndpoints(ctx context.Context, req *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return fetch(ctx, g.s, req, g.Server.FetchEndpoints)
}

func (g guarded) FetchListeners(ctx context.Context, req *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return fetch(ctx, g.s, req, g.Server.FetchListeners)
}

type fetchFunc func(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error)

func fetch(ctx context.Context, s *Server, req *discoveryv3.DiscoveryRequest, f fetchFunc) (*discoveryv3.DiscoveryResponse, error) {
	info := streamInfo(ctx, req.GetNode().GetId())
	if err := s.admit(ctx, info); err != nil {
		s.refused(info, err, false)
		return nil, err
	}
	return f(ctx, req)
}

// streamInfo collects what the transport knows of a stream.
func streamInfo(ctx context.Context, nodeID string) StreamInfo {
	info := StreamInfo{NodeID: nodeID}
	info.Metadata, _ = metadata.FromIncomingContext(ctx)
	if p, ok := peer.FromContext(ctx); ok {
		info.Peer = p.Addr
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 && len(ti.State.VerifiedChains[0]) > 0 {
			info.Cert = ti.State.VerifiedChains[0][0]
		}
	}
	return info
}

// admit checks a stream's first request: a known gateway, then the authorizers.
func (s *Server) admit(ctx context.Context, info StreamInfo) error {
	if !s.known(info.NodeID) {
		return &StreamError{Code: codes.NotFound, NodeID: info.NodeID, Err: ErrUnknownGateway}
	}
	return s.authorize(ctx, info)
}

// authorize lets the stream in when any authorizer does. The code is Unauthenticated
// when every authorizer found no credentials, PermissionDenied otherwise.
func (s *Server) authorize(ctx context.Context, info StreamInfo) error {
	var errs []error
	anon := true
	for _, a := range s.opts.authorizers {
		err := a.Authorize(ctx, info)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrUnauthenticated) {
			anon = false
		}
		errs = append(errs, err)
	}
	err := errors.Join(errs...)
	if anon {
		return &StreamError{Code: codes.Unauthenticated, NodeID: info.NodeID, Err: err}
	}
	if !errors.Is(err, ErrPermissionDenied) {
		err = fmt.Errorf("%w: %w", ErrPermissionDenied, err)
	}
	return &StreamError{Code: codes.PermissionDenied, NodeID: info.NodeID, Err: err}
}

func (s *Server) refused(info StreamInfo, err error, open bool) {
	if s.opts.onRefused == nil {
		return
	}
	r := Refusal{NodeID: info.NodeID, Err: err, Open: open}
	if info.Peer != nil {
		r.Peer = info.Peer.String()
	}
	s.opts.onRefused(r)
}

// openStream counts a new stream against the total limit.
func (s *Server) openStream() (func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total >= s.opts.maxStreams {
		return nil, &StreamError{Code: codes.ResourceExhausted, Err: fmt.Errorf("%w: %d open", ErrTooManyStreams, s.total)}
	}
	s.total++
	return func() {
		s.mu.Lock()
		s.total--
		s.mu.Unlock()
	}, nil
}

// joinGateway counts an admitted stream against its gateway's limit.
func (s *Server) joinGateway(id string) (func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.streams[id]; n >= s.opts.maxPerGW {
		return nil, &StreamError{Code: codes.ResourceExhausted, NodeID: id, Err: fmt.Errorf("%w: %d open for the gateway", ErrTooManyStreams, n)}
	}
	s.streams[id]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.streams[id]--; s.streams[id] <= 0 {
			delete(s.streams, id)
		}
	}, nil
}

type noder interface{ GetNode() *corev3.Node }

// nodeID returns the node ID of a request.
func nodeID(req any) string {
	if n, ok := req.(noder); ok {
		return n.GetNode().GetId()
	}
	return ""
}

// guard serves one stream with h, through a guardedStream.
func guard[Req, Resp any](s *Server, st grpc.BidiStreamingServer[Req, Resp], h func(grpc.BidiStreamingServer[Req, Resp]) error) error {
	release, err := s.openStream()
	if err != nil {
		s.refused(streamInfo(st.Context(), ""), err, false)
		return err
	}
	defer release()
	ctx, cancel := context.WithCancel(st.Context())
	defer cancel()
	gs := &guardedStream[Req, Resp]{BidiStreamingServer: st, s: s, ctx: ctx, ended: make(chan struct{})}
	err = h(gs)
	gs.close()
	if end := gs.endErr(); end != nil {
		return end
	}
	return err
}

// guardedStream admits a stream in its first request, then ends it when it is no longer
// authorized or does not read a response within the send timeout.
type guardedStream[Req, Resp any] struct {
	grpc.BidiStreamingServer[Req, Resp]
	s   *Server
	ctx context.Context

	// Set by the first Recv, read by later calls of the same goroutine.
	admitted bool
	info     StreamInfo

	mu     sync.Mutex
	leave  func()        // releases the stream's place in its gateway's limit
	closed bool          // the handler has returned
	end    error         // why the stream ends, once decided
	ended  chan struct{} // closed when end is set
}

// close releases the stream's place once the handler has returned.
func (g *guardedStream[Req, Resp]) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if g.leave != nil {
		g.leave()
		g.leave = nil
	}
}

func (g *guardedStream[Req, Resp]) endErr() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.end
}

// stop ends the stream with err, once.
func (g *guardedStream[Req, Resp]) stop(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.end == nil {
		g.end = err
		close(g.ended)
		g.s.refused(g.info, err, true)
	}
}

// Recv admits the stream on its first request; later requests must name the same node.
func (g *guardedStream[Req, Resp]) Recv() (*Req, error) {
	if !g.admitted {
		return g.first()
	}
	ch := g.recvAsync()
	select {
	case r := <-ch:
		if r.err == nil {
			if id := nodeID(r.req); id != "" && id != g.info.NodeID {
				err := &StreamError{Code: codes.InvalidArgument, NodeID: id, Err: ErrNodeChanged}
				g.stop(err)
				return nil, err
			}
		}
		return r.req, r.err
	case <-g.ended:
		// The receiving goroutine returns when the stream ends, which the handler's
		// return causes.
		return nil, g.endErr()
	}
}

// received is what one Recv of the underlying stream gave.
type received[Req any] struct {
	req *Req
	err error
}

// recvAsync receives the next request in a goroutine of its own, so that the caller can
// stop waiting; the goroutine returns when the stream ends at the latest.
func (g *guardedStream[Req, Resp]) recvAsync() <-chan received[Req] {
	ch := make(chan received[Req], 1)
	go func() {
		req, err := g.BidiStreamingServer.Recv()
		ch <- received[Req]{req, err}
	}()
	return ch
}

func (g *guardedStream[Req, Resp]) first() (*Req, error) {
	ch := g.recvAsync()
	t := time.NewTimer(g.s.opts.firstRequest)
	defer t.Stop()
	var req *Req
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		req = r.req
	case <-t.C:
		// The receiving goroutine returns when the stream ends, which this causes.
		return nil, g.refuse(&StreamError{Code: codes.DeadlineExceeded, Err: fmt.Errorf("%w in %s", ErrNoRequest, g.s.opts.firstRequest)})
	}
	g.info = streamInfo(g.ctx, nodeID(req))
	if err := g.s.admit(g.ctx, g.info); err != nil {
		return nil, g.refuse(err)
	}
	leave, err := g.s.joinGateway(g.info.NodeID)
	if err != nil {
		return nil, g.refuse(err)
	}
	g.mu.Lock()
	if g.closed {
		// The handler returned while this stream was being admitted.
		g.mu.Unlock()
		leave()
		return nil, context.Canceled
	}
	g.leave = leave
	g.mu.Unlock()
	g.admitted = true
	if d := g.s.opts.reauthorize; d > 0 {
		go g.reauthorize(d)
	}
	return req, nil
}

// refuse ends a stream that was not let in with err, and returns err.
func (g *guardedStream[Req, Resp]) refuse(err error) error {
	g.s.refused(g.info, err, false)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.end = err
	close(g.ended)
	return err
}

// reauthorize asks the authorizers again every d until the stream ends.
func (g *guardedStream[Req, Resp]) reauthorize(d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-g.ended:
			return
		case <-t.C:
			if err := g.s.authorize(g.ctx, g.info); err != nil {
				if g.ctx.Err() == nil {
					g.stop(err)
				}
				return
			}
		}
	}
}

// Send sends resp, or ends the stream when that takes longer than the send timeout.
func (g *guardedStream[Req, Resp]) Send(resp *Resp) error {
	if err := g.endErr(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- g.BidiStreamingServer.Send(resp) }()
	t := time.NewTimer(g.s.opts.sendTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-g.ended:
		return g.endErr()
	case <-t.C:
		err := &StreamError{Code: codes.DeadlineExceeded, NodeID: g.info.NodeID, Err: fmt.Errorf("%w: no response sent in %s", ErrSlowClient, g.s.opts.sendTimeout)}
		g.stop(err)
		return err
	}
}

// Context is the stream's context.
func (g *guardedStream[Req, Resp]) Context() context.Context { return g.ctx }

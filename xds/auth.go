package xds

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Errors that refusals of xDS streams wrap; test them with errors.Is. The client sees the
// gRPC code of the [StreamError] that carries them.
var (
	// ErrUnknownGateway: the stream names a node ID that is not a gateway the Server
	// serves (code NotFound).
	ErrUnknownGateway = errors.New("xds: unknown gateway")
	// ErrUnauthenticated: the client presented no credentials an [Authorizer] reads
	// (code Unauthenticated).
	ErrUnauthenticated = errors.New("xds: no credentials")
	// ErrPermissionDenied: the client's credentials do not allow it to read the
	// gateway's configuration (code PermissionDenied).
	ErrPermissionDenied = errors.New("xds: permission denied")
	// ErrTooManyStreams: a stream limit is reached (code ResourceExhausted).
	ErrTooManyStreams = errors.New("xds: too many streams")
	// ErrNodeChanged: a request names another node than the stream's first request
	// (code InvalidArgument).
	ErrNodeChanged = errors.New("xds: node changed on a stream")
	// ErrNoRequest: a stream sent no request in time (code DeadlineExceeded).
	ErrNoRequest = errors.New("xds: no first request")
	// ErrSlowClient: a response could not be sent within the send timeout, because the
	// client does not read (code DeadlineExceeded).
	ErrSlowClient = errors.New("xds: client does not read")
)

// StreamError is the error that ends a refused xDS stream. Its gRPC status carries Code
// and the message of Err, which never holds a credential.
type StreamError struct {
	// Code is the gRPC code the client receives.
	Code codes.Code
	// NodeID is the node the stream named.
	NodeID string
	// Err is why, wrapping one of the Err* sentinels of this package.
	Err error
}

// Error returns the reason with the node ID.
func (e *StreamError) Error() string { return fmt.Sprintf("node %q: %v", e.NodeID, e.Err) }

// Unwrap returns e.Err.
func (e *StreamError) Unwrap() error { return e.Err }

// GRPCStatus returns the status the client receives.
func (e *StreamError) GRPCStatus() *status.Status { return status.New(e.Code, e.Error()) }

// StreamInfo is what an [Authorizer] knows of a stream when its first request arrives.
type StreamInfo struct {
	// NodeID is the Envoy node ID of the first request: the gateway's service ID.
	NodeID string
	// Peer is the client's address.
	Peer net.Addr
	// Cert is the client's certificate when the connection is TLS and the certificate
	// was verified against the client CA; nil otherwise.
	Cert *x509.Certificate
	// Metadata is the stream's gRPC metadata (headers), e.g. x-consul-token.
	Metadata metadata.MD
}

// Authorizer decides whether a stream may read the configuration of the gateway it names.
// It returns nil to let the stream in, or an error wrapping [ErrUnauthenticated] (no
// credentials it reads) or [ErrPermissionDenied]. It is called in the first request of
// every stream, and again every re-authorization interval while the stream is open
// (see [WithReauthorize]), so it should cache what is slow to learn. Its errors must not
// hold credentials.
type Authorizer interface {
	Authorize(ctx context.Context, s StreamInfo) error
}

// AuthorizerFunc adapts a function to an [Authorizer].
type AuthorizerFunc func(ctx context.Context, s StreamInfo) error

var _ Authorizer = AuthorizerFunc(nil)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, s StreamInfo) error { return f(ctx, s) }

// AllowAll lets every stream in. It turns authorization off: for tests and development
// only.
var AllowAll Authorizer = AuthorizerFunc(func(context.Context, StreamInfo) error { return nil })

// CertAuthorizer lets a stream in when its client certificate, verified against the
// server's client CA (see [TLSFiles]), names the gateway of the stream's node ID: a URI
// SAN in Consul's SPIFFE form for a service, spiffe://<trust-domain>/ns/<ns>/dc/<dc>/svc/<service>,
// or else the common name. A stream without a verified certificate is refused with
// [ErrUnauthenticated]. It is the Server's authorizer unless [WithAuthorizers] sets others.
type CertAuthorizer struct {
	// TrustDomain, when set, is the only SPIFFE trust domain accepted; by default any.
	TrustDomain string
	// Datacenter, when set, is the only datacenter accepted in a SPIFFE ID; by default
	// any.
	Datacenter string
	// Service maps a node ID to the gateway's service name the certificate must name;
	// by default the node ID itself (Consul's default gateway has both "mesh-gateway").
	Service func(nodeID string) string
}

var _ Authorizer = CertAuthorizer{}

// Authorize implements [Authorizer].
func (a CertAuthorizer) Authorize(_ context.Context, s StreamInfo) error {
	if s.Cert == nil {
		return fmt.Errorf("%w: no verified client certificate", ErrUnauthenticated)
	}
	want := s.NodeID
	if a.Service != nil {
		want = a.Service(s.NodeID)
	}
	if want == "" {
		return fmt.Errorf("%w: no service for the node", ErrPermissionDenied)
	}
	if len(s.Cert.URIs) > 0 {
		for _, u := range s.Cert.URIs {
			if svc, ok := a.spiffeService(u); ok && svc == want {
				return nil
			}
		}
		return fmt.Errorf("%w: certificate URI SANs do not name service %q", ErrPermissionDenied, want)
	}
	if s.Cert.Subject.CommonName == want {
		return nil
	}
	return fmt.Errorf("%w: certificate does not name service %q", ErrPermissionDenied, want)
}

// spiffeService returns the service of a Consul service SPIFFE ID, checking the trust
// domain and datacenter when a sets them.
func (a CertAuthorizer) spiffeService(u *url.URL) (string, bool) {
	if u == nil || u.Scheme != "spiffe" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", false
	}
	if a.TrustDomain != "" && !strings.EqualFold(u.Host, a.TrustDomain) {
		return "", false
	}
	// /ns/<ns>/dc/<dc>/svc/<service>, or /ap/<partition>/ns/... in Enterprise.
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(parts) == 8 && parts[0] == "ap" {
		parts = parts[2:]
	}
	if len(parts) != 6 || parts[0] != "ns" || parts[2] != "dc" || parts[4] != "svc" {
		return "", false
	}
	for _, p := range parts {
		if p == "" {
			return "", false
		}
	}
	if a.Datacenter != "" && parts[3] != a.Datacenter {
		return "", false
	}
	return parts[5], true
}

// Refusal is a refused or ended stream, as the Server reports it to the hook set with
// [WithOnRefused].
type Refusal struct {
	// NodeID is the node ID the stream named; empty when it was refused before its
	// first request.
	NodeID string
	// Peer is the client's address.
	Peer string
	// Err is the *[StreamError] the stream ended with.
	Err error
	// Open reports a stream that had been let in and was ended later: its
	// authorization was withdrawn or it stopped reading.
	Open bool
}

// Keepalive is the gRPC keepalive of the servers [Server.NewGRPCServer] makes.
type Keepalive struct {
	// Time is how long a connection may be idle before the server pings it.
	Time time.Duration
	// Timeout is how long the server waits for a ping's answer before it closes the
	// connection.
	Timeout time.Duration
	// MinClientPing is the shortest interval between a client's pings the server
	// tolerates; a client that pings more often is disconnected.
	MinClientPing time.Duration
}

// DefaultKeepalive is the keepalive of [Server.NewGRPCServer] unless [WithKeepalive]
// sets another: a ping after 60 s of idleness, 20 s to answer, clients may ping every
// 15 s (Envoy's default is not to ping), with or without streams.
var DefaultKeepalive = Keepalive{Time: 60 * time.Second, Timeout: 20 * time.Second, MinClientPing: 15 * time.Second}

// Defaults of the Server's limits.
const (
	// DefaultMaxStreams is the default limit of open streams in all.
	DefaultMaxStreams = 4096
	// DefaultMaxStreamsPerGateway is the default limit of open streams per gateway.
	DefaultMaxStreamsPerGateway = 256
	// DefaultReauthorize is the default interval at which open streams are authorized
	// again.
	DefaultReauthorize = time.Second
	// DefaultFirstRequestTimeout is how long a new stream may take to send its first
	// request before it is ended, so that idle streams do not hold the stream limits.
	DefaultFirstRequestTimeout = 15 * time.Second
	// DefaultSendTimeout is the default time a response may take to be sent before
	// the stream is ended as not reading.
	DefaultSendTimeout = 30 * time.Second
)

func defaultServerOptions() serverOptions {
	return serverOptions{
		reauthorize:  DefaultReauthorize,
		maxStreams:   DefaultMaxStreams,
		maxPerGW:     DefaultMaxStreamsPerGateway,
		sendTimeout:  DefaultSendTimeout,
		firstRequest: DefaultFirstRequestTimeout,
	}
}

// WithAuthorizers sets the authorizers of streams: a stream is let in when any of them
// allows it. The default is [CertAuthorizer]{} alone; [AllowAll] turns authorization off.
func WithAuthorizers(a ...Authorizer) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.authorizers = append(o.authorizers, a...) })
}

// WithOnRefused sets a function called for every refused or ended stream, for logs and
// metrics. It is called from the stream's goroutine and should be quick. The default is
// none.
func WithOnRefused(f func(Refusal)) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.onRefused = f })
}

// WithReauthorize sets how often the authorizers are asked again about an open stream;
// a stream they refuse then ends with their error. 0 authorizes only the first request.
// The default is [DefaultReauthorize].
func WithReauthorize(d time.Duration) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.reauthorize = d })
}

// WithStreamLimits sets the most open streams in all and per gateway; more are refused
// with ResourceExhausted. 0 keeps a limit's default, [DefaultMaxStreams] and
// [DefaultMaxStreamsPerGateway].
func WithStreamLimits(total, perGateway int) ServerOption {
	return serverOptionFunc(func(o *serverOptions) {
		if total > 0 {
			o.maxStreams = total
		}
		if perGateway > 0 {
			o.maxPerGW = perGateway
		}
	})
}

// WithSendTimeout sets how long sending one response may take before the stream is
// ended with [ErrSlowClient], so that a client that stops reading holds nothing for
// long. The default is [DefaultSendTimeout].
func WithSendTimeout(d time.Duration) ServerOption {
	return serverOptionFunc(func(o *serverOptions) {
		if d > 0 {
			o.sendTimeout = d
		}
	})
}

// WithFirstRequestTimeout sets how long a new stream may take to send its first
// request before it is ended with [ErrNoRequest]. The default is
// [DefaultFirstRequestTimeout].
func WithFirstRequestTimeout(d time.Duration) ServerOption {
	return serverOptionFunc(func(o *serverOptions) {
		if d > 0 {
			o.firstRequest = d
		}
	})
}

// WithKeepalive sets the keepalive of [Server.NewGRPCServer]. The default is
// [DefaultKeepalive].
func WithKeepalive(k Keepalive) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.keepalive = &k })
}

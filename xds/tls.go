package xds

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// ErrBadTLS is wrapped by the errors of [NewTLSConfig] for files that cannot be read or
// parsed.
var ErrBadTLS = errors.New("xds: bad TLS files")

// TLSFiles name the PEM files of the xDS server's TLS.
type TLSFiles struct {
	// CertFile and KeyFile are the server's certificate (chain) and private key.
	CertFile, KeyFile string
	// ClientCAFile, when set, holds the CAs that sign client certificates: clients must
	// then present a certificate they verify (mutual TLS).
	ClientCAFile string
}

// NewTLSConfig returns a server TLS configuration that reads f's files, and reads them
// again when their size or modification time changes, checked at most once per
// reloadCheck (1 s) at handshakes: renewed certificates, keys and CAs are used without
// a restart. Files that cannot be read or parsed on reload leave the last good ones in
// use. It offers HTTP/2 (h2) and TLS 1.2 or later.
func NewTLSConfig(f TLSFiles) (*tls.Config, error) {
	if f.CertFile == "" || f.KeyFile == "" {
		return nil, fmt.Errorf("%w: a certificate and a key file are needed", ErrBadTLS)
	}
	r := &tlsReloader{files: f}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.config(), nil
		},
	}, nil
}

// reloadCheck is how often the files are checked for changes.
const reloadCheck = time.Second

// tlsReloader holds the configuration built from the files last read.
type tlsReloader struct {
	files TLSFiles

	mu      sync.Mutex
	cfg     *tls.Config
	stamp   string // sizes and modification times of the files read
	checked time.Time
}

func (r *tlsReloader) config() *tls.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) >= reloadCheck {
		r.checked = time.Now()
		if r.stampNow() != r.stamp {
			// A failed reload keeps the last good configuration; the next check tries again.
			_ = r.reloadLocked()
		}
	}
	return r.cfg
}

func (r *tlsReloader) reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checked = time.Now()
	return r.reloadLocked()
}

func (r *tlsReloader) stampNow() string {
	var b bytes.Buffer
	for _, name := range []string{r.files.CertFile, r.files.KeyFile, r.files.ClientCAFile} {
		if name == "" {
			continue
		}
		if fi, err := os.Stat(name); err == nil {
			fmt.Fprintf(&b, "%d/%d;", fi.Size(), fi.ModTime().UnixNano())
		} else {
			b.WriteString("?;")
		}
	}
	return b.String()
}

func (r *tlsReloader) reloadLocked() error {
	stamp := r.stampNow()
	cert, err := tls.LoadX509KeyPair(r.files.CertFile, r.files.KeyFile)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadTLS, err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2"},
		Certificates: []tls.Certificate{cert},
	}
	if r.files.ClientCAFile != "" {
		pem, err := os.ReadFile(r.files.ClientCAFile)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadTLS, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%w: no certificate in %s", ErrBadTLS, r.files.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	r.cfg = cfg
	r.stamp = stamp
	return nil
}

// WithTLS serves [Server.NewGRPCServer]'s connections with TLS configured by c, e.g. from
// [NewTLSConfig]. With c.ClientAuth set to verify client certificates, [CertAuthorizer]
// reads the verified certificate. The default is plaintext.
func WithTLS(c *tls.Config) ServerOption {
	return serverOptionFunc(func(o *serverOptions) { o.tls = c })
}

// NewGRPCServer returns a gRPC server with the Server's services registered, its TLS
// (see [WithTLS]) and keepalive (see [WithKeepalive]), and no unbounded buffering: at
// most 100 concurrent streams per connection, and messages from clients of at most
// 4 MiB. extra options are applied after these.
func (s *Server) NewGRPCServer(extra ...grpc.ServerOption) *grpc.Server {
	k := DefaultKeepalive
	if s.opts.keepalive != nil {
		k = *s.opts.keepalive
	}
	opts := []grpc.ServerOption{
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: k.Time, Timeout: k.Timeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: k.MinClientPing, PermitWithoutStream: true}),
		grpc.MaxConcurrentStreams(100),
		grpc.MaxRecvMsgSize(4 << 20),
	}
	if s.opts.tls != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.opts.tls)))
	}
	g := grpc.NewServer(append(opts, extra...)...)
	s.Register(g)
	return g
}

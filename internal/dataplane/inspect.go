package dataplane

import (
	"crypto/tls"
	"errors"
	"net"
)

// errPeekOnly stops the TLS handshake used to parse a ClientHello: the data plane never
// answers it, the upstream server does.
var errPeekOnly = errors.New("dataplane: tls_inspector only reads the ClientHello")

// clientHello is what tls_inspector learned from the first bytes of a connection.
type clientHello struct {
	// tls is set when the bytes are a TLS ClientHello.
	tls bool
	// serverName is its SNI, "" when it has none.
	serverName string
	// bytes are every byte read, to be replayed upstream.
	bytes []byte
	// readErr is the read error that ended the inspection, if any (a timeout, or the
	// peer closing before a ClientHello was complete).
	readErr error
}

// recorder is the connection the ClientHello parser reads: it keeps every byte read and
// writes nothing, so the client sees no TLS record from the data plane.
type recorder struct {
	net.Conn
	hello *clientHello
}

func (r recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.hello.bytes = append(r.hello.bytes, p[:n]...)
	if err != nil {
		r.hello.readErr = err
	}
	return n, err
}

func (recorder) Write([]byte) (int, error) { return 0, errPeekOnly }

// peekClientHello reads the first bytes of c and, if they are a TLS ClientHello,
// returns its SNI, without consuming anything: every byte read is returned for replay.
// It uses crypto/tls's own parser, stopping the handshake as soon as the ClientHello is
// parsed, before any answer.
func peekClientHello(c net.Conn) clientHello {
	h := clientHello{}
	cfg := &tls.Config{GetConfigForClient: func(info *tls.ClientHelloInfo) (*tls.Config, error) {
		h.tls, h.serverName = true, info.ServerName
		return nil, errPeekOnly
	}}
	// The handshake always fails: with errPeekOnly once the ClientHello is parsed, with
	// a parse error when the bytes are not TLS, or with h.readErr.
	err := tls.Server(recorder{Conn: c, hello: &h}, cfg).Handshake()
	h.tls = h.tls && errors.Is(err, errPeekOnly)
	return h
}

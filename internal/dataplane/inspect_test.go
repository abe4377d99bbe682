package dataplane

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// byteWriter writes one byte at a time, so that a ClientHello arrives in many reads.
type byteWriter struct{ net.Conn }

func (w byteWriter) Write(p []byte) (int, error) {
	for i := range p {
		if _, err := w.Conn.Write(p[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

// TestPeekClientHello feeds tls_inspector what clients send first and checks what it
// learns, and that it keeps every byte it read and writes nothing back.
func TestPeekClientHello(t *testing.T) {
	// The client sees the connection close, never a TLS record from the inspector.
	hello := func(serverName string) func(net.Conn) error {
		return func(c net.Conn) error {
			cfg := &tls.Config{ServerName: serverName, InsecureSkipVerify: true} //nolint:gosec // no server answers
			return tls.Client(c, cfg).Handshake()
		}
	}
	write := func(b string) func(net.Conn) error {
		return func(c net.Conn) error {
			_, err := c.Write([]byte(b))
			return err
		}
	}
	tests := []struct {
		name       string
		client     func(net.Conn) error
		fragmented bool
		wantTLS    bool
		wantSNI    string
		wantErr    error
		wantPrefix string
	}{
		{name: "ClientHello with SNI", client: hello("a.example"), wantTLS: true, wantSNI: "a.example", wantPrefix: "\x16\x03"},
		{name: "ClientHello one byte at a time", client: hello("a.example"), fragmented: true, wantTLS: true, wantSNI: "a.example", wantPrefix: "\x16\x03"},
		{name: "ClientHello without SNI", client: hello(""), wantTLS: true, wantPrefix: "\x16\x03"},
		{name: "not TLS", client: write("GET / HTTP/1.1\r\n\r\n"), wantPrefix: "GET /"},
		{name: "closed inside a record header", client: write("\x16\x03"), wantErr: io.EOF, wantPrefix: "\x16\x03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, client := net.Pipe()
			done := make(chan error, 1)
			go func() {
				var c net.Conn = client
				if tt.fragmented {
					c = byteWriter{client}
				}
				done <- errors.Join(tt.client(c), client.Close())
			}()
			h := peekClientHello(server)
			require.NoError(t, server.Close())
			if err := <-done; err != nil {
				assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe), "got client error %v, want the connection closed", err)
			}
			assert.Equal(t, tt.wantTLS, h.tls)
			assert.Equal(t, tt.wantSNI, h.serverName)
			if tt.wantErr != nil {
				require.ErrorIs(t, h.readErr, tt.wantErr)
			}
			assert.True(t, len(h.bytes) >= len(tt.wantPrefix) && string(h.bytes[:len(tt.wantPrefix)]) == tt.wantPrefix,
				"got bytes %q, want them to start with %q", h.bytes, tt.wantPrefix)
		})
	}
}

package xds_test

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"

	"github.com/peeringgw/peeringgw/xds"
)

// rawConn serves srv's gRPC server on loopback and opens a bare HTTP/2 connection to
// it, past the preface and settings, so that a test can ping, or not answer pings, as
// a misbehaving client would.
func rawConn(t *testing.T, k xds.Keepalive) (*http2.Framer, net.Conn) {
	t.Helper()
	srv := xds.NewServer(t.Context(), xds.WithAuthorizers(xds.AllowAll), xds.WithKeepalive(k))
	g := srv.NewGRPCServer()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	conn, err := net.Dial("tcp", lis.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	_, err = io.WriteString(conn, http2.ClientPreface)
	require.NoError(t, err)
	f := http2.NewFramer(conn, conn)
	require.NoError(t, f.WriteSettings())
	return f, conn
}

// untilClosed reads frames until the server ends the connection, and returns the
// GOAWAY it sent, if any. ping, when set, is called for each ping the server sends.
func untilClosed(t *testing.T, f *http2.Framer, ping func(*http2.PingFrame)) *http2.GoAwayFrame {
	t.Helper()
	for {
		fr, err := f.ReadFrame()
		if err != nil {
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server kept the connection open")
			return nil
		}
		switch fr := fr.(type) {
		case *http2.SettingsFrame:
			if !fr.IsAck() {
				require.NoError(t, f.WriteSettingsAck())
			}
		case *http2.PingFrame:
			if ping != nil && !fr.IsAck() {
				ping(fr)
			}
		case *http2.GoAwayFrame:
			return fr
		}
	}
}

// TestKeepaliveEnforcement: a client that pings more often than MinClientPing is told
// to calm down and disconnected.
func TestKeepaliveEnforcement(t *testing.T) {
	f, _ := rawConn(t, xds.Keepalive{Time: time.Hour, Timeout: time.Hour, MinClientPing: time.Minute})
	for i := range 5 {
		require.NoError(t, f.WritePing(false, [8]byte{byte(i)}))
	}
	away := untilClosed(t, f, nil)
	require.NotNil(t, away, "the connection ended without a GOAWAY")
	require.Equal(t, http2.ErrCodeEnhanceYourCalm, away.ErrCode)
	require.Equal(t, "too_many_pings", string(away.DebugData()))
}

// TestKeepaliveDeadClient: a client that does not answer the server's pings is
// disconnected once Timeout has passed, so a vanished Envoy does not hold a stream.
func TestKeepaliveDeadClient(t *testing.T) {
	f, _ := rawConn(t, xds.Keepalive{Time: time.Second, Timeout: 200 * time.Millisecond, MinClientPing: time.Minute})
	pinged := 0
	untilClosed(t, f, func(*http2.PingFrame) { pinged++ })
	require.Positive(t, pinged, "the server closed the connection without pinging it")
}

package xds_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/peeringgw/peeringgw/internal/testpki"
	"github.com/peeringgw/peeringgw/xds"
)

// serveGRPC serves srv's NewGRPCServer on a free loopback port until the test ends and
// returns the address.
func serveGRPC(t *testing.T, srv *xds.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := srv.NewGRPCServer()
	go func() { _ = g.Serve(lis) }() // Serve returns when g stops at cleanup
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

func dial(t *testing.T, addr string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// tlsSetup is a server CA, a client CA, and the files of a mutual-TLS xDS server.
type tlsSetup struct {
	serverCA, clientCA *testpki.Cert
	files              xds.TLSFiles
	dir                string
}

func newTLSSetup(t *testing.T) *tlsSetup {
	s := &tlsSetup{serverCA: newCA(t, "server CA"), clientCA: newCA(t, "client CA"), dir: t.TempDir()}
	server := testpki.New(t, testpki.Spec{CommonName: "xds", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, s.serverCA)
	s.files = xds.TLSFiles{
		CertFile:     testpki.WriteFile(t, s.dir, "server.pem", server.CertPEM),
		KeyFile:      testpki.WriteFile(t, s.dir, "server-key.pem", server.KeyPEM),
		ClientCAFile: testpki.WriteFile(t, s.dir, "client-ca.pem", s.clientCA.CertPEM),
	}
	return s
}

func (s *tlsSetup) clientCreds(ca *testpki.Cert, certs ...tls.Certificate) credentials.TransportCredentials {
	return credentials.NewTLS(&tls.Config{RootCAs: ca.Pool(), Certificates: certs, MinVersion: tls.VersionTLS12})
}

// TestMutualTLS serves two gateways over mutual TLS with the default CertAuthorizer and
// checks who gets in.
func TestMutualTLS(t *testing.T) {
	s := newTLSSetup(t)
	cfg, err := xds.NewTLSConfig(s.files)
	require.NoError(t, err)
	srv := xds.NewServer(t.Context(), xds.WithTLS(cfg), xds.WithGateways("gw-a", "gw-b"))
	addr := serveGRPC(t, srv)
	otherCA := newCA(t, "other CA")

	tests := []struct {
		name  string
		creds credentials.TransportCredentials
		want  codes.Code
	}{
		{"plaintext", insecure.NewCredentials(), codes.Unavailable},
		{"no client certificate", s.clientCreds(s.serverCA), codes.Unavailable},
		{"certificate of another CA", s.clientCreds(s.serverCA, testpki.New(t, testpki.Spec{CommonName: "gw-a", URIs: []string{testpki.SPIFFE("gw-a")}, Client: true}, otherCA).Pair()), codes.Unavailable},
		{"certificate of another gateway", s.clientCreds(s.serverCA, testpki.New(t, testpki.Spec{CommonName: "gw-a", URIs: []string{testpki.SPIFFE("gw-b")}, Client: true}, s.clientCA).Pair()), codes.PermissionDenied},
		{"common name of another gateway", s.clientCreds(s.serverCA, testpki.New(t, testpki.Spec{CommonName: "gw-b", Client: true}, s.clientCA).Pair()), codes.PermissionDenied},
		{"SPIFFE ID of the gateway", s.clientCreds(s.serverCA, testpki.New(t, testpki.Spec{URIs: []string{testpki.SPIFFE("gw-a")}, Client: true}, s.clientCA).Pair()), codes.OK},
		{"common name of the gateway", s.clientCreds(s.serverCA, testpki.New(t, testpki.Spec{CommonName: "gw-a", Client: true}, s.clientCA).Pair()), codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			_, err := firstAnswer(ctx, dial(t, addr, tt.creds), "gw-a")
			assert.Equal(t, tt.want, status.Code(err), "got %v", err)
		})
	}
}

// TestTLSReload replaces the server's certificate and the client CA on disk: new
// handshakes use them without a restart.
func TestTLSReload(t *testing.T) {
	s := newTLSSetup(t)
	cfg, err := xds.NewTLSConfig(s.files)
	require.NoError(t, err)
	srv := xds.NewServer(t.Context(), xds.WithTLS(cfg), xds.WithGateways("gw-a"))
	addr := serveGRPC(t, srv)
	clientCert := testpki.New(t, testpki.Spec{URIs: []string{testpki.SPIFFE("gw-a")}, Client: true}, s.clientCA).Pair()
	_, err = firstAnswer(t.Context(), dial(t, addr, s.clientCreds(s.serverCA, clientCert)), "gw-a")
	require.NoError(t, err)

	newServerCA, newClientCA := newCA(t, "new server CA"), newCA(t, "new client CA")
	server := testpki.New(t, testpki.Spec{CommonName: "xds", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, newServerCA)
	testpki.WriteFile(t, s.dir, "server-key.pem", server.KeyPEM)
	testpki.WriteFile(t, s.dir, "server.pem", server.CertPEM)
	testpki.WriteFile(t, s.dir, "client-ca.pem", newClientCA.CertPEM)
	newClientCert := testpki.New(t, testpki.Spec{URIs: []string{testpki.SPIFFE("gw-a")}, Client: true}, newClientCA).Pair()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		_, err := firstAnswer(ctx, dial(t, addr, s.clientCreds(newServerCA, newClientCert)), "gw-a")
		return err == nil
	}, 15*time.Second, 100*time.Millisecond, "got the new certificates not used")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err = firstAnswer(ctx, dial(t, addr, s.clientCreds(s.serverCA, clientCert)), "gw-a")
	assert.Equal(t, codes.Unavailable, status.Code(err), "got the old CA still trusted: %v", err)

	// A half-written key leaves the last good pair in use, across several checks of
	// the files (one a second).
	testpki.WriteFile(t, s.dir, "server-key.pem", []byte("-----BEGIN EC PRIVATE KEY-----\ngarbage\n"))
	for until := time.Now().Add(2500 * time.Millisecond); time.Now().Before(until); {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, err = firstAnswer(ctx, dial(t, addr, s.clientCreds(newServerCA, newClientCert)), "gw-a")
		cancel()
		require.NoError(t, err, "got a bad key file breaking the server")
	}
}

func TestNewTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := testpki.WriteFile(t, dir, "bad.pem", []byte("not PEM"))
	for _, f := range []xds.TLSFiles{
		{},
		{CertFile: bad, KeyFile: bad},
		{CertFile: dir + "/missing.pem", KeyFile: dir + "/missing.pem"},
	} {
		_, err := xds.NewTLSConfig(f)
		assert.ErrorIs(t, err, xds.ErrBadTLS)
	}
}

// newCA returns a certificate authority named name.
func newCA(t *testing.T, name string) *testpki.Cert {
	return testpki.New(t, testpki.Spec{CommonName: name, CA: true}, nil)
}

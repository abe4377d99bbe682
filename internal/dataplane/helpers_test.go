package dataplane_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	sniclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_cluster/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/peeringgw/peeringgw/internal/dataplane"
	"github.com/peeringgw/peeringgw/internal/testpki"
)

// ioTimeout bounds every network step of a test.
const ioTimeout = 5 * time.Second

// payload is what clients send through the data plane: large enough to need many reads.
var payload = []byte(strings.Repeat("peering traffic ", 16<<10))

// backend is a TLS server on loopback with a self-signed certificate for one server
// name. On each connection it completes the handshake, writes "hello <id>", reads until
// the client half-closes, writes "got <n>" with the byte count, and closes.
type backend struct {
	id    string
	cert  *x509.Certificate
	roots *x509.CertPool
	ln    net.Listener
}

func newBackend(t *testing.T, serverName, id string) *backend {
	t.Helper()
	cert, roots := selfSigned(t, serverName)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	b := &backend{id: id, cert: cert.Leaf, roots: roots, ln: ln}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { b.serve(c) })
		}
	})
	t.Cleanup(func() {
		require.NoError(t, ln.Close())
		wg.Wait()
	})
	return b
}

func (b *backend) serve(c net.Conn) {
	defer c.Close()
	if c.SetDeadline(time.Now().Add(ioTimeout)) != nil {
		return
	}
	if _, err := fmt.Fprintf(c, "hello %s\n", b.id); err != nil {
		return
	}
	n, err := io.Copy(io.Discard, c)
	if err != nil {
		return
	}
	if _, err := fmt.Fprintf(c, "got %d\n", n); err != nil {
		return
	}
}

func (b *backend) port() uint32 { return uint32(b.ln.Addr().(*net.TCPAddr).Port) }

// selfSigned returns a certificate for serverName that is its own root, and the pool
// that trusts it.
func selfSigned(t *testing.T, serverName string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	c := testpki.New(t, testpki.Spec{CommonName: serverName, DNSNames: []string{serverName}, CA: true}, nil)
	return c.Pair(), c.Pool()
}

// exchange opens a TLS connection to addr with SNI serverName, verifying the server
// against roots, and runs the backend protocol: it returns the backend's id once the
// payload went through and the byte count came back after a half-close.
func exchange(addr net.Addr, serverName string, roots *x509.CertPool) (string, error) {
	c, err := startTLS(addr, serverName, roots)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return finish(c)
}

// startTLS dials and completes the TLS handshake, then reads the backend's greeting.
func startTLS(addr net.Addr, serverName string, roots *x509.CertPool) (*tlsConn, error) {
	raw, err := net.DialTimeout("tcp", addr.String(), ioTimeout)
	if err != nil {
		return nil, err
	}
	if err := raw.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		return nil, errors.Join(err, raw.Close())
	}
	c := tls.Client(raw, &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: tls.VersionTLS12})
	if err := c.Handshake(); err != nil {
		return nil, errors.Join(err, raw.Close())
	}
	r := bufio.NewReader(c)
	hello, err := r.ReadString('\n')
	if err != nil {
		return nil, errors.Join(err, raw.Close())
	}
	id, ok := strings.CutPrefix(strings.TrimSpace(hello), "hello ")
	if !ok {
		return nil, errors.Join(fmt.Errorf("got greeting %q, want hello <id>", hello), raw.Close())
	}
	return &tlsConn{Conn: c, raw: raw, r: r, id: id}, nil
}

type tlsConn struct {
	*tls.Conn
	raw net.Conn
	r   *bufio.Reader
	id  string
}

// finish sends the payload, half-closes (TLS close_notify, then TCP FIN) and checks the
// backend counted every byte.
func finish(c *tlsConn) (string, error) {
	if _, err := c.Write(payload); err != nil {
		return "", err
	}
	if err := c.CloseWrite(); err != nil {
		return "", err
	}
	if err := c.raw.(*net.TCPConn).CloseWrite(); err != nil {
		return "", err
	}
	rest, err := io.ReadAll(c.r)
	if err != nil {
		return "", err
	}
	if got, want := strings.TrimSpace(string(rest)), fmt.Sprintf("got %d", len(payload)); got != want {
		return "", fmt.Errorf("got reply %q, want %q", got, want)
	}
	return c.id, nil
}

// requireClosed checks that the data plane closes a connection that sends first: a TLS
// ClientHello with SNI serverName, or, when plain is set, non-TLS bytes.
func requireClosed(t *testing.T, addr net.Addr, serverName string, plain bool) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr.String(), ioTimeout)
	require.NoError(t, err)
	defer raw.Close()
	require.NoError(t, raw.SetDeadline(time.Now().Add(ioTimeout)))
	if plain {
		_, err := raw.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		n, err := raw.Read(make([]byte, 1))
		require.True(t, closedByPeer(err), "got %d bytes and %v, want the connection closed", n, err)
		return
	}
	err = tls.Client(raw, &tls.Config{ServerName: serverName, InsecureSkipVerify: true}).Handshake() //nolint:gosec // the handshake must not get far enough to verify anything
	require.True(t, closedByPeer(err), "got %v, want the connection closed during the handshake", err)
}

// closedByPeer reports whether err is the peer closing the connection: EOF, or a reset
// when it closed with bytes unread.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// waitStat waits for a stat to satisfy ok.
func waitStat(t *testing.T, dp *dataplane.DataPlane, name string, ok func(uint64) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	require.NoError(t, dp.WaitStat(ctx, name, ok))
}

// deadPort returns a loopback port nothing listens on.
func deadPort(t *testing.T) uint32 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := uint32(ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, ln.Close())
	return port
}

// Resource builders, shaped like the configuration peeringgw emits.

func typed(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	require.NoError(t, err)
	return a
}

func tcpProxy(t *testing.T, stat, cluster string) *listenerv3.Filter {
	return &listenerv3.Filter{Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{
		TypedConfig: typed(t, &tcpproxyv3.TcpProxy{StatPrefix: stat, ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: cluster}})}}
}

func sniClusterFilter(t *testing.T) *listenerv3.Filter {
	return &listenerv3.Filter{Name: "envoy.filters.network.sni_cluster", ConfigType: &listenerv3.Filter_TypedConfig{
		TypedConfig: typed(t, &sniclusterv3.SniCluster{})}}
}

func sniChain(t *testing.T, serverName string) *listenerv3.FilterChain {
	return &listenerv3.FilterChain{
		FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{serverName}},
		Filters:          []*listenerv3.Filter{tcpProxy(t, "peer."+serverName, serverName)},
	}
}

func catchAll(t *testing.T) *listenerv3.FilterChain {
	return &listenerv3.FilterChain{Filters: []*listenerv3.Filter{sniClusterFilter(t), tcpProxy(t, "catch_all", "")}}
}

// gatewayListener is a listener on 127.0.0.1, port 0 (any free port), with
// tls_inspector and the given chains.
func gatewayListener(t *testing.T, name string, chains ...*listenerv3.FilterChain) *listenerv3.Listener {
	return &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "127.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 0}}}},
		FilterChains: chains,
		ListenerFilters: []*listenerv3.ListenerFilter{{Name: "envoy.filters.listener.tls_inspector",
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: typed(t, &tlsinspectorv3.TlsInspector{})}}},
	}
}

func edsCluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
			ResourceApiVersion:    corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		}},
		ConnectTimeout:   durationpb.New(time.Second),
		OutlierDetection: &clusterv3.OutlierDetection{},
	}
}

func dnsCluster(name, host string, port uint32, refresh time.Duration) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
		ConnectTimeout:       durationpb.New(time.Second),
		LoadAssignment:       assignment(name, socketAddr(host, port)),
		DnsRefreshRate:       durationpb.New(refresh),
		DnsLookupFamily:      clusterv3.Cluster_V4_ONLY,
		OutlierDetection:     &clusterv3.OutlierDetection{},
	}
}

func socketAddr(host string, port uint32) *corev3.SocketAddress {
	return &corev3.SocketAddress{Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}
}

// assignment is a ClusterLoadAssignment with one locality holding the given addresses.
func assignment(name string, addrs ...*corev3.SocketAddress) *endpointv3.ClusterLoadAssignment {
	loc := &endpointv3.LocalityLbEndpoints{}
	for _, a := range addrs {
		loc.LbEndpoints = append(loc.LbEndpoints, &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
			Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: a}}}}})
	}
	return &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{loc}}
}

// loopback is a ClusterLoadAssignment for backends on 127.0.0.1.
func loopback(name string, ports ...uint32) *endpointv3.ClusterLoadAssignment {
	addrs := make([]*corev3.SocketAddress, 0, len(ports))
	for _, p := range ports {
		addrs = append(addrs, socketAddr("127.0.0.1", p))
	}
	return assignment(name, addrs...)
}

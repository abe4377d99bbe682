package dataplane_test

import (
	"context"
	"crypto/x509"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/peeringgw/peeringgw/internal/dataplane"
	"github.com/peeringgw/peeringgw/internal/xdsclient"
	"github.com/peeringgw/peeringgw/xds"
)

const pollInterval = 2 * time.Millisecond

// requests records the delta requests an xDS server receives.
type requests struct {
	mu   sync.Mutex
	reqs []*discoveryv3.DeltaDiscoveryRequest
}

func (r *requests) callbacks() serverv3.CallbackFuncs {
	return serverv3.CallbackFuncs{StreamDeltaRequestFunc: func(_ int64, req *discoveryv3.DeltaDiscoveryRequest) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.reqs = append(r.reqs, proto.CloneOf(req))
		return nil
	}}
}

// filter returns the requests of type typ that keep accepts.
func (r *requests) filter(typ string, keep func(*discoveryv3.DeltaDiscoveryRequest) bool) []*discoveryv3.DeltaDiscoveryRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*discoveryv3.DeltaDiscoveryRequest
	for _, req := range r.reqs {
		if req.GetTypeUrl() == typ && keep(req) {
			out = append(out, req)
		}
	}
	return out
}

// nacks returns the error_detail messages of the NACKs of type typ.
func (r *requests) nacks(typ string) []string {
	var out []string
	for _, req := range r.filter(typ, func(q *discoveryv3.DeltaDiscoveryRequest) bool { return q.GetErrorDetail() != nil }) {
		out = append(out, req.GetErrorDetail().GetMessage())
	}
	return out
}

// unsubscribed returns the names unsubscribed from for type typ.
func (r *requests) unsubscribed(typ string) []string {
	var out []string
	for _, req := range r.filter(typ, func(*discoveryv3.DeltaDiscoveryRequest) bool { return true }) {
		out = append(out, req.GetResourceNamesUnsubscribe()...)
	}
	return out
}

// adsServer serves an xds.Server on loopback and records the requests it receives.
type adsServer struct {
	srv  *xds.Server
	conn *grpc.ClientConn
	reqs *requests
}

func newADSServer(t *testing.T) *adsServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reqs := &requests{}
	srv := xds.NewServer(ctx, xds.WithAuthorizers(xds.AllowAll), xds.WithGateways("gw"), xds.WithCallbacks(reqs.callbacks()))
	conn := xdsclient.ServeLoopback(t, srv)
	t.Cleanup(cancel)
	return &adsServer{srv: srv, conn: conn, reqs: reqs}
}

// run starts a data plane on the server's stream and stops it when the test ends.
func (a *adsServer) run(t *testing.T) *dataplane.DataPlane {
	t.Helper()
	dp := dataplane.New("gw")
	stop := a.start(t, dp)
	t.Cleanup(func() {
		stop()
		require.NoError(t, dp.Close())
	})
	return dp
}

// start runs dp on the server's stream; the returned function stops it and checks Run
// returned nil.
func (a *adsServer) start(t *testing.T, dp *dataplane.DataPlane) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dp.Run(ctx, a.conn) }()
	return func() {
		cancel()
		require.NoError(t, <-done)
	}
}

// addr waits for listener name to be bound and returns its address.
func addr(t *testing.T, dp *dataplane.DataPlane, name string) net.Addr {
	t.Helper()
	var a net.Addr
	require.Eventually(t, func() bool { a = dp.Addr(name); return a != nil }, ioTimeout, pollInterval, "listener %s never bound", name)
	return a
}

// TestRunOverADS drives the data plane over a delta ADS stream from xds.Server:
// listeners, EDS and STRICT_DNS clusters, endpoint updates, the endpoint subscription
// following the clusters, and listener removal, all ACKed.
func TestRunOverADS(t *testing.T) {
	ads := newADSServer(t)
	a1, a2 := newBackend(t, "a.example", "a1"), newBackend(t, "a.example", "a2")
	b, c := newBackend(t, "b.example", "b"), newBackend(t, "c.example", "c")
	roots := a1.roots.Clone()
	roots.AddCert(a2.cert)
	res := &xds.Resources{
		Clusters:  []*clusterv3.Cluster{edsCluster("a.example"), dnsCluster("b.example", "localhost", b.port(), time.Hour)},
		Endpoints: []*endpointv3.ClusterLoadAssignment{loopback("a.example", a1.port())},
		Listeners: []*listenerv3.Listener{gatewayListener(t, "gw", sniChain(t, "a.example"), sniChain(t, "b.example"), catchAll(t))},
	}
	require.NoError(t, ads.srv.SetResources("gw", res))
	dp := ads.run(t)
	gw := addr(t, dp, "gw")
	waitStat(t, dp, "cluster.a.example.membership_total", dataplane.Equal(1))
	waitStat(t, dp, "cluster.b.example.membership_total", dataplane.AtLeast(1))
	requireRoute(t, gw, "a.example", roots, "a1")
	requireRoute(t, gw, "b.example", b.roots, "b")

	// New endpoints apply to new connections.
	res.Endpoints = []*endpointv3.ClusterLoadAssignment{loopback("a.example", a2.port())}
	require.NoError(t, ads.srv.SetResources("gw", res))
	waitStat(t, dp, "cluster.a.example.update_success", dataplane.Equal(2))
	requireRoute(t, gw, "a.example", roots, "a2")

	// A new EDS cluster is subscribed to, and the catch-all reaches it by SNI.
	res.Clusters = append(res.Clusters, edsCluster("c.example"))
	res.Endpoints = append(res.Endpoints, loopback("c.example", c.port()))
	require.NoError(t, ads.srv.SetResources("gw", res))
	waitStat(t, dp, "cluster.c.example.membership_total", dataplane.Equal(1))
	requireRoute(t, gw, "c.example", c.roots, "c")

	// A removed EDS cluster is unsubscribed from.
	res.Clusters = res.Clusters[:2]
	res.Endpoints = res.Endpoints[:1]
	require.NoError(t, ads.srv.SetResources("gw", res))
	require.Eventually(t, func() bool {
		return slices.Contains(ads.reqs.unsubscribed(resourcev3.EndpointType), "c.example")
	}, ioTimeout, pollInterval, "got no unsubscription from c.example")

	// A removed listener closes its socket.
	res.Listeners = nil
	require.NoError(t, ads.srv.SetResources("gw", res))
	waitStat(t, dp, "listener_manager.total_listeners_active", dataplane.Equal(0))
	_, err := net.DialTimeout("tcp", gw.String(), ioTimeout)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)

	for _, typ := range []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType} {
		assert.Empty(t, ads.reqs.nacks(typ), "got NACKs of %s, want none", typ)
	}
	assert.Equal(t, uint64(1), dp.Stat("control_plane.connected_state"))
}

// requireRoute checks that a TLS connection with SNI serverName reaches backend id.
func requireRoute(t *testing.T, gw net.Addr, serverName string, roots *x509.CertPool, id string) {
	t.Helper()
	got, err := exchange(gw, serverName, roots)
	require.NoError(t, err)
	assert.Equal(t, id, got, "got backend %s for %s, want %s", got, serverName, id)
}

// TestRunNACKs serves resources the data plane must refuse: each is NACKed with an
// error_detail the server receives, naming it, while the valid resources of the same
// responses are applied.
func TestRunNACKs(t *testing.T) {
	ads := newADSServer(t)
	a := newBackend(t, "a.example", "a")
	withTLS := edsCluster("tls.example")
	withTLS.TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typed(t, &tlsv3.UpstreamTlsContext{Sni: "tls.example"})}}
	unknownFilter := gatewayListener(t, "bad", catchAll(t))
	unknownFilter.FilterChains[0].Filters[1].GetTypedConfig().TypeUrl = resourcev3.APITypePrefix + "envoy.extensions.filters.network.echo.v3.Echo"
	ads.srv.SetResources("gw", &xds.Resources{
		Clusters:  []*clusterv3.Cluster{edsCluster("a.example"), edsCluster("h.example"), withTLS},
		Endpoints: []*endpointv3.ClusterLoadAssignment{loopback("a.example", a.port()), assignment("h.example", socketAddr("localhost", 1))},
		Listeners: []*listenerv3.Listener{gatewayListener(t, "gw", sniChain(t, "a.example")), unknownFilter},
	})
	dp := ads.run(t)

	tests := []struct {
		name, typ, rejected, accepted, stat string
	}{
		{name: "cluster with a TLS transport socket", typ: resourcev3.ClusterType, rejected: `cluster "tls.example": transport_socket`, accepted: `"a.example"`, stat: "cluster_manager.cds.update_rejected"},
		{name: "listener with an unknown filter", typ: resourcev3.ListenerType, rejected: `listener "bad": filter_chains[0].filters[1].typed_config: extension`, accepted: `"gw"`, stat: "listener_manager.lds.update_rejected"},
		{name: "endpoints with a hostname", typ: resourcev3.EndpointType, rejected: `endpoints "h.example"`, accepted: `"a.example"`, stat: "cluster.h.example.update_rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var nacks []string
			require.Eventually(t, func() bool { nacks = ads.reqs.nacks(tt.typ); return len(nacks) > 0 }, ioTimeout, pollInterval, "got no NACK")
			require.Len(t, nacks, 1)
			assert.Contains(t, nacks[0], tt.rejected)
			assert.NotContains(t, nacks[0], tt.accepted, "a valid resource must not be named in the NACK")
			assert.Equal(t, uint64(1), dp.Stat(tt.stat))
		})
	}
	requireRoute(t, addr(t, dp, "gw"), "a.example", a.roots, "a")
	assert.Nil(t, dp.Addr("bad"))
	assert.Equal(t, uint64(0), dp.Stat("cluster.tls.example.membership_total"), "a rejected cluster is never created")
	assert.NotContains(t, dp.Stats(), "cluster.tls.example.membership_total")
}

// TestRunResumes stops the stream, changes the resources, and runs again: the data plane
// announces the versions it holds and so learns of the removal it missed.
func TestRunResumes(t *testing.T) {
	ads := newADSServer(t)
	res := &xds.Resources{Listeners: []*listenerv3.Listener{gatewayListener(t, "gw", catchAll(t)), gatewayListener(t, "second", catchAll(t))}}
	require.NoError(t, ads.srv.SetResources("gw", res))
	dp := dataplane.New("gw")
	defer func() { require.NoError(t, dp.Close()) }()
	stop := ads.start(t, dp)
	addr(t, dp, "second")
	gw := addr(t, dp, "gw")
	stop()

	require.NoError(t, ads.srv.SetResources("gw", &xds.Resources{Listeners: res.Listeners[:1]}))
	stop = ads.start(t, dp)
	defer stop()
	require.Eventually(t, func() bool { return dp.Addr("second") == nil }, ioTimeout, pollInterval, "the missed removal never arrived")
	assert.Equal(t, gw, dp.Addr("gw"), "an unchanged listener keeps its socket")
	initial := ads.reqs.filter(resourcev3.ListenerType, func(q *discoveryv3.DeltaDiscoveryRequest) bool { return len(q.GetInitialResourceVersions()) > 0 })
	require.Len(t, initial, 1)
	assert.ElementsMatch(t, []string{"gw", "second"}, keysOf(initial[0].GetInitialResourceVersions()))
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

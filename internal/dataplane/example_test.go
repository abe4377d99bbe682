package dataplane_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	sniclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_cluster/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/peeringgw/peeringgw/internal/dataplane"
)

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}

// A listener with tls_inspector and the sni_cluster catch-all, on any free loopback
// port. A connection that is not TLS has no SNI, so the catch-all finds no cluster and
// closes it; the stats say so, under Envoy's names.
func Example() {
	dp := dataplane.New("mesh-gateway")
	defer dp.Close()
	l := &listenerv3.Listener{
		Name: "default:127.0.0.1:0",
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "127.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{}}}},
		ListenerFilters: []*listenerv3.ListenerFilter{{Name: "envoy.filters.listener.tls_inspector",
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(&tlsinspectorv3.TlsInspector{})}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{
			{Name: "envoy.filters.network.sni_cluster", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(&sniclusterv3.SniCluster{})}},
			{Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(&tcpproxyv3.TcpProxy{
				StatPrefix: "mesh_gateway_local.default", ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{}})}},
		}}},
	}
	if err := dp.Apply(nil, nil, []*listenerv3.Listener{l}); err != nil {
		fmt.Println(err)
		return
	}
	c, err := net.Dial("tcp", dp.Addr(l.Name).String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if _, err := c.Write([]byte("not TLS\n")); err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.Read(make([]byte, 1))
	fmt.Println("closed:", errors.Is(err, io.EOF))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	const noRoute = "tcp.mesh_gateway_local.default.downstream_cx_no_route"
	if err := dp.WaitStat(ctx, noRoute, dataplane.Equal(1)); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(noRoute, dp.Stat(noRoute))
	fmt.Println("tls_inspector.tls_not_found", dp.Stat("tls_inspector.tls_not_found"))
	// Output:
	// closed: true
	// tcp.mesh_gateway_local.default.downstream_cx_no_route 1
	// tls_inspector.tls_not_found 1
}

// A cluster with a TLS transport socket is refused: the gateway must never terminate or
// originate TLS, and the data plane never ignores what it does not implement.
func ExampleDataPlane_Apply() {
	dp := dataplane.New("mesh-gateway")
	defer dp.Close()
	c := &clusterv3.Cluster{
		Name:                 "server.dc2.peering.example.consul",
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}},
		TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls"},
	}
	err := dp.Apply([]*clusterv3.Cluster{c}, nil, nil)
	fmt.Println(errors.Is(err, dataplane.ErrNotImplemented))
	fmt.Println(err)
	// Output:
	// true
	// dataplane: cluster "server.dc2.peering.example.consul": transport_socket: dataplane: not implemented
}

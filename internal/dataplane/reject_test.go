package dataplane_test

import (
	"net"
	"syscall"
	"time"

	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/peeringgw/peeringgw/internal/dataplane"
)

// config is one configuration for Apply.
type config struct {
	clusters  []*clusterv3.Cluster
	endpoints []*endpointv3.ClusterLoadAssignment
	listeners []*listenerv3.Listener
}

// validConfig has one resource of each kind the data plane executes: listener "gw"
// with tls_inspector, an SNI chain and the catch-all; EDS cluster a.example with its
// endpoints; STRICT_DNS cluster b.example.
func validConfig(t *testing.T) *config {
	return &config{
		clusters:  []*clusterv3.Cluster{edsCluster("a.example"), dnsCluster("b.example", "localhost", 8443, time.Hour)},
		endpoints: []*endpointv3.ClusterLoadAssignment{loopback("a.example", 8443)},
		listeners: []*listenerv3.Listener{gatewayListener(t, "gw", sniChain(t, "a.example"), catchAll(t))},
	}
}

// TestRejects applies configurations that break one rule each, and checks that each is
// rejected with the right cause, names the resource, and changes nothing.
func TestRejects(t *testing.T) {
	tlsSocket := func(t *testing.T, m proto.Message) *corev3.TransportSocket {
		return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typed(t, m)}}
	}
	setTCPProxy := func(t *testing.T, c *config, tp *tcpproxyv3.TcpProxy) {
		c.listeners[0].FilterChains[0].Filters[0].GetTypedConfig().Value = typed(t, tp).Value
	}
	edsOnly := func(c *config) *clusterv3.Cluster { return c.clusters[0] }
	dnsOnly := func(c *config) *clusterv3.Cluster { return c.clusters[1] }
	lbEndpoint := func(c *config) *endpointv3.LbEndpoint { return c.endpoints[0].Endpoints[0].LbEndpoints[0] }
	tests := []struct {
		name     string
		mutate   func(t *testing.T, c *config)
		want     error
		resource string
	}{
		// Listeners.
		{name: "TLS transport socket on a filter chain", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(t *testing.T, c *config) {
			c.listeners[0].FilterChains[0].TransportSocket = tlsSocket(t, &tlsv3.DownstreamTlsContext{})
		}},
		{name: "unknown network filter", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].FilterChains[0].Filters[0].GetTypedConfig().TypeUrl = resourcev3.APITypePrefix + "envoy.extensions.filters.network.echo.v3.Echo"
		}},
		{name: "listener filter used as a network filter", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(t *testing.T, c *config) {
			c.listeners[0].FilterChains[0].Filters[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: typed(t, &tlsinspectorv3.TlsInspector{})}
		}},
		{name: "unknown listener filter", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].ListenerFilters[0].GetTypedConfig().TypeUrl = resourcev3.APITypePrefix + "envoy.extensions.filters.listener.original_dst.v3.OriginalDst"
		}},
		{name: "tls_inspector option", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(t *testing.T, c *config) {
			c.listeners[0].ListenerFilters[0].ConfigType = &listenerv3.ListenerFilter_TypedConfig{
				TypedConfig: typed(t, &tlsinspectorv3.TlsInspector{EnableJa3Fingerprinting: wrapperspb.Bool(true)})}
		}},
		{name: "tcp_proxy idle_timeout", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(t *testing.T, c *config) {
			setTCPProxy(t, c, &tcpproxyv3.TcpProxy{StatPrefix: "p", ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "a.example"}, IdleTimeout: durationpb.New(time.Minute)})
		}},
		{name: "tcp_proxy without stat_prefix", want: dataplane.ErrInvalid, resource: "gw", mutate: func(t *testing.T, c *config) {
			setTCPProxy(t, c, &tcpproxyv3.TcpProxy{ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "a.example"}})
		}},
		{name: "unknown field in a typed config", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(_ *testing.T, c *config) {
			a := c.listeners[0].FilterChains[0].Filters[0].GetTypedConfig()
			a.Value = append(a.Value, 0xf8, 0x06, 0x01) // field 111, varint 1
		}},
		{name: "filter without typed_config", want: dataplane.ErrInvalid, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].FilterChains[0].Filters[0].ConfigType = nil
		}},
		{name: "filter chain match on destination_port", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].FilterChains[0].FilterChainMatch.DestinationPort = wrapperspb.UInt32(8443)
		}},
		{name: "filter chain match on transport_protocol", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].FilterChains[0].FilterChainMatch.TransportProtocol = "tls"
		}},
		{name: "server name \"*\"", want: dataplane.ErrInvalid, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].FilterChains[0].FilterChainMatch.ServerNames = []string{"*"}
		}},
		{name: "partial wildcard server name", want: dataplane.ErrInvalid, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].FilterChains[0].FilterChainMatch.ServerNames = []string{"*w.example"}
		}},
		{name: "overlapping server names", want: dataplane.ErrInvalid, resource: "gw", mutate: func(t *testing.T, c *config) {
			c.listeners[0].FilterChains = append(c.listeners[0].FilterChains, sniChain(t, "a.example"))
		}},
		{name: "two chains without a match", want: dataplane.ErrInvalid, resource: "gw", mutate: func(t *testing.T, c *config) {
			c.listeners[0].FilterChains = append(c.listeners[0].FilterChains, catchAll(t))
		}},
		{name: "tcp_proxy not last", want: dataplane.ErrInvalid, resource: "gw", mutate: func(t *testing.T, c *config) {
			fs := c.listeners[0].FilterChains[1].Filters
			fs[0], fs[1] = fs[1], fs[0]
		}},
		{name: "no terminal filter", want: dataplane.ErrInvalid, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].FilterChains[1].Filters = c.listeners[0].FilterChains[1].Filters[:1]
		}},
		{name: "filter chain name", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].FilterChains[0].Name = "a"
		}},
		{name: "default_filter_chain", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(t *testing.T, c *config) {
			c.listeners[0].DefaultFilterChain = catchAll(t)
		}},
		{name: "listener stat_prefix", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].StatPrefix = "gw"
		}},
		{name: "listener bound to a hostname", want: dataplane.ErrInvalid, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].Address.GetSocketAddress().Address = "localhost"
		}},
		{name: "UDP listener", want: dataplane.ErrNotImplemented, resource: "gw", mutate: func(_ *testing.T, c *config) {
			c.listeners[0].Address.GetSocketAddress().Protocol = corev3.SocketAddress_UDP
		}},
		{name: "duplicate listener", want: dataplane.ErrInvalid, resource: "gw", mutate: func(t *testing.T, c *config) {
			c.listeners = append(c.listeners, gatewayListener(t, "gw", catchAll(t)))
		}},
		// Clusters.
		{name: "TLS transport socket on a cluster", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(t *testing.T, c *config) {
			edsOnly(c).TransportSocket = tlsSocket(t, &tlsv3.UpstreamTlsContext{Sni: "a.example"})
		}},
		{name: "STATIC cluster", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			edsOnly(c).ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
		}},
		{name: "cluster without a type is STATIC", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			edsOnly(c).ClusterDiscoveryType = nil
		}},
		{name: "lb_policy", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			edsOnly(c).LbPolicy = clusterv3.Cluster_LEAST_REQUEST
		}},
		{name: "outlier detection settings", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			edsOnly(c).OutlierDetection.Consecutive_5Xx = wrapperspb.UInt32(3)
		}},
		{name: "circuit breaker max_retries", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			edsOnly(c).CircuitBreakers = &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{MaxRetries: wrapperspb.UInt32(3)}}}
		}},
		{name: "EDS from a file", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			edsOnly(c).EdsClusterConfig.EdsConfig.ConfigSourceSpecifier = &corev3.ConfigSource_PathConfigSource{PathConfigSource: &corev3.PathConfigSource{Path: "/eds.yaml"}}
		}},
		{name: "EDS service_name", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			edsOnly(c).EdsClusterConfig.ServiceName = "other"
		}},
		{name: "EDS cluster with inline endpoints", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			edsOnly(c).LoadAssignment = loopback("a.example", 8443)
		}},
		{name: "STRICT_DNS with dns_lookup_family AUTO", want: dataplane.ErrNotImplemented, resource: "b.example", mutate: func(_ *testing.T, c *config) {
			dnsOnly(c).DnsLookupFamily = clusterv3.Cluster_AUTO
		}},
		{name: "LOGICAL_DNS with two endpoints", want: dataplane.ErrInvalid, resource: "b.example", mutate: func(_ *testing.T, c *config) {
			dnsOnly(c).ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_LOGICAL_DNS}
			dnsOnly(c).LoadAssignment = assignment("b.example", socketAddr("localhost", 1), socketAddr("localhost", 2))
		}},
		{name: "zero connect_timeout", want: dataplane.ErrInvalid, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			edsOnly(c).ConnectTimeout = durationpb.New(0)
		}},
		// Endpoints.
		{name: "EDS endpoint with a hostname", want: dataplane.ErrInvalid, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			lbEndpoint(c).GetEndpoint().Address.GetSocketAddress().Address = "localhost"
		}},
		{name: "endpoint health status", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			lbEndpoint(c).HealthStatus = corev3.HealthStatus_HEALTHY
		}},
		{name: "endpoint weight", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			lbEndpoint(c).LoadBalancingWeight = wrapperspb.UInt32(2)
		}},
		{name: "locality", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			c.endpoints[0].Endpoints[0].Locality = &corev3.Locality{Zone: "a"}
		}},
		{name: "priority", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			c.endpoints[0].Endpoints[0].Priority = 1
		}},
		{name: "load assignment policy", want: dataplane.ErrNotImplemented, resource: "a.example", mutate: func(_ *testing.T, c *config) {
			c.endpoints[0].Policy = &endpointv3.ClusterLoadAssignment_Policy{}
		}},
		{name: "endpoints without a name", want: dataplane.ErrInvalid, resource: "", mutate: func(_ *testing.T, c *config) {
			c.endpoints[0].ClusterName = ""
		}},
	}
	dp := dataplane.New("gw")
	defer func() { require.NoError(t, dp.Close()) }()
	good := validConfig(t)
	require.NoError(t, dp.Apply(good.clusters, good.endpoints, good.listeners))
	bound := dp.Addr("gw")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(t)
			tt.mutate(t, c)
			c.listeners = append(c.listeners, gatewayListener(t, "new", catchAll(t)))
			err := dp.Apply(c.clusters, c.endpoints, c.listeners)
			require.ErrorIs(t, err, tt.want)
			var re *dataplane.ResourceError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.resource, re.Name, "got the rejection of %q, want %q", re.Name, tt.resource)
			assert.Nil(t, dp.Addr("new"), "a rejected configuration must change nothing")
			assert.Equal(t, bound, dp.Addr("gw"))
		})
	}
}

// TestRejectsBindFailure: a listener that cannot bind rejects the whole configuration.
func TestRejectsBindFailure(t *testing.T) {
	dp := dataplane.New("gw")
	defer func() { require.NoError(t, dp.Close()) }()
	c := validConfig(t)
	require.NoError(t, dp.Apply(c.clusters, c.endpoints, c.listeners))
	taken := gatewayListener(t, "taken", catchAll(t))
	taken.Address.GetSocketAddress().PortSpecifier = &corev3.SocketAddress_PortValue{PortValue: uint32(dp.Addr("gw").(*net.TCPAddr).Port)}
	fresh := gatewayListener(t, "fresh", catchAll(t))
	err := dp.Apply(c.clusters, c.endpoints, append(c.listeners, fresh, taken))
	require.ErrorIs(t, err, syscall.EADDRINUSE)
	var re *dataplane.ResourceError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "taken", re.Name)
	assert.Nil(t, dp.Addr("fresh"), "the listeners bound for a rejected configuration are released")
}

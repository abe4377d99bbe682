package xds

import (
	"net"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/anypb"

	// The typed configs below are encoded here; importing their packages registers the
	// types, so that protojson and Envoy-side tooling can resolve them.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_cluster/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"

	"github.com/peeringgw/peeringgw/gateway"
)

// Names and type URLs of the Envoy extensions a peering listener uses.
const (
	tcpProxyName        = "envoy.filters.network.tcp_proxy"
	sniClusterName      = "envoy.filters.network.sni_cluster"
	tlsInspectorName    = "envoy.filters.listener.tls_inspector"
	typePrefix          = "type.googleapis.com/"
	tcpProxyTypeURL     = typePrefix + "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
	sniClusterTypeURL   = typePrefix + "envoy.extensions.filters.network.sni_cluster.v3.SniCluster"
	tlsInspectorTypeURL = typePrefix + "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
)

// Stat prefixes of the peering filter chains, as Consul names them.
const (
	acceptStatPrefix   = "mesh_gateway_local_peering_server."
	peerStatPrefix     = "mesh_gateway_remote_peering_servers."
	catchAllStatPrefix = "mesh_gateway_local."
)

// Field numbers of envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.
const (
	tcpProxyStatPrefixField = 1
	tcpProxyClusterField    = 2
)

// chainBox holds the messages of one single-filter SNI chain.
type chainBox struct {
	fc      listenerv3.FilterChain
	match   listenerv3.FilterChainMatch
	names   [1]string
	filters [1]*listenerv3.Filter
	filter  listenerv3.Filter
	typed   listenerv3.Filter_TypedConfig
	any     anypb.Any
}

// sniChain returns the filter chain that matches SNI serverName and proxies TCP to the
// cluster of the same name, counting under statPrefix+statName.
func (a *arena) sniChain(serverName, statPrefix, statName string) *listenerv3.FilterChain {
	b := a.chains.next()
	b.any.TypeUrl = tcpProxyTypeURL
	b.any.Value = a.tcpProxy(statPrefix, statName, serverName)
	b.typed.TypedConfig = &b.any
	b.filter.Name = tcpProxyName
	b.filter.ConfigType = &b.typed
	b.filters[0] = &b.filter
	b.names[0] = serverName
	b.match.ServerNames = b.names[:]
	b.fc.FilterChainMatch = &b.match
	b.fc.Filters = b.filters[:]
	return &b.fc
}

// tcpProxy encodes TcpProxy{stat_prefix: statPrefix+statName, cluster: cluster} and
// returns the bytes. The encoding is the one proto.Marshal produces (fields in number
// order; the cluster is a oneof member, so it is written even when empty); a test
// checks this.
func (a *arena) tcpProxy(statPrefix, statName, cluster string) []byte {
	statLen := len(statPrefix) + len(statName)
	need := 2 + protowire.SizeVarint(uint64(statLen)) + statLen + protowire.SizeVarint(uint64(len(cluster))) + len(cluster)
	b := a.bytes.grow(need)
	start := len(b)
	b = protowire.AppendTag(b, tcpProxyStatPrefixField, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(statLen))
	b = append(b, statPrefix...)
	b = append(b, statName...)
	b = protowire.AppendTag(b, tcpProxyClusterField, protowire.BytesType)
	b = protowire.AppendString(b, cluster)
	return a.bytes.commit(b, start)
}

// statSafe makes a name usable inside a stat prefix the way Consul does: ':' becomes '_'.
// Server names are checked DNS names, so only names built from bind names need it.
func statSafe(name string) string {
	if strings.IndexByte(name, ':') < 0 {
		return name
	}
	return strings.ReplaceAll(name, ":", "_")
}

// catchAllChain is the last chain of every gateway listener: no match, and the
// sni_cluster filter picks the cluster named by the SNI for the tcp_proxy that follows,
// counting under stat.
func (a *arena) catchAllChain(stat string) *listenerv3.FilterChain {
	tcp := &anypb.Any{TypeUrl: tcpProxyTypeURL, Value: a.tcpProxy(stat, "", "")}
	return &listenerv3.FilterChain{Filters: []*listenerv3.Filter{
		{Name: sniClusterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: &anypb.Any{TypeUrl: sniClusterTypeURL}}},
		{Name: tcpProxyName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: tcp}},
	}}
}

// tlsInspector is the one listener filter: it reads the SNI without terminating TLS.
var tlsInspector = &listenerv3.ListenerFilter{
	Name:       tlsInspectorName,
	ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: &anypb.Any{TypeUrl: tlsInspectorTypeURL}},
}

// listenerName is Consul's name for a gateway listener: "<bind>:<address>:<port>", or
// with joinHostPort (Consul 1.21.2 and later) "<bind>:" + net.JoinHostPort(address,
// port), which brackets an IPv6 address.
func listenerName(b gateway.Bind, joinHostPort bool) string {
	if joinHostPort {
		return b.Name + ":" + net.JoinHostPort(b.Address, strconv.Itoa(b.Port))
	}
	return b.Name + ":" + b.Address + ":" + strconv.Itoa(b.Port)
}

// buildListener returns the Listener of l with the given chains.
func buildListener(l *Listener, chains []*listenerv3.FilterChain) *listenerv3.Listener {
	return &listenerv3.Listener{
		Name: l.Name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address:       l.Address,
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: l.Port},
		}}},
		FilterChains:    chains,
		ListenerFilters: []*listenerv3.ListenerFilter{tlsInspector},
	}
}

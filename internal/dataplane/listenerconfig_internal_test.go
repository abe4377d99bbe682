package dataplane

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
)

// chainFor returns a filter chain whose tcp_proxy stat prefix is stat, matching names.
func chainFor(t *testing.T, stat string, names ...string) *listenerv3.FilterChain {
	a, err := anypb.New(&tcpproxyv3.TcpProxy{StatPrefix: stat, ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: stat}})
	require.NoError(t, err)
	fc := &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}}}
	if len(names) > 0 {
		fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: names}
	}
	return fc
}

// TestMatch checks filter chain selection on server_names as Envoy does it: exact name
// first, then the longest wildcard suffix, then the chain without server_names.
func TestMatch(t *testing.T) {
	chains := []*listenerv3.FilterChain{
		chainFor(t, "exact", "a.b.example.com", "other.example"),
		chainFor(t, "wild_b", "*.b.example.com"),
		chainFor(t, "wild", "*.example.com"),
	}
	addr := &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: "127.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8443}}}}
	withFallback, err := compileListener(&listenerv3.Listener{Name: "l", Address: addr, FilterChains: append(chains, chainFor(t, "fallback"))})
	require.NoError(t, err)
	without, err := compileListener(&listenerv3.Listener{Name: "l", Address: addr, FilterChains: chains})
	require.NoError(t, err)
	tests := []struct {
		name, sni, want, wantWithout string
	}{
		{name: "exact beats wildcards", sni: "a.b.example.com", want: "exact", wantWithout: "exact"},
		{name: "second exact name", sni: "other.example", want: "exact", wantWithout: "exact"},
		{name: "longest wildcard wins", sni: "x.b.example.com", want: "wild_b", wantWithout: "wild_b"},
		{name: "wildcard matches any depth", sni: "x.y.b.example.com", want: "wild_b", wantWithout: "wild_b"},
		{name: "shorter wildcard", sni: "x.example.com", want: "wild", wantWithout: "wild"},
		{name: "a wildcard does not match its bare suffix", sni: "example.com", want: "fallback"},
		{name: "no match", sni: "x.example.org", want: "fallback"},
		{name: "no SNI", sni: "", want: "fallback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, statOf(withFallback.match(tt.sni)), "got chain %s, want %s", statOf(withFallback.match(tt.sni)), tt.want)
			assert.Equal(t, tt.wantWithout, statOf(without.match(tt.sni)), "without a fallback chain")
		})
	}
}

func statOf(c *chainSpec) string {
	if c == nil {
		return ""
	}
	return c.statPrefix
}

// TestImplementedFieldsExist guards the field table against typos, which would reject
// a field that is meant to be executed.
func TestImplementedFieldsExist(t *testing.T) {
	for msg, names := range implemented {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(msg)
		require.NoError(t, err, "message %s", msg)
		md, ok := d.(protoreflect.MessageDescriptor)
		require.True(t, ok, "%s is not a message", msg)
		for name := range names {
			assert.NotNil(t, md.Fields().ByName(name), "got no field %s in %s", name, msg)
		}
	}
}

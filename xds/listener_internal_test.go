package xds

import (
	"testing"

	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// TestTCPProxyEncoding checks the hand-assembled TcpProxy bytes against proto.Marshal.
func TestTCPProxyEncoding(t *testing.T) {
	long := make([]byte, 300) // forces a two-byte length varint
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		name                          string
		statPrefix, statName, cluster string
	}{
		{name: "peer chain", statPrefix: peerStatPrefix, statName: "server.dc2.peering.td", cluster: "server.dc2.peering.td"},
		{name: "catch-all has an empty cluster", statPrefix: catchAllStatPrefix, statName: "default", cluster: ""},
		{name: "long names", statPrefix: peerStatPrefix, statName: string(long), cluster: string(long)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a arena
			got := a.tcpProxy(tt.statPrefix, tt.statName, tt.cluster)
			want, err := proto.MarshalOptions{Deterministic: true}.Marshal(&tcpproxyv3.TcpProxy{
				StatPrefix:       tt.statPrefix + tt.statName,
				ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: tt.cluster},
			})
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}

func TestSlabNeverMovesValues(t *testing.T) {
	var s slab[int]
	s.reserve(2)
	ptrs := []*int{s.next(), s.next(), s.next()}
	for i, p := range ptrs {
		*p = i + 1
	}
	for i, p := range ptrs {
		require.Equal(t, i+1, *p, "value %d", i)
	}
	require.NotSame(t, ptrs[0], ptrs[1])
	got := s.take(3)
	require.Len(t, got, 3)
	require.Equal(t, 3, cap(got), "take must leave no spare capacity")
}

package e2e_test

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/e2e"
	"github.com/peeringgw/peeringgw/xds"
)

const (
	accept   = "server.dc1.peering.td1.consul"
	peer     = "server.dc2.peering.td2.consul"
	exported = "exported~web.default.dc1.internal.td1.consul"
)

func TestIsPeeringServerName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "accept side", in: accept, want: true},
		{name: "no suffix", in: "server.dc1.peering.td", want: true},
		{name: "exported service", in: exported},
		{name: "service SNI", in: "web.default.default.dc1-to-dc2.external.td1.consul"},
		{name: "WAN federation server", in: "node1.server.dc1.consul"},
		{name: "remote datacenter gateway", in: "dc2.internal.td1.consul"},
		{name: "empty datacenter", in: "server..peering.td"},
		{name: "dotted datacenter", in: "server.a.b.peering.td"},
		{name: "empty trust domain", in: "server.dc1.peering."},
		{name: "no server prefix", in: "servers.dc1.peering.td"},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e2e.IsPeeringServerName(tt.in)
			assert.Equal(t, tt.want, got, "got %t for %q, want %t", got, tt.in, tt.want)
		})
	}
}

func TestPeeringOnly(t *testing.T) {
	in := &xds.Resources{
		Clusters:  []*clusterv3.Cluster{{Name: exported}, {Name: accept}, {Name: peer}},
		Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: exported}, {ClusterName: accept}},
		Listeners: []*listenerv3.Listener{{
			Name: "default:127.0.0.1:8443",
			FilterChains: []*listenerv3.FilterChain{
				chain(exported), chain(accept), chain(peer), chain(accept, exported), chain(),
			},
		}},
	}
	got, removed := e2e.PeeringOnly(in)

	assert.Equal(t, []string{accept, peer}, clusterNames(got), "got clusters %v", clusterNames(got))
	require.Len(t, got.Endpoints, 1, "got %d endpoints, want the accept side's", len(got.Endpoints))
	assert.Equal(t, accept, got.Endpoints[0].GetClusterName())
	require.Len(t, got.Listeners, 1)
	var matches [][]string
	for _, fc := range got.Listeners[0].GetFilterChains() {
		matches = append(matches, fc.GetFilterChainMatch().GetServerNames())
	}
	assert.Equal(t, [][]string{{accept}, {peer}, nil}, matches, "got chains matching %v, want accept, peer and catch-all in order", matches)

	want := e2e.Removed{
		Clusters:  []string{exported},
		Endpoints: []string{exported},
		Chains: []string{
			"default:127.0.0.1:8443 [" + exported + "]",
			"default:127.0.0.1:8443 [" + accept + " " + exported + "]",
		},
	}
	assert.Equal(t, want, removed)
	assert.False(t, removed.Empty(), "got removed empty, want the exported service's resources")
	assert.Len(t, in.Listeners[0].GetFilterChains(), 5, "got the input's listener changed, want it untouched")
}

func TestNormalizeConsul(t *testing.T) {
	logical := &clusterv3.Cluster{Name: peer, ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_LOGICAL_DNS}}
	other := &clusterv3.Cluster{Name: exported, ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_LOGICAL_DNS}}
	eds := &clusterv3.Cluster{Name: accept, ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}}
	tests := []struct {
		name string
		in   *clusterv3.Cluster
		want clusterv3.Cluster_DiscoveryType
	}{
		{name: "hostname peer becomes STRICT_DNS", in: logical, want: clusterv3.Cluster_STRICT_DNS},
		{name: "other LOGICAL_DNS cluster kept", in: other, want: clusterv3.Cluster_LOGICAL_DNS},
		{name: "EDS kept", in: eds, want: clusterv3.Cluster_EDS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.in.GetType()
			got := e2e.NormalizeConsul(&xds.Resources{Clusters: []*clusterv3.Cluster{tt.in}})
			require.Len(t, got.Clusters, 1)
			assert.Equal(t, tt.want, got.Clusters[0].GetType(), "got type %s, want %s", got.Clusters[0].GetType(), tt.want)
			assert.Equal(t, before, tt.in.GetType(), "got the input changed, want it untouched")
		})
	}
}

func TestDiff(t *testing.T) {
	a := &xds.Resources{Clusters: []*clusterv3.Cluster{{Name: accept}}}
	b := &xds.Resources{Clusters: []*clusterv3.Cluster{{Name: peer}}}
	tests := []struct {
		name      string
		want, got *xds.Resources
		same      bool
	}{
		{name: "equal", want: a, got: &xds.Resources{Clusters: []*clusterv3.Cluster{{Name: accept}}}, same: true},
		{name: "different", want: a, got: b},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff, err := e2e.Diff(tt.want, tt.got)
			require.NoError(t, err)
			assert.Equal(t, tt.same, diff == "", "got diff %q", diff)
		})
	}
}

// chain returns a filter chain matching serverNames, or the catch-all when there are none.
func chain(serverNames ...string) *listenerv3.FilterChain {
	if len(serverNames) == 0 {
		return &listenerv3.FilterChain{}
	}
	return &listenerv3.FilterChain{FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: serverNames}}
}

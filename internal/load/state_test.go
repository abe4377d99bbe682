package load_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/xds"
)

// TestState checks the generated State: n+1 clusters and endpoints, one listener, no
// diagnostics, and that setting a peer's other addresses changes its endpoints only.
func TestState(t *testing.T) {
	tests := []struct {
		name  string
		peers int
	}{
		{name: "none", peers: 0},
		{name: "one", peers: 1},
		{name: "many", peers: 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := xds.NewBuilder()
			state := load.State(tt.peers)
			b.Set(state)
			res := b.Resources()
			assert.Empty(t, b.Diagnostics(), "got diagnostics %v, want none", b.Diagnostics())
			assert.Len(t, res.Clusters, tt.peers+1, "got %d clusters, want %d", len(res.Clusters), tt.peers+1)
			assert.Len(t, res.Endpoints, tt.peers+1, "got %d endpoints, want %d", len(res.Endpoints), tt.peers+1)
			assert.Len(t, res.Listeners, 1, "got %d listeners, want 1", len(res.Listeners))
			if tt.peers == 0 {
				return
			}
			i := tt.peers / 2
			ch := b.Set(load.WithPeering(state, load.Peering(i, true)))
			require.Len(t, ch.Endpoints, 1, "got %d changed endpoints, want 1", len(ch.Endpoints))
			assert.Equal(t, load.PeerServerName(i), ch.Endpoints[0].GetClusterName())
			assert.Empty(t, ch.Clusters, "got changed clusters, want none")
			assert.Empty(t, ch.Listeners, "got changed listeners, want none")
		})
	}
}

// TestPeerAddresses checks that the two address sets of a peer differ and stay within
// the peer's own /24.
func TestPeerAddresses(t *testing.T) {
	tests := []struct {
		i    int
		alt  bool
		want []string
	}{
		{i: 0, want: []string{"10.0.0.1:8443", "10.0.0.2:8443", "10.0.0.3:8443"}},
		{i: 0, alt: true, want: []string{"10.0.0.101:8443", "10.0.0.102:8443", "10.0.0.103:8443"}},
		{i: 9999, want: []string{"10.39.15.1:8443", "10.39.15.2:8443", "10.39.15.3:8443"}},
	}
	for _, tt := range tests {
		got := load.PeerAddresses(tt.i, tt.alt)
		assert.Equal(t, tt.want, got, "peer %d alt %t: got %v, want %v", tt.i, tt.alt, got, tt.want)
	}
}

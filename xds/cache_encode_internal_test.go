package xds

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/peeringgw/peeringgw/internal/load"
)

// encodedCount returns how many of c's entries are encoded.
func encodedCount(c *typeCache) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.entries {
		if e.any != nil {
			n++
		}
	}
	return n
}

// TestApplyEncodesWhenSent: the resources of a Builder's changes are encoded only when
// a response first carries them. A client that reconnects holding the current versions
// (from this process or another replica) costs no encoding; a new client gets the
// resources encoded once, with the Builder's versions.
func TestApplyEncodesWhenSent(t *testing.T) {
	const node = "mesh-gateway"
	srv := NewServer(t.Context())
	b := NewBuilder()
	require.NoError(t, srv.Apply(node, b.Set(load.State(50))))
	clusters := srv.lookup(node).byType[resourcev3.ClusterType]
	versions := srv.Versions(node)[resourcev3.ClusterType]
	require.Len(t, versions, 51)
	require.Zero(t, encodedCount(clusters), "got resources encoded before any client asked")

	current := newCacheClient(clusters, nil, versions)
	current.step() // the empty answer that initialises a delta stream
	require.Zero(t, current.sent, "got resources sent to a client holding every current version")
	require.Zero(t, encodedCount(clusters), "got resources encoded for a client that holds them")
	current.cancel()

	fresh := newCacheClient(clusters, nil, nil)
	require.True(t, fresh.step(), "got no response for a new client")
	require.Equal(t, versions, fresh.held, "got other versions than the Server's")
	require.Equal(t, 51, encodedCount(clusters))
	for _, e := range clusters.entries {
		require.Nil(t, e.res, "entry %s keeps its message once encoded", e.name)
	}
	fresh.cancel()

	// What the Server returns is what it sent: the Builder's resources.
	got, err := srv.Resources(node)
	require.NoError(t, err)
	want, _ := Build(load.State(50))
	require.Equal(t, len(want.Clusters), len(got.Clusters))
	for i := range want.Clusters {
		require.True(t, proto.Equal(want.Clusters[i], got.Clusters[i]), "cluster %s", want.Clusters[i].GetName())
	}
}

// TestApplyReplacedResource: a resource put in a Builder's Changes in place of the one
// it built does not take that one's version; the Server versions it by its encoding.
func TestApplyReplacedResource(t *testing.T) {
	const node = "mesh-gateway"
	ch := NewBuilder().Set(load.State(3))
	built := ch.Clusters[0]
	other := proto.Clone(built).(*clusterv3.Cluster)
	other.ConnectTimeout = durationpb.New(9 * time.Second)
	ch.Clusters[0] = other

	srv := NewServer(t.Context())
	require.NoError(t, srv.Apply(node, ch))
	b, err := cachev3.MarshalResource(other)
	require.NoError(t, err)
	got := srv.Versions(node)[resourcev3.ClusterType]
	require.Equal(t, cachev3.HashResource(b), got[other.GetName()], "got the version of the resource it replaced")
	require.Len(t, got[ch.Clusters[1].GetName()], 16, "got no Builder version for an unchanged one")
}

package xds

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/durationpb"
)

// cacheClient plays a delta stream against a typeCache the way go-control-plane's
// delta server drives a cache: a response replaces the subscription's map with the
// next one; each request first cancels the open watch.
type cacheClient struct {
	c      *typeCache
	sub    stream.Subscription
	out    chan cachev3.DeltaResponse
	cancel func()
	held   map[string]string // what the client holds, from the responses it got
	sent   int               // resources received
}

func newCacheClient(c *typeCache, subscribe []string, initial map[string]string) *cacheClient {
	cl := &cacheClient{c: c, out: make(chan cachev3.DeltaResponse, 1), held: maps.Clone(initial)}
	if cl.held == nil {
		cl.held = map[string]string{}
	}
	cl.sub = stream.NewDeltaSubscription(subscribe, nil, maps.Clone(initial), true)
	cl.cancel = c.createDelta(&cachev3.DeltaRequest{TypeUrl: c.typeURL, ResourceNamesSubscribe: subscribe,
		InitialResourceVersions: initial}, cl.sub, cl.out)
	return cl
}

// step takes a pending response, if any, and acknowledges it; it reports whether there
// was one.
func (cl *cacheClient) step() bool {
	select {
	case r := <-cl.out:
		resp, err := r.GetDeltaDiscoveryResponse()
		if err != nil {
			panic(err)
		}
		for _, res := range resp.GetResources() {
			cl.held[res.GetName()] = res.GetVersion()
			cl.sent++
		}
		for _, name := range resp.GetRemovedResources() {
			delete(cl.held, name)
		}
		cl.sub.SetReturnedResources(r.GetNextVersionMap())
		cl.cancel()
		cl.cancel = cl.c.createDelta(&cachev3.DeltaRequest{TypeUrl: cl.c.typeURL, ResponseNonce: "n"}, cl.sub, cl.out)
		return true
	default:
		return false
	}
}

// want returns what the client must hold once it has taken every response.
func (cl *cacheClient) want() map[string]string {
	out := map[string]string{}
	for name, e := range cl.c.entries {
		if wants(cl.sub, name) {
			out[name] = e.version
		}
	}
	return out
}

func testCluster(name string, content int) types.Resource {
	return &clusterv3.Cluster{Name: name, ConnectTimeout: durationpb.New(time.Duration(content+1) * time.Millisecond)}
}

// randomUpdate changes, adds or deletes a few of 40 names.
func randomUpdate(rng *rand.Rand) (map[string]types.Resource, []string) {
	upd := map[string]types.Resource{}
	var del []string
	for range 1 + rng.IntN(4) {
		name := "c" + strconv.Itoa(rng.IntN(40))
		if rng.IntN(4) == 0 {
			del = append(del, name)
		} else {
			upd[name] = testCluster(name, rng.IntN(3))
		}
	}
	return upd, del
}

// unversioned returns the resources of m as items a cache encodes to version them.
func unversioned(m map[string]types.Resource) []item {
	out := make([]item, 0, len(m))
	for name, r := range m {
		out = append(out, item{name: name, res: r})
	}
	return out
}

// randomItems returns the resources of m as items, each with a version derived from its
// content, as a Builder gives them (encoded when first sent), or none (encoded now),
// at random.
func randomItems(r *rand.Rand, m map[string]types.Resource) []item {
	out := unversioned(m)
	for i := range out {
		if r.IntN(2) == 0 {
			b, err := cachev3.MarshalResource(out[i].res)
			if err != nil {
				panic(err)
			}
			out[i].version = "v" + cachev3.HashResource(b)[:12]
		}
	}
	return out
}

// TestCacheDeltaProperty: whatever the order of updates, acknowledgements (many
// updates apart, beyond the cache's log too) and reconnections with the versions held,
// a delta client ends holding exactly the current version of every resource it asks
// for, and a reconnection with everything current receives nothing.
func TestCacheDeltaProperty(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 7))
		c := newTypeCache(resourcev3.ClusterType)
		var subscribe []string
		if rng.IntN(2) == 0 {
			for i := range 40 {
				if rng.IntN(2) == 0 {
					subscribe = append(subscribe, "c"+strconv.Itoa(i))
				}
			}
		}
		cl := newCacheClient(c, subscribe, nil)
		for step := range 200 {
			switch r := rng.IntN(10); {
			case r < 5:
				upd, del := randomUpdate(rng)
				require.NoError(t, c.update(randomItems(rng, upd), del))
			case r < 6 && step > 100:
				for range logSize + 1 { // the client lags beyond the log
					upd, del := randomUpdate(rng)
					require.NoError(t, c.update(randomItems(rng, upd), del))
				}
			case r < 7:
				cl.cancel()
				cl = newCacheClient(c, subscribe, cl.held)
			default:
				cl.step()
			}
		}
		for cl.step() {
		}
		require.Equal(t, cl.want(), cl.held, "seed %d: the client holds other versions than the cache's", seed)
		again := newCacheClient(c, subscribe, cl.held)
		again.step()
		require.Zero(t, again.sent, "seed %d: a client reconnecting with every version current received resources", seed)
	}
}

// TestCacheAckCostsTheChange: after a response, an acknowledgement costs the names
// changed since, not every name the stream holds: the cache's revision note in the
// stream's map lets it skip the rest.
func TestCacheAckCostsTheChange(t *testing.T) {
	c := newTypeCache(resourcev3.ClusterType)
	all := map[string]types.Resource{}
	for i := range 1000 {
		name := fmt.Sprintf("c%04d", i)
		all[name] = testCluster(name, 0)
	}
	require.NoError(t, c.set(unversioned(all)))
	cl := newCacheClient(c, nil, nil)
	require.True(t, cl.step())
	require.Len(t, cl.held, 1000)

	// One change is sent to the waiting stream; a second comes before its
	// acknowledgement, which then costs that name alone.
	require.NoError(t, c.update(unversioned(map[string]types.Resource{"c0007": testCluster("c0007", 1)}), nil))
	require.NoError(t, c.update(unversioned(map[string]types.Resource{"c0500": testCluster("c0500", 1)}), nil))
	require.Equal(t, []string{"c0500"}, c.since(cl.sub.ReturnedResources()), "names changed since the client's last response")
	require.True(t, cl.step())
	require.True(t, cl.step())
	require.Equal(t, 1002, cl.sent, "got %d resources sent in all, want the 1,000 and the two changes", cl.sent)
	require.Equal(t, []string{}, c.since(cl.sub.ReturnedResources()), "the client is current")

	other := newTypeCache(resourcev3.ClusterType)
	require.Nil(t, other.since(cl.sub.ReturnedResources()), "another cache's note is not taken")
}

// TestCacheSotWReplicas: two caches given the same resources in a different order of
// updates serve the same state-of-the-world version; a new stream that names that
// version receives nothing until something changes, and then the change; a stream with
// another version receives everything.
func TestCacheSotWReplicas(t *testing.T) {
	a, b := newTypeCache(resourcev3.ClusterType), newTypeCache(resourcev3.ClusterType)
	require.NoError(t, a.set(unversioned(map[string]types.Resource{"x": testCluster("x", 0), "y": testCluster("y", 1)})))
	require.NoError(t, b.update(unversioned(map[string]types.Resource{"y": testCluster("y", 1)}), nil))
	require.NoError(t, b.update(unversioned(map[string]types.Resource{"x": testCluster("x", 5), "z": testCluster("z", 0)}), nil))
	require.NoError(t, b.update(unversioned(map[string]types.Resource{"x": testCluster("x", 0)}), []string{"z"}))
	require.Equal(t, a.version(), b.version())

	out := make(chan cachev3.Response, 1)
	sub := stream.NewSotwSubscription(nil, true)
	cancel := b.createSotw(&cachev3.Request{TypeUrl: b.typeURL, VersionInfo: a.version()}, sub, out)
	require.Empty(t, out, "a stream holding the current version got a response")
	require.NoError(t, b.update(unversioned(map[string]types.Resource{"y": testCluster("y", 2)}), nil))
	require.Len(t, out, 1, "the change was not sent")
	resp, err := (<-out).GetDiscoveryResponse()
	require.NoError(t, err)
	require.Len(t, resp.GetResources(), 2, "a state-of-the-world cluster response carries every cluster")
	require.Equal(t, b.version(), resp.GetVersionInfo())
	cancel()

	stale := stream.NewSotwSubscription(nil, true)
	b.createSotw(&cachev3.Request{TypeUrl: b.typeURL, VersionInfo: a.version()}, stale, out)
	require.Len(t, out, 1, "a stream holding an old version got nothing")
}

// TestCacheSotWNamedGetsAgain: a new state-of-the-world stream that names its
// resources receives them even with the current version, as it may have added a name
// it never received.
func TestCacheSotWNamedGetsAgain(t *testing.T) {
	c := newTypeCache(resourcev3.EndpointType)
	require.NoError(t, c.set(unversioned(map[string]types.Resource{"x": testCluster("x", 0), "y": testCluster("y", 0)})))
	out := make(chan cachev3.Response, 1)
	c.createSotw(&cachev3.Request{TypeUrl: c.typeURL, VersionInfo: c.version(), ResourceNames: []string{"x", "y"}},
		stream.NewSotwSubscription([]string{"x", "y"}, true), out)
	require.Len(t, out, 1)
	resp, err := (<-out).GetDiscoveryResponse()
	require.NoError(t, err)
	require.Len(t, resp.GetResources(), 2)
}

// TestCacheSotWDroppedResponse: go-control-plane's state-of-the-world server drops a
// queued response of a type when the stream sends a new request of that type; the
// next watch must send the change again.
func TestCacheSotWDroppedResponse(t *testing.T) {
	c := newTypeCache(resourcev3.EndpointType)
	require.NoError(t, c.set(unversioned(map[string]types.Resource{"x": testCluster("x", 0)})))
	out := make(chan cachev3.Response, 1)
	sub := stream.NewSotwSubscription([]string{"x"}, true)
	c.createSotw(&cachev3.Request{TypeUrl: c.typeURL, ResourceNames: []string{"x"}}, &sub, out)
	first := <-out
	sub.SetReturnedResources(first.GetReturnedResources())
	cancel := c.createSotw(&cachev3.Request{TypeUrl: c.typeURL, VersionInfo: first.(*sotwResponse).version, ResourceNames: []string{"x"}}, &sub, out)

	require.NoError(t, c.update(unversioned(map[string]types.Resource{"x": testCluster("x", 1)}), nil))
	require.Len(t, out, 1)
	<-out // dropped: the stream never hears of it
	cancel()
	c.createSotw(&cachev3.Request{TypeUrl: c.typeURL, VersionInfo: first.(*sotwResponse).version, ResourceNames: []string{"x"}}, &sub, out)
	require.Len(t, out, 1, "the change was lost with the dropped response")
}

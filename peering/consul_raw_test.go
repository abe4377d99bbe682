package peering_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/consulsim"
	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/peering"
)

// withoutStreamStatus returns copies of ps without what Consul computes on every read.
func withoutStreamStatus(ps []peering.Peering) []peering.Peering {
	out := make([]peering.Peering, len(ps))
	for i, p := range ps {
		p.StreamStatus = api.PeeringStreamStatus{}
		out[i] = p
	}
	return out
}

// newSimSources returns the sources of NewConsulSources for sim.
func newSimSources(t *testing.T, sim *consulsim.Server, opts ...peering.ConsulOption) peering.Sources {
	t.Helper()
	src, err := peering.NewConsulSources(sim.Config(), consulsim.GatewayID, append([]peering.ConsulOption{peering.WithWaitTime(testWaitTime)}, opts...)...)
	require.NoError(t, err)
	return src
}

func TestNewConsulSourcesReadsWhatConsulSourcesRead(t *testing.T) {
	for _, ent := range []bool{false, true} {
		t.Run(map[bool]string{false: "community edition", true: "enterprise"}[ent], func(t *testing.T) {
			var opts []consulsim.Option
			if ent {
				opts = append(opts, consulsim.WithEnterprise())
			}
			sim := consulsim.New(t, 20, opts...)
			got, err := newSimSources(t, sim).Read(t.Context())
			require.NoError(t, err)
			want, err := peering.ConsulSources(sim.Client(), consulsim.GatewayID).Read(t.Context())
			require.NoError(t, err)
			got.Peerings, want.Peerings = withoutStreamStatus(got.Peerings), withoutStreamStatus(want.Peerings)
			assert.Equal(t, want, got, "got a State that differs from ConsulSources'")
			require.Len(t, got.Peerings, 20, "got %d peerings, want 20", len(got.Peerings))
			assert.Equal(t, "127.0.0.1", got.Agent.BindAddr, "got agent bind address %q", got.Agent.BindAddr)
			assert.NotEmpty(t, got.Agent.Version, "got no agent version")
			assert.Nil(t, got.ServiceDefaults, "got a service-defaults entry, want none")
			p := got.Peerings[0]
			assert.Equal(t, load.Peering(0, false).PeerServerAddresses, p.PeerServerAddresses, "got addresses %v", p.PeerServerAddresses)
			if ent {
				assert.Equal(t, "default", p.Partition, "got partition %q, want default", p.Partition)
			}
		})
	}
}

func TestConsulPeeringsDecodeWhatChanged(t *testing.T) {
	const n = 50
	sim := consulsim.New(t, n)
	src := newSimSources(t, sim).Peerings
	ctx := t.Context()
	first, v, err := src.Read(ctx, peering.Version{})
	require.NoError(t, err)
	decoded, reused := peering.DecodeCounts(src)
	require.Equal(t, n, decoded, "got %d entries decoded by the first read, want %d", decoded, n)
	require.Zero(t, reused, "got %d entries reused by the first read, want none", reused)

	byName := func(ps []peering.Peering) map[string]peering.Peering {
		m := map[string]peering.Peering{}
		for _, p := range ps {
			m[p.Name] = p
		}
		return m
	}
	steps := []struct {
		name            string
		change          func() bool
		decoded, reused int
		length          int
		check           func(t *testing.T, before, after map[string]peering.Peering)
	}{
		{
			name: "one peering's addresses", change: func() bool { return sim.SetPeeringAddresses(7, true) },
			decoded: 1, reused: n - 1, length: n,
			check: func(t *testing.T, before, after map[string]peering.Peering) {
				assert.Equal(t, load.PeerAddresses(7, true), after["peer-7"].PeerServerAddresses, "got the old addresses of peer-7")
				// An unchanged peering is the value read before, shared, not a copy.
				assert.Same(t, &before["peer-8"].PeerServerAddresses[0], &after["peer-8"].PeerServerAddresses[0],
					"got peer-8 decoded again, want the value read before")
			},
		},
		{
			name: "a peering added", change: func() bool { return sim.AddPeering(n) },
			decoded: 1, reused: n, length: n + 1,
			check: func(t *testing.T, _, after map[string]peering.Peering) {
				assert.Contains(t, after, "peer-50", "got no peer-50 after adding it")
			},
		},
		{
			name: "a peering removed", change: func() bool { return sim.RemovePeering(3) },
			decoded: 0, reused: n, length: n,
			check: func(t *testing.T, _, after map[string]peering.Peering) {
				assert.NotContains(t, after, "peer-3", "got peer-3 after removing it")
				assert.Equal(t, n, peering.CachedPeerings(src), "got %d cached entries, want %d: a removed one is dropped", peering.CachedPeerings(src), n)
			},
		},
	}
	prev := first
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			d0, r0 := peering.DecodeCounts(src)
			require.True(t, st.change(), "got the change refused")
			got, next, err := src.Read(ctx, v)
			require.NoError(t, err)
			assert.NotEqual(t, v, next, "got the same version after a change")
			d1, r1 := peering.DecodeCounts(src)
			assert.Equal(t, st.decoded, d1-d0, "got %d entries decoded, want %d", d1-d0, st.decoded)
			assert.Equal(t, st.reused, r1-r0, "got %d entries reused, want %d", r1-r0, st.reused)
			assert.Len(t, got, st.length, "got %d peerings, want %d", len(got), st.length)
			st.check(t, byName(prev), byName(got))
			prev, v = got, next
		})
	}

	t.Run("state reconciled on read", func(t *testing.T) {
		// Consul reports a peering FAILING once its stream broke, without a write: no
		// index moves, but a read returns the new State.
		require.True(t, sim.SetPeeringState(9, api.PeeringStateFailing), "got peer-9 missing")
		d0, _ := peering.DecodeCounts(src)
		got, _, err := src.Read(ctx, peering.Version{})
		require.NoError(t, err)
		d1, _ := peering.DecodeCounts(src)
		assert.Equal(t, 1, d1-d0, "got %d entries decoded, want the one whose State changed", d1-d0)
		assert.Equal(t, api.PeeringStateFailing, byName(got)["peer-9"].State, "got the State read before")
	})
}

func TestConsulPeeringsGzip(t *testing.T) {
	sim := consulsim.New(t, 30)
	var (
		mu        sync.Mutex
		encodings = map[bool][]string{}
	)
	read := func(gzip bool) []peering.Peering {
		// The transport under the sources sees the answers as they come.
		rec := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err == nil && r.URL.Path == "/v1/peerings" {
				mu.Lock()
				encodings[gzip] = append(encodings[gzip], resp.Header.Get("Content-Encoding"))
				mu.Unlock()
			}
			return resp, err
		})
		cfg := sim.Config()
		cfg.HttpClient = &http.Client{Transport: rec}
		src, err := peering.NewConsulSources(cfg, consulsim.GatewayID, peering.WithGzip(gzip))
		require.NoError(t, err)
		ps, _, err := src.Peerings.Read(t.Context(), peering.Version{})
		require.NoError(t, err)
		return withoutStreamStatus(ps)
	}
	plain, compressed := read(false), read(true)
	assert.Equal(t, plain, compressed, "got other peerings with gzip")
	assert.Equal(t, []string{""}, encodings[false], "got encodings %q without gzip, want none", encodings[false])
	assert.Equal(t, []string{"gzip"}, encodings[true], "got encodings %q with gzip, want gzip", encodings[true])
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestConsulPeeringsMalformedAnswer(t *testing.T) {
	good := `[{"ID":"a","Name":"p1","ModifyIndex":5,"PeerServerAddresses":["10.0.0.1:8443"]}]`
	var (
		mu   sync.Mutex
		body = good
	)
	f, _ := startFakeConsul(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/agent/self" {
			answer(200, `{"Config":{"Version":"1.14.8"}}`)(w, r)
			return
		}
		mu.Lock()
		b := body
		mu.Unlock()
		answer(200, b, "X-Consul-Index", "9")(w, r)
	})
	src, err := peering.NewConsulSources(f.Config(), gatewayID)
	require.NoError(t, err)
	want, _, err := src.Peerings.Read(t.Context(), peering.Version{})
	require.NoError(t, err)

	for _, bad := range []string{
		`[{"ID":"a","Name":"p1","ModifyIndex":6,"PeerServerAddresses":"10.0.0.1:8443"}]`,
		`[{"ID":"a","Name":"p1","ModifyIndex":6,`,
	} {
		mu.Lock()
		body = bad
		mu.Unlock()
		_, _, err := src.Peerings.Read(t.Context(), peering.Version{})
		var le *peering.PeeringListError
		require.ErrorAs(t, err, &le)
		assert.NotErrorIs(t, err, peering.ErrUnreachable, "got %v, want a malformed answer not to be unreachable", err)
		assert.Equal(t, 0, le.Entry, "got entry %d, want 0", le.Entry)
		t.Log(err)
	}
	mu.Lock()
	body = good
	mu.Unlock()
	d0, r0 := peering.DecodeCounts(src.Peerings)
	got, _, err := src.Peerings.Read(t.Context(), peering.Version{})
	require.NoError(t, err)
	d1, r1 := peering.DecodeCounts(src.Peerings)
	assert.Equal(t, want, got, "got other peerings after malformed answers")
	assert.Equal(t, [2]int{0, 1}, [2]int{d1 - d0, r1 - r0}, "got %d decoded and %d reused, want the cache kept", d1-d0, r1-r0)
}

func TestPeeringDecoder(t *testing.T) {
	entry := func(id, name string, index int, addr string) string {
		b, err := json.Marshal(api.Peering{ID: id, Name: name, ModifyIndex: uint64(index), PeerServerAddresses: []string{addr}})
		require.NoError(t, err)
		return string(b)
	}
	list := func(entries ...string) []byte { return []byte("[" + strings.Join(entries, ",") + "]") }
	a1, b1 := entry("a", "p1", 5, "10.0.0.1:1"), entry("b", "p2", 6, "10.0.0.2:1")

	tests := []struct {
		name            string
		first, second   []byte
		decoded, reused int // by the second decode
		entry           int // of the error of the second, or -2 for none
		want            []string
	}{
		{name: "unchanged", first: list(a1, b1), second: list(a1, b1), reused: 2, entry: -2, want: []string{"10.0.0.1:1", "10.0.0.2:1"}},
		{
			name: "one changed", first: list(a1, b1), second: list(a1, entry("b", "p2", 7, "10.0.0.9:1")),
			decoded: 1, reused: 1, entry: -2, want: []string{"10.0.0.1:1", "10.0.0.9:1"},
		},
		{
			name: "reordered", first: list(a1, b1), second: list(b1, a1),
			reused: 2, entry: -2, want: []string{"10.0.0.2:1", "10.0.0.1:1"},
		},
		{
			// Consul never lists a peering twice; if it did, both are decoded as they are.
			name: "duplicate identity", first: list(a1), second: list(a1, entry("a", "p1", 5, "10.0.0.7:1")),
			decoded: 1, reused: 1, entry: -2, want: []string{"10.0.0.1:1", "10.0.0.7:1"},
		},
		{name: "null list", first: list(a1), second: []byte("null"), entry: -2, want: []string{}},
		{name: "null entry", first: list(a1), second: list("null", a1), reused: 1, entry: -2, want: []string{"10.0.0.1:1"}},
		{name: "malformed entry", first: list(a1), second: list(a1, `{"ID":"b","Name":"p2","ModifyIndex":"x"}`), reused: 1, entry: 1},
		{name: "entry not an object", first: list(a1), second: list(a1, `"p2"`), reused: 1, entry: 1},
		{name: "not a list", first: list(a1), second: []byte(`{"ID":"a"}`), entry: -1},
		{name: "truncated", first: list(a1), second: list(a1, b1)[:len(a1)+10], reused: 1, entry: 1},
		{name: "data after the list", first: list(a1), second: append(list(a1), " []"...), reused: 1, entry: -1},
		{name: "empty", first: list(a1), second: nil, entry: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d peering.PeeringDecoder
			first, err := d.Decode(tt.first)
			require.NoError(t, err)
			d0, r0 := d.Counts()
			got, err := d.Decode(tt.second)
			d1, r1 := d.Counts()
			assert.Equal(t, [2]int{tt.decoded, tt.reused}, [2]int{d1 - d0, r1 - r0}, "got %d decoded and %d reused", d1-d0, r1-r0)
			if tt.entry != -2 {
				var le *peering.PeeringListError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, tt.entry, le.Entry, "got entry %d, want %d: %v", le.Entry, tt.entry, err)
				t.Log(err)
				// The cache is what it was: the first answer decodes from it alone.
				again, err := d.Decode(tt.first)
				require.NoError(t, err)
				assert.Equal(t, first, again, "got another result for the first answer after an error")
				d2, _ := d.Counts()
				assert.Equal(t, d1, d2, "got %d entries decoded again after an error, want none", d2-d1)
				return
			}
			require.NoError(t, err)
			addrs := []string{}
			for _, p := range got {
				addrs = append(addrs, p.PeerServerAddresses...)
			}
			assert.Equal(t, tt.want, addrs, "got addresses %v, want %v", addrs, tt.want)
		})
	}

	t.Run("names encoding/json folds are never reused", func(t *testing.T) {
		var d peering.PeeringDecoder
		body := []byte(`[{"ID":"a","Name":"p1","ModifyIndex":5,"modifyindex":6}]`)
		_, err := d.Decode(body)
		require.NoError(t, err)
		_, err = d.Decode(body)
		require.NoError(t, err)
		decoded, reused := d.Counts()
		assert.Equal(t, [2]int{2, 0}, [2]int{decoded, reused}, "got %d decoded and %d reused", decoded, reused)
	})

	t.Run("a malformed answer listing an entry twice keeps the cache", func(t *testing.T) {
		var d peering.PeeringDecoder
		_, err := d.Decode(list(a1))
		require.NoError(t, err)
		_, err = d.Decode(append(list(a1, a1), '['))
		require.Error(t, err)
		before, _ := d.Counts()
		_, err = d.Decode(list(a1))
		require.NoError(t, err)
		after, _ := d.Counts()
		assert.Equal(t, before, after, "got %d entries decoded, want the cached one reused", after-before)
	})

	t.Run("error names the entry", func(t *testing.T) {
		var d peering.PeeringDecoder
		_, err := d.Decode([]byte(`[{"ID":"x1","Partition":"team-a","Name":"p9","ModifyIndex":"x"}]`))
		want := `peering: malformed peering 0 "p9" in partition "team-a" (ID x1) at byte 1: `
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), want), "got %q, want it to start with %q", err, want)
		var le *peering.PeeringListError
		require.ErrorAs(t, err, &le)
		assert.ErrorContains(t, le.Err, "ModifyIndex", "got %v, want the decoder's error wrapped", le.Err)
	})
}

func TestWatcherOnNewConsulSources(t *testing.T) {
	const n = 200
	sim := consulsim.New(t, n)
	src := newSimSources(t, sim)
	_, rec, _ := runWatcher(t, src, fastOpts(0)...)
	first := rec.waitState(t, fakeWait, "every part", complete)
	require.Len(t, first.Peerings, n, "got %d peerings, want %d", len(first.Peerings), n)

	sim.SetPeeringAddresses(5, true)
	changed := func(s *peering.State) bool {
		for _, p := range s.Peerings {
			if p.Name == "peer-5" {
				return p.PeerServerAddresses[0] == load.PeerAddresses(5, true)[0]
			}
		}
		return false
	}
	second := rec.waitState(t, fakeWait, "peer-5's new addresses", changed)
	assert.Same(t, first.Gateway, second.Gateway, "got the gateway copied, want it shared")
	shared := 0
	for i := range second.Peerings {
		if &second.Peerings[i].PeerServerAddresses[0] == &first.Peerings[i].PeerServerAddresses[0] {
			shared++
		}
	}
	assert.Equal(t, n-1, shared, "got %d peerings sharing their values with the first State, want %d", shared, n-1)
	for i, s := range rec.States() {
		assert.True(t, complete(s) && len(s.Peerings) == n, "got State %d partial: %d peerings", i, len(s.Peerings))
	}
}

func TestNewConsulSourcesBadConfig(t *testing.T) {
	_, err := peering.NewConsulSources(nil, gatewayID)
	require.ErrorIs(t, err, peering.ErrBadConfig)
	_, err = peering.NewConsulSources(&api.Config{Address: "ftp://127.0.0.1:1"}, gatewayID)
	require.ErrorIs(t, err, peering.ErrBadConfig)

	// An unreachable agent is a typed error, as with ConsulSources.
	src, err := peering.NewConsulSources(&api.Config{Address: "127.0.0.1:1", HttpClient: &http.Client{Timeout: time.Second}}, gatewayID)
	require.NoError(t, err)
	_, _, err = src.Peerings.Read(t.Context(), peering.Version{})
	require.ErrorIs(t, err, peering.ErrUnreachable)
}

package consulsim_test

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/internal/consulsim"
	"github.com/peeringgw/peeringgw/internal/load"
	"github.com/peeringgw/peeringgw/peering"
)

// get requests path with headers (name, value pairs) and returns the answer and its body,
// decompressed if it came compressed.
func get(t *testing.T, s *consulsim.Server, path string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "identity")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		require.NoError(t, err)
		r = zr
	}
	body, err := io.ReadAll(r)
	require.NoError(t, err)
	return resp, body
}

func TestServerServesTheLoadState(t *testing.T) {
	const n = 25
	s := consulsim.New(t, n)
	got, err := peering.ConsulSources(s.Client(), consulsim.GatewayID).Read(t.Context())
	require.NoError(t, err)
	want := load.State(n)

	assert.Equal(t, want.Datacenter, got.Datacenter, "got datacenter %q", got.Datacenter)
	assert.Equal(t, want.TrustDomain, got.TrustDomain, "got trust domain %q", got.TrustDomain)
	assert.Equal(t, want.Gateway, got.Gateway, "got another gateway")
	assert.Equal(t, want.Servers, got.Servers, "got other servers")
	require.NotNil(t, got.MeshConfig, "got no mesh entry")
	assert.Equal(t, want.MeshConfig.Peering, got.MeshConfig.Peering, "got another Peering block")
	require.Len(t, got.Peerings, n, "got %d peerings, want %d", len(got.Peerings), n)
	for _, p := range got.Peerings {
		i, err := strconv.Atoi(p.Name[len("peer-"):])
		require.NoError(t, err)
		w := load.Peering(i, false)
		assert.Equal(t, [5]any{w.ID, w.PeerServerName, w.PeerServerAddresses, w.State, w.ModifyIndex},
			[5]any{p.ID, p.PeerServerName, p.PeerServerAddresses, p.State, p.ModifyIndex}, "got peering %s unlike load.Peering(%d)", p.Name, i)
		assert.NotEmpty(t, p.PeerID, "got no peer ID")
		assert.Len(t, p.PeerCAPems, 1, "got %d CA certificates, want 1", len(p.PeerCAPems))
		assert.NotNil(t, p.StreamStatus.LastHeartbeat, "got no heartbeat time")
		assert.Equal(t, "dc"+strconv.Itoa(i+2), p.Remote.Datacenter, "got remote datacenter %q", p.Remote.Datacenter)
	}

	// What the resources depend on: the peer servers a gateway routes to.
	gotTargets, gotIssues := peering.DialTargets(got.Peerings)
	wantTargets, wantIssues := peering.DialTargets(want.Peerings)
	assert.Equal(t, wantTargets, gotTargets, "got other dial targets than load.State's")
	assert.Equal(t, wantIssues, gotIssues, "got other issues than load.State's")
}

func TestServerStreamStatusChangesOnEveryRead(t *testing.T) {
	s := consulsim.New(t, 2)
	_, first := get(t, s, "/v1/peerings")
	time.Sleep(time.Millisecond)
	_, second := get(t, s, "/v1/peerings")
	require.NotEqual(t, first, second, "got the same answer twice, want fresh StreamStatus times")
	require.Len(t, second, len(first), "got answers of other lengths, want fixed-width times")
	var a, b []api.Peering
	require.NoError(t, json.Unmarshal(first, &a))
	require.NoError(t, json.Unmarshal(second, &b))
	assert.True(t, b[0].StreamStatus.LastHeartbeat.After(*a[0].StreamStatus.LastHeartbeat), "got heartbeat %v after %v", b[0].StreamStatus.LastHeartbeat, a[0].StreamStatus.LastHeartbeat)
	for i := range a {
		a[i].StreamStatus, b[i].StreamStatus = api.PeeringStreamStatus{}, api.PeeringStreamStatus{}
	}
	assert.Equal(t, a, b, "got answers that differ in more than StreamStatus")
}

func TestServerBlockingQueries(t *testing.T) {
	s := consulsim.New(t, 3)
	tests := []struct {
		name   string
		path   string
		header string // the header holding the version
		param  string // the parameter sending it back
		change func()
	}{
		{name: "peerings", path: "/v1/peerings", header: "X-Consul-Index", param: "index", change: func() { s.SetPeeringAddresses(1, true) }},
		{name: "mesh entry", path: "/v1/config/mesh", header: "X-Consul-Index", param: "index", change: func() { s.SetMeshConfig(nil) }},
		{name: "servers", path: "/v1/health/service/consul", header: "X-Consul-Index", param: "index", change: func() { s.SetServers(load.State(0).Servers[:1]) }},
		{
			name: "gateway", path: "/v1/agent/service/" + consulsim.GatewayID, header: "X-Consul-ContentHash", param: "hash",
			change: func() {
				g := *load.State(0).Gateway
				g.Port = 9443
				s.SetGateway(&g)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, s, tt.path)
			version := resp.Header.Get(tt.header)
			require.NotEmpty(t, version, "got no %s", tt.header)

			// A quiet wait ends after wait with the same version.
			began := time.Now()
			resp, _ = get(t, s, tt.path+"?"+tt.param+"="+version+"&wait=50ms")
			assert.GreaterOrEqual(t, time.Since(began), 50*time.Millisecond, "got an answer before the wait elapsed")
			assert.Equal(t, version, resp.Header.Get(tt.header), "got another version without a change")

			// A change wakes a blocked query.
			done := make(chan *http.Response, 1)
			go func() {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+tt.path+"?"+tt.param+"="+version+"&wait=10s", nil)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					_ = resp.Body.Close()
				}
				done <- resp
			}()
			time.Sleep(20 * time.Millisecond)
			tt.change()
			select {
			case resp := <-done:
				require.NotNil(t, resp, "got no answer")
				assert.NotEqual(t, version, resp.Header.Get(tt.header), "got the same version after a change")
			case <-time.After(5 * time.Second):
				t.Fatal("got no answer 5 s after a change, want the blocked query woken")
			}
			_, after := get(t, s, tt.path)
			assert.NotEqual(t, body, after, "got the same data after a change")
		})
	}
}

func TestServerGatewayDeregistered(t *testing.T) {
	s := consulsim.New(t, 0)
	s.SetGateway(nil)
	resp, body := get(t, s, "/v1/agent/service/"+consulsim.GatewayID)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "got %d, want 404", resp.StatusCode)
	assert.Contains(t, string(body), "unknown service ID", "got %q", body)
	resp, _ = get(t, s, "/v1/agent/service/other")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "got %d for another ID, want 404", resp.StatusCode)
}

func TestServerEditions(t *testing.T) {
	ce := consulsim.New(t, 2)
	resp, body := get(t, ce, "/v1/peerings?partition=*")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "got %d from CE for partition=*, want 400", resp.StatusCode)
	assert.Contains(t, string(body), "Partitions are a Consul Enterprise feature", "got %q", body)
	_, self := get(t, ce, "/v1/agent/self")
	assert.Contains(t, string(self), `"Version":"1.14.8"`, "got %s", self)

	ent := consulsim.New(t, 2, consulsim.WithEnterprise())
	resp, body = get(t, ent, "/v1/peerings?partition=*")
	require.Equal(t, http.StatusOK, resp.StatusCode, "got %d from Enterprise for partition=*, want 200", resp.StatusCode)
	var ps []api.Peering
	require.NoError(t, json.Unmarshal(body, &ps))
	require.Len(t, ps, 2, "got %d peerings, want 2", len(ps))
	assert.Equal(t, "default", ps[0].Partition, "got partition %q, want default", ps[0].Partition)
	_, body = get(t, ent, "/v1/peerings?partition=team-a")
	assert.Equal(t, "[]", string(body), "got %s for an empty partition, want []", body)
	_, self = get(t, ent, "/v1/agent/self")
	assert.Contains(t, string(self), `"Version":"1.14.8+ent"`, "got %s", self)
}

func TestServerGzip(t *testing.T) {
	s := consulsim.New(t, 10)
	resp, zipped := get(t, s, "/v1/peerings", "Accept-Encoding", "gzip")
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"), "got encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	resp, plain := get(t, s, "/v1/peerings")
	assert.Empty(t, resp.Header.Get("Content-Encoding"), "got encoding %q without asking, want none", resp.Header.Get("Content-Encoding"))
	assert.Len(t, zipped, len(plain), "got a decompressed answer of %d bytes, want %d", len(zipped), len(plain))
	// A small answer is not compressed, as Consul does.
	resp, _ = get(t, s, "/v1/agent/self", "Accept-Encoding", "gzip")
	assert.Empty(t, resp.Header.Get("Content-Encoding"), "got a small answer compressed")
}

func TestServerMutations(t *testing.T) {
	s := consulsim.New(t, 5)
	names := func() []string {
		_, body := get(t, s, "/v1/peerings")
		var ps []api.Peering
		require.NoError(t, json.Unmarshal(body, &ps))
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	index := s.Index()
	assert.True(t, s.AddPeering(10), "got peer 10 not added")
	assert.False(t, s.AddPeering(10), "got peer 10 added twice")
	assert.True(t, s.RemovePeering(2), "got peer 2 not removed")
	assert.False(t, s.RemovePeering(2), "got peer 2 removed twice")
	assert.False(t, s.SetPeeringAddresses(2, true), "got the addresses of a removed peering set")
	assert.Equal(t, index+2, s.Index(), "got index %d after two changes from %d", s.Index(), index)
	assert.Equal(t, []string{"peer-0", "peer-1", "peer-10", "peer-3", "peer-4"}, names(), "got peerings not listed by name")

	before := s.Reads(consulsim.Peerings)
	names()
	assert.Equal(t, before+1, s.Reads(consulsim.Peerings), "got reads counted %d, want %d", s.Reads(consulsim.Peerings), before+1)
	assert.True(t, s.SetPeeringState(1, api.PeeringStateFailing), "got peer 1 missing")
	assert.Equal(t, index+2, s.Index(), "got the index moved by a State reconciled on read")
}

// BenchmarkServePeerings measures what one answer of GET /v1/peerings with 10,000
// peerings costs the server and a client that reads it whole, uncompressed and
// compressed: the part of a client benchmark against the server that is the server's.
func BenchmarkServePeerings(b *testing.B) {
	s := consulsim.New(b, 10000)
	for _, enc := range []string{"identity", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, s.URL()+"/v1/peerings", nil)
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Accept-Encoding", enc)
				resp, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if err != nil || n == 0 {
					b.Fatalf("got %d bytes, %v", n, err)
				}
				b.SetBytes(n)
			}
		})
	}
}

package peering_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/peering"
)

// fakeConsul answers the HTTP API with canned responses and records the queries. It
// stands in for answers a Community Edition server on this machine never gives
// (Enterprise wildcards, ACL filtering of the mesh entry, indexes going backwards).
type fakeConsul struct {
	addr    string
	mu      sync.Mutex
	queries []url.Values
	answer  func(w http.ResponseWriter, r *http.Request)
}

func (f *fakeConsul) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.queries = append(f.queries, r.URL.Query())
	f.mu.Unlock()
	f.answer(w, r)
}

// Queries returns the query parameters of the requests so far.
func (f *fakeConsul) Queries() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.queries...)
}

// answer writes status, headers (name, value pairs) and body, with the headers every
// Consul answer has.
func answer(status int, body string, headers ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Consul-LastContact", "0")
		w.Header().Set("X-Consul-KnownLeader", "true")
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func startFakeConsul(t *testing.T, h func(http.ResponseWriter, *http.Request)) (*fakeConsul, *api.Client) {
	t.Helper()
	f := &fakeConsul{answer: h}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.addr = srv.Listener.Addr().String()
	c, err := api.NewClient(f.Config())
	require.NoError(t, err)
	return f, c
}

// Config returns a client configuration for the fake.
func (f *fakeConsul) Config() *api.Config {
	return &api.Config{Address: f.addr, Scheme: "http", Token: "fake-token"}
}

// consulPaths name the two ways to read Consul: ConsulSources with a client, and
// NewConsulSources with a configuration.
var consulPaths = []string{"client", "config"}

// sourcesFor returns the sources of f read the named way.
func sourcesFor(t *testing.T, path string, f *fakeConsul, c *api.Client, opts ...peering.ConsulOption) peering.Sources {
	t.Helper()
	if path == "client" {
		return peering.ConsulSources(c, gatewayID, opts...)
	}
	src, err := peering.NewConsulSources(f.Config(), gatewayID, opts...)
	require.NoError(t, err)
	return src
}

func TestConsulSourcesAnswers(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(http.ResponseWriter, *http.Request)
		read    func(ctx context.Context, s peering.Sources, after peering.Version) (any, peering.Version, error)
		after   peering.Version
		want    any
		version peering.Version
		err     error
		rule    string
		query   url.Values // parameters every request must carry
	}{
		{
			name:    "peerings of every partition",
			answer:  answer(200, `[{"Name":"p1","Partition":"team-a"}]`, "X-Consul-Index", "42"),
			read:    readPeeringNames,
			want:    []string{"team-a/p1"},
			version: peering.Version{Index: 42},
			query:   url.Values{"partition": {"*"}},
		},
		{
			name:    "blocking read sends index and wait",
			answer:  answer(200, `[]`, "X-Consul-Index", "43"),
			read:    readPeeringNames,
			after:   peering.Version{Index: 42},
			want:    []string(nil),
			version: peering.Version{Index: 43},
			query:   url.Values{"index": {"42"}, "wait": {"5000ms"}},
		},
		{
			name:    "index going backwards starts over",
			answer:  answer(200, `[]`, "X-Consul-Index", "7"),
			read:    readPeeringNames,
			after:   peering.Version{Index: 42},
			want:    []string(nil),
			version: peering.Version{Index: 1},
		},
		{
			name:    "index 0 becomes 1",
			answer:  answer(200, `[]`),
			read:    readPeeringNames,
			want:    []string(nil),
			version: peering.Version{Index: 1},
		},
		{
			name:   "mesh entry filtered by ACLs",
			answer: answer(200, `[]`, "X-Consul-Index", "5", "X-Consul-Results-Filtered-By-ACLs", "true"),
			read: func(ctx context.Context, s peering.Sources, after peering.Version) (any, peering.Version, error) {
				return s.MeshConfig.Read(ctx, after)
			},
			err:  peering.ErrPermissionDenied,
			rule: "mesh:read",
		},
		{
			name:    "mesh entry",
			answer:  answer(200, `[{"Kind":"mesh","Peering":{"PeerThroughMeshGateways":true}}]`, "X-Consul-Index", "9"),
			read:    readMeshFlag,
			want:    true,
			version: peering.Version{Index: 9},
		},
		{
			name:   "servers filtered by ACLs",
			answer: answer(200, `[]`, "X-Consul-Index", "5", "X-Consul-Results-Filtered-By-ACLs", "true"),
			read:   readServers,
			err:    peering.ErrPermissionDenied,
			rule:   "service:consul:read and node:read",
		},
		{
			// Consul hides filtering from the anonymous token; a cluster has a server.
			name:   "no server listed",
			answer: answer(200, `[]`, "X-Consul-Index", "5"),
			read:   readServers,
			err:    peering.ErrPermissionDenied,
			rule:   "service:consul:read and node:read",
		},
		{
			name:   "server error is neither unreachable nor denied",
			answer: answer(500, "No cluster leader"),
			read:   readServers,
			err:    api.StatusError{Code: 500, Body: "No cluster leader"},
		},
		{
			name:   "gateway blocks on its content hash",
			answer: answer(200, `{"ID":"mesh-gateway","Kind":"mesh-gateway"}`, "X-Consul-ContentHash", "abc2"),
			read: func(ctx context.Context, s peering.Sources, after peering.Version) (any, peering.Version, error) {
				g, v, err := s.Gateway.Read(ctx, after)
				if g == nil {
					return nil, v, err
				}
				return g.ID, v, err
			},
			after:   peering.Version{Hash: "abc1"},
			want:    "mesh-gateway",
			version: peering.Version{Hash: "abc2"},
			query:   url.Values{"hash": {"abc1"}, "wait": {"5000ms"}},
		},
		{
			name:   "gateway not registered",
			answer: answer(404, "unknown service ID: mesh-gateway"),
			read: func(ctx context.Context, s peering.Sources, after peering.Version) (any, peering.Version, error) {
				return s.Gateway.Read(ctx, after)
			},
			err: peering.ErrGatewayNotFound,
		},
		{
			name:   "datacenter cannot block",
			answer: answer(200, `{"Config":{"Datacenter":"east"}}`, "X-Consul-Index", "3"),
			read: func(ctx context.Context, s peering.Sources, after peering.Version) (any, peering.Version, error) {
				return s.Datacenter.Read(ctx, after)
			},
			after: peering.Version{Index: 2},
			want:  "east",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := startFakeConsul(t, tt.answer)
			for _, path := range consulPaths {
				src := sourcesFor(t, path, f, c, peering.WithWaitTime(testWaitTime))
				t.Run(path, func(t *testing.T) {
					got, version, err := tt.read(t.Context(), src, tt.after)
					if tt.err != nil {
						require.ErrorIs(t, err, tt.err)
						assert.NotErrorIs(t, err, peering.ErrUnreachable, "got %v, want Consul's answer", err)
						if tt.rule != "" {
							var pe *peering.PermissionError
							require.ErrorAs(t, err, &pe)
							assert.Equal(t, tt.rule, pe.Rule, "got rule %q, want %q", pe.Rule, tt.rule)
						}
						return
					}
					require.NoError(t, err)
					assert.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
					assert.Equal(t, tt.version, version, "got version %+v, want %+v", version, tt.version)
					for _, q := range f.Queries() {
						if len(q) == 0 {
							continue // the peerings source asks /v1/agent/self for the edition
						}
						for k, v := range tt.query {
							assert.Equal(t, v, q[k], "got %s=%v, want %v", k, q[k], v)
						}
					}
				})
			}
		})
	}
}

func readPeeringNames(ctx context.Context, s peering.Sources, after peering.Version) (any, peering.Version, error) {
	ps, v, err := s.Peerings.Read(ctx, after)
	var names []string
	for _, p := range ps {
		names = append(names, p.Key())
	}
	return names, v, err
}

func readServers(ctx context.Context, s peering.Sources, after peering.Version) (any, peering.Version, error) {
	return s.Servers.Read(ctx, after)
}

func readMeshFlag(ctx context.Context, s peering.Sources, after peering.Version) (any, peering.Version, error) {
	m, v, err := s.MeshConfig.Read(ctx, after)
	if m == nil || m.Peering == nil {
		return false, v, err
	}
	return m.Peering.PeerThroughMeshGateways, v, err
}

func TestConsulPeeringsCommunityEdition(t *testing.T) {
	// The agent says it is not Enterprise: no partition parameter is ever sent.
	for _, path := range consulPaths {
		t.Run(path, func(t *testing.T) {
			f, c := startFakeConsul(t, func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/v1/agent/self":
					answer(200, `{"Config":{"Datacenter":"dc1","Version":"1.14.8"}}`)(w, r)
				case r.URL.Query().Has("partition"):
					answer(400, `Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature`)(w, r)
				default:
					answer(200, `[{"Name":"p1"}]`, "X-Consul-Index", "8")(w, r)
				}
			})
			src := sourcesFor(t, path, f, c)
			for range 2 {
				got, _, err := readPeeringNames(t.Context(), src, peering.Version{})
				require.NoError(t, err)
				assert.Equal(t, []string{"default/p1"}, got, "got %v, want default/p1", got)
			}
			var withPartition int
			for _, q := range f.Queries() {
				if q.Has("partition") {
					withPartition++
				}
			}
			assert.Equal(t, 3, len(f.Queries()), "got %d requests for two reads, want 3 (agent/self once)", len(f.Queries()))
			assert.Equal(t, 0, withPartition, "got %d requests with a partition, want none", withPartition)
		})
	}
}

func TestConsulPeeringsWithoutPartitions(t *testing.T) {
	// The version is unknown (agent:read denied) and Community Edition refuses the
	// partition parameter with a 400.
	for _, path := range consulPaths {
		t.Run(path, func(t *testing.T) {
			f, c := startFakeConsul(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/agent/self" {
					answer(403, "Permission denied")(w, r)
					return
				}
				if r.URL.Query().Has("partition") {
					answer(400, `Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature`)(w, r)
					return
				}
				answer(200, `[{"Name":"p1"}]`, "X-Consul-Index", "8")(w, r)
			})
			src := sourcesFor(t, path, f, c)
			for range 2 {
				got, v, err := readPeeringNames(t.Context(), src, peering.Version{})
				require.NoError(t, err)
				assert.Equal(t, []string{"default/p1"}, got, "got %v, want default/p1", got)
				assert.Equal(t, peering.Version{Index: 8}, v, "got version %+v, want index 8", v)
			}
			var withPartition int
			for _, q := range f.Queries() {
				if q.Has("partition") {
					withPartition++
				}
			}
			assert.Equal(t, 4, len(f.Queries()), "got %d requests for two reads, want 4 (agent/self once)", len(f.Queries()))
			assert.Equal(t, 1, withPartition, "got %d requests with a partition, want only the first", withPartition)
		})
	}
}

func TestConsulSourcesCanceled(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	_, c := startFakeConsul(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-block:
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, _, err := peering.ConsulSources(c, gatewayID).Servers.Read(ctx, peering.Version{Index: 5})
		errc <- err
	}()
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.Is(err, peering.ErrUnreachable), "got %v, want a canceled read not to count as unreachable", err)
}
